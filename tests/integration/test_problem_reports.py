"""Problem reports (issue 22, item 4) against a real `labcm serve`: the upload URL labcm puts
in the SEP file, a report POSTed with curl the way a 78xx/88xx does (multipart/form-data:
devicename, serialno, username, prt_file), stored, listed by the CLI and the API, downloaded
byte for byte; refusals (a devicename that is no phone, no file part, not a form, too big)."""
import os
import re
import subprocess
import urllib.request

from labcm_test import LABCM, LabcmTestCase
from test_admin_api import PASSWORD, Admin

MAC = "0011220F0001"
PHONE = os.environ.get("LABCM_PHONE_BIN", os.path.join(os.path.dirname(LABCM), "labcm-phone"))


class ProblemReports(LabcmTestCase):
    def setUp(self):
        super().setUp()
        self.use_loopback_ports()
        self.ok("device", "add", f"SEP{MAC}", "--model", "8845", "--line", "1001")
        os.environ["LABCM_ADMIN_PASSWORD"] = PASSWORD
        self.addCleanup(os.environ.pop, "LABCM_ADMIN_PASSWORD", None)
        self.server = self.start_server()
        self.admin = Admin(self.admin_port)
        self.assertEqual(self.admin.login()[0], 200)

    def post(self, *form, url=None):
        """curl -F, as the phone posts its report; (status, body)."""
        args = ["curl", "-sS", "--max-time", "60", "-o", "-", "-w", "\n%{http_code}"]
        for f in form:
            args += ["-F", f]
        r = subprocess.run(args + [url or f"http://127.0.0.1:{self.http_port}/prt"], capture_output=True, timeout=90)
        body, _, code = r.stdout.rpartition(b"\n")
        return int(code or 0), body.decode(errors="replace")

    def test_a_report_posted_like_a_phone_is_stored_listed_and_downloaded(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/SEP{MAC}.cnf.xml", timeout=10) as r:
            config = r.read().decode()
        url = re.search(r"<problemReportUploadURL>([^<]*)</problemReportUploadURL>", config).group(1)
        self.assertRegex(url, rf"^http://[^/]+:{self.http_port}/prt$")
        archive = os.urandom(300_000)
        path = self.write_file("probrep-20141021-162840.tar.gz", "")
        with open(path, "wb") as f:
            f.write(archive)
        status, body = self.post(f"devicename=\nSEP{MAC}", "serialno=FCH12345ABC", "username=", f"prt_file=@{path}")
        self.assertEqual(status, 200, body)
        name = re.search(r"stored (prt-SEP\S+\.tar\.gz)", body).group(1)
        self.assertRegex(name, rf"^prt-SEP{MAC}-\d{{14}}\.tar\.gz$")
        self.assertIn(name, self.ok("device", "reports", f"SEP{MAC}"))
        self.assertIn("300000 bytes", self.ok("device", "reports", f"SEP{MAC}"))
        self.wait_for(lambda: "problem_report" in self.ok("events", "--device", f"SEP{MAC}", "--limit", "20"), "the event")
        status, _, listing = self.admin.request("GET", f"/api/devices/SEP{MAC}/reports")
        self.assertEqual(status, 200)
        self.assertEqual([r["name"] for r in listing["result"]], [name])
        conn_status, headers, raw = self.admin.download(f"/api/devices/SEP{MAC}/reports/{name}")
        self.assertEqual(conn_status, 200)
        self.assertEqual(headers["content-type"], "application/gzip")
        self.assertIn(f'filename="{name}"', headers["content-disposition"])
        self.assertEqual(raw, archive)
        # Only a listed name is handed out.
        self.assertEqual(self.admin.download(f"/api/devices/SEP{MAC}/reports/..%2F..%2Flabcm.db")[0], 404)


    def test_what_is_not_a_phone_s_report_is_refused_and_nothing_is_kept(self):
        path = self.write_file("x.tar.gz", "archive")
        status, body = self.post("devicename=../../etc", f"prt_file=@{path}")
        self.assertEqual(status, 403, body)
        status, body = self.post(f"devicename=SEP{MAC}", "serialno=FCH1")
        self.assertEqual(status, 400, body)
        self.assertIn("no prt_file part", body)
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "x",
                            f"http://127.0.0.1:{self.http_port}/prt"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout, "415")
        # Over the limit: 413 at once, before a byte of the body (none follows here).
        import socket
        with socket.create_connection(("127.0.0.1", self.http_port), timeout=10) as sock:
            sock.sendall(b"POST /prt HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                         b"Content-Length: 99999999999\r\n\r\n")
            self.assertTrue(sock.recv(200).startswith(b"HTTP/1.1 413 "))
        self.assertEqual(self.ok("device", "reports", f"SEP{MAC}").strip(), "no problem reports")
        self.assertEqual(os.listdir(os.path.join(self.data, "prt", ".incoming")), [])
        # A GET with a body is still refused, and files are still served after all this.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/SEP{MAC}.cnf.xml", timeout=10) as r:
            self.assertEqual(r.status, 200)

    def test_labcm_asks_a_phone_for_its_report_and_it_arrives(self):
        """labcm device prt: the prt-report NOTIFY; labcm-phone posts its report to the URL of its config."""
        out = open(os.path.join(self.dir, "phone.out"), "w+", encoding="utf-8")
        proc = subprocess.Popen([PHONE, "--tftp", "127.0.0.1", "--tftp-port", str(self.tftp_port), "--http-port", str(self.http_port),
                                 "--model", "8845", "--mac", MAC, "--hold", "40", "--timeout", "60"],
                                stdout=out, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(timeout=10), out.close()))
        self.wait_for(lambda: "registration: registered" in self.ok("device", "show", f"SEP{MAC}"), "the phone to register", seconds=30)
        asked = self.ok("device", "prt", f"SEP{MAC}", "--wait", "30")
        self.assertIn("200", asked)  # the phone's answer to the NOTIFY
        self.assertRegex(asked, rf"arrived: prt-SEP{MAC}-\d{{14}}\.tar\.gz")
        with open(out.name, encoding="utf-8") as f:
            self.assertIn("problem report upload: http 200", f.read())
