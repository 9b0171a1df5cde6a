"""Phone files over HTTP 6970 and TFTP from a real `labcm serve`, fetched by real clients:
curl (http:// and tftp://), tftp-hpa, atftp; XML checked by xmllint."""
import hashlib
import os
import re
import resource
import socket
import struct
import subprocess
import time
import unittest
import zlib

from labcm_test import LabcmTestCase

MAC = "001122AABBCC"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def loads_file(lines, header_length=64):
    """A .loads file as Cisco ships it: signed TLV header, then CRLF text."""
    header = bytes([1, 0, 2, 1, 1, 2, 0, 2]) + struct.pack(">H", header_length)
    header = header + b"\x0d" * (header_length - len(header))
    return header + "\r\n".join(lines).encode() + b"\r\n"


class Provisioning(LabcmTestCase):
    def setUp(self):
        super().setUp()
        self.ok("device", "add", f"SEP{MAC}", "--model", "8845", "--line", "1001", "--line", "1000")
        self.ok("line", "add", f"SEP{MAC}", "1002", "--label", "A & B <lab>", "--auth-name", "u1",
                "--auth-password", 'p"w<d>')
        self.ok("device", "add", "SEP001122AABBCD", "--model", "7975", "--line", "1000", "--transport", "udp")
        self.ok("setting", "set", "registrar_address", "10.9.8.7")
        self.files = os.path.join(self.data, "files")
        self.server = self.start_server()
        self.http = f"http://127.0.0.1:{self.http_port}"

    # --- client helpers -------------------------------------------------------------
    def curl(self, path, out=None, extra=()):
        out = out or os.path.join(self.dir, "curl.out")
        r = subprocess.run(["curl", "-sS", "--max-time", "60", "-o", out, "-w", "%{http_code}", *extra,
                            f"{self.http}/{path}"], capture_output=True, text=True, timeout=90)
        return r.stdout.strip(), out

    def http_get(self, path):
        code, out = self.curl(path)
        self.assertEqual(code, "200", path)
        with open(out, "rb") as f:
            return f.read()

    def tftp_hpa(self, name, out):
        r = subprocess.run(["tftp", "127.0.0.1", str(self.tftp_port), "-m", "octet", "-c", "get", name, out],
                           capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout + r.stderr

    def atftp(self, name, out, *options):
        args = ["atftp"]
        for o in options:
            args += ["--option", o]
        r = subprocess.run(args + ["-g", "-r", name, "-l", out, "127.0.0.1", str(self.tftp_port)],
                           capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout + r.stderr

    def curl_tftp(self, name, out, *extra):
        r = subprocess.run(["curl", "-sS", "--max-time", "120", *extra, "-o", out,
                            f"tftp://127.0.0.1:{self.tftp_port}/{name}"], capture_output=True, text=True, timeout=150)
        return r.returncode, r.stderr

    def raw_tftp(self, packet, timeout=5):
        """Sends one datagram to the TFTP port; returns the first reply (opcode, rest)."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(packet, ("127.0.0.1", self.tftp_port))
            data, _ = s.recvfrom(65536)
            return struct.unpack(">H", data[:2])[0], data[2:]

    def xmllint(self, path):
        r = subprocess.run(["xmllint", "--noout", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)

    def write_files_entry(self, name, data):
        path = os.path.join(self.files, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    # --- tests ------------------------------------------------------------------------
    def test_sep_file_is_the_same_valid_xml_from_every_client(self):
        body = self.http_get(f"SEP{MAC}.cnf.xml")
        http_path = self.write_files_entry("../http.xml", body)
        self.xmllint(http_path)
        text = body.decode()
        self.assertIn("<processNodeName>10.9.8.7</processNodeName>", text)
        self.assertIn("<featureLabel>A &amp; B &lt;lab&gt;</featureLabel>", text)
        self.assertIn("<authPassword>p\"w&lt;d&gt;</authPassword>", text)
        self.assertIn("<transportLayerProtocol>1</transportLayerProtocol>", text)
        outs = {}
        rc, msg = self.tftp_hpa(f"SEP{MAC}.cnf.xml", os.path.join(self.dir, "hpa.xml"))
        self.assertEqual(rc, 0, msg)
        outs["tftp-hpa"] = os.path.join(self.dir, "hpa.xml")
        rc, msg = self.atftp(f"sep{MAC.lower()}.cnf.xml", os.path.join(self.dir, "atftp.xml"), "blksize 1428")
        self.assertEqual(rc, 0, msg)
        outs["atftp"] = os.path.join(self.dir, "atftp.xml")
        rc, msg = self.curl_tftp(f"SEP{MAC}.cnf.xml", os.path.join(self.dir, "curltftp.xml"))
        self.assertEqual(rc, 0, msg)
        outs["curl tftp"] = os.path.join(self.dir, "curltftp.xml")
        for client, path in outs.items():
            with open(path, "rb") as f:
                self.assertEqual(f.read(), body, client)
        self.ok("speeddial", "add", f"SEP{MAC}", "1000", "--label", "Main", "--blf")
        keyed = self.http_get(f"SEP{MAC}.cnf.xml").decode()
        self.assertRegex(keyed, r'<line button="4">\s*<featureID>21</featureID>\s*<featureLabel>Main</featureLabel>'
                                r'\s*<speedDialNumber>1000</speedDialNumber>')
        udp = self.http_get("SEP001122AABBCD.cnf.xml").decode()
        self.assertIn("<transportLayerProtocol>2</transportLayerProtocol>", udp)

    def test_xmldefault_dialplan_softkeys(self):
        for name in ("XMLDefault.cnf.xml", "dialplan.xml", "softkeys.xml", "AppDialRules.xml"):
            with self.subTest(name=name):
                body = self.http_get(name)
                path = self.write_files_entry(f"../{name}.check", body)
                self.xmllint(path)
                rc, msg = self.tftp_hpa(name.lower(), os.path.join(self.dir, "t.out"))
                self.assertEqual(rc, 0, msg)
                with open(os.path.join(self.dir, "t.out"), "rb") as f:
                    self.assertEqual(f.read(), body)
        dialplan = self.http_get("dialplan.xml").decode()
        self.assertIn('MATCH="1..." Timeout="0"', dialplan)

    def test_background_list_offers_the_folders_images_with_their_thumbnails(self):
        def png(w, h):
            row = b"\x00" + b"\x80\x80\x80" * w
            raw = zlib.compress(row * h)
            chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
            return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                    chunk(b"IDAT", raw) + chunk(b"IEND", b""))
        self.write_files_entry("Desktops/800x480x24/Sea.png", png(800, 480))
        self.write_files_entry("Desktops/800x480x24/TN-Sea.png", png(139, 109))
        self.write_files_entry("Desktops/800x480x24/Small.png", png(640, 480))  # wrong size: left out
        self.write_files_entry("Desktops/800x480x24/TN-Small.png", png(100, 80))
        self.write_files_entry("Desktops/800x480x24/Alone.png", png(800, 480))  # no thumbnail: left out
        body = self.http_get("Desktops/800x480x24/List.xml").decode()
        self.xmllint(self.write_files_entry("../desktops.check", body.encode()))
        self.assertEqual(re.findall(r'<ImageItem Image="([^"]*)" URL="([^"]*)"', body),
                         [("TFTP:Desktops/800x480x24/TN-Sea.png", "TFTP:Desktops/800x480x24/Sea.png")])
        self.assertEqual(self.http_get("Desktops/800x480x24/Sea.png"), png(800, 480))
        self.wait_for_log(self.server, "background Desktops/800x480x24/Small.png is not offered: 640x480 pixels")
        self.wait_for_log(self.server, "Alone.png is not offered: no thumbnail")
        # A resolution with no folder: an empty list, not an error.
        self.assertNotIn("ImageItem", self.http_get("Desktops/320x212x12/List.xml").decode())

    def test_the_admins_dial_patterns_follow_the_dns_in_the_dial_plan(self):
        before = self.http_get("dialplan.xml").decode()
        self.ok("dialplan", "set", "9..........", "--timeout", "0", "--route", "sip:gw.lab:5060")
        self.ok("dialplan", "set", "*6#", "--timeout", "3")
        self.assertIn("9..........                        timeout  0 s  sip:gw.lab:5060", self.ok("dialplan", "list"))
        r = self.labcm("dialplan", "set", "9x1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("pattern", r.stderr)
        r = self.labcm("dialplan", "set", "9", "--timeout", "99")
        self.assertEqual(r.returncode, 1)
        self.assertIn("timeout", r.stderr)

        def matches():
            body = self.http_get("dialplan.xml").decode()
            return re.findall(r'MATCH="([^"]*)" Timeout="(\d+)"', body)
        self.wait_for(lambda: ("9..........", "0") in matches(), "the pattern in the dial plan")
        order = [m for m, _ in matches()]
        self.assertEqual(order[-1], "*")  # the catch-all stays last
        self.assertLess(order.index("1..."), order.index("*6#"))  # the DNs' own first
        self.assertIn(("*6#", "3"), matches())
        self.assertNotEqual(self.http_get("dialplan.xml").decode(), before)
        self.ok("dialplan", "rm", "*6#")
        self.wait_for(lambda: ("*6#", "3") not in matches(), "the pattern gone")
        r = self.labcm("dialplan", "rm", "*6#")
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not exist", r.stderr)
        self.assertIn("dial_plan_changed", self.ok("events", "--limit", "20"))

    def test_phone_settings_for_the_lab_a_model_and_a_phone(self):
        def vendor(mac, element):
            body = self.http_get(f"SEP{mac}.cnf.xml").decode()
            m = re.search(rf"<{element}>([^<]*)</{element}>", body)
            return m.group(1) if m else None
        self.assertEqual(vendor(MAC, "sshAccess"), "1")  # off by default
        stamp = re.search(r"<versionStamp>(.*)</versionStamp>", self.http_get(f"SEP{MAC}.cnf.xml").decode()).group(1)
        self.ok("phone-setting", "set", "ssh_access", "on")                      # the lab
        self.ok("phone-setting", "set", "web_access", "off", "--model", "7975")  # the other phone's model
        self.ok("phone-setting", "set", "problem_report_upload_url", "http://10.9.8.7/prt", "--device", f"SEP{MAC}")
        self.wait_for(lambda: vendor(MAC, "sshAccess") == "0", "the lab's value in the SEP file")
        self.assertEqual(vendor(MAC, "webAccess"), "0")  # 8845: not the 7975's value
        self.assertEqual(vendor("001122AABBCD", "webAccess"), "1")
        self.assertEqual(vendor(MAC, "problemReportUploadURL"), "http://10.9.8.7/prt")
        self.assertEqual(vendor("001122AABBCD", "problemReportUploadURL"), f"http://10.9.8.7:{self.http_port}/prt")  # labcm's own
        self.assertNotEqual(re.search(r"<versionStamp>(.*)</versionStamp>", self.http_get(f"SEP{MAC}.cnf.xml").decode()).group(1),
                            stamp)
        listing = self.ok("phone-setting", "list", "--device", f"SEP{MAC}")
        self.assertRegex(listing, r"problem_report_upload_url\s+-\s+-\s+http://10.9.8.7/prt\s+http://10.9.8.7/prt")
        self.assertRegex(listing, r"ssh_access\s+true\s+-\s+-\s+true")
        for args, field in [(("set", "ssh_access", "maybe"), "ssh_access"), (("set", "no_such", "1"), "no_such"),
                            (("set", "web_access", "on", "--model", "9999"), "model"),
                            (("set", "web_access", "on", "--device", "SEP00112233FFFF"), "does not exist"),
                            (("unset", "web_access"), "is not set")]:
            with self.subTest(args=args):
                r = self.labcm("phone-setting", *args)
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertIn(field, r.stderr)
        # A phone's own rows go with it.
        self.ok("device", "rm", f"SEP{MAC}")
        self.ok("device", "add", f"SEP{MAC}", "--model", "8845", "--line", "1001")
        self.assertRegex(self.ok("phone-setting", "list", "--device", f"SEP{MAC}"),
                         r"problem_report_upload_url\s+-\s+-\s+-\s")
        self.ok("phone-setting", "unset", "ssh_access")
        self.wait_for(lambda: vendor(MAC, "sshAccess") == "1", "the default again")

    def test_ring_lists_offer_labcms_tones_and_the_folders_and_phones_fetch_them(self):
        self.write_files_entry("Old_Phone.raw", b"\x7f" * 2400)
        self.write_files_entry("Too_Long.raw", b"\x7f" * 16320)  # past 16,080 samples: left out
        wide = self.http_get("Ringlist-wb.xml").decode()
        path = self.write_files_entry("../ringlist.check", wide.encode())
        self.xmllint(path)
        self.assertRegex(wide, r"<DisplayName>labcm-Classic</DisplayName>\s*<FileName>labcm-Classic.rwb</FileName>")
        narrow = self.http_get("RingList.xml").decode()  # the older guides' spelling, same list
        self.assertEqual(narrow, self.http_get("Ringlist.xml").decode())
        self.assertEqual(narrow, self.http_get("DistinctiveRingList.xml").decode())
        self.assertRegex(narrow, r"<DisplayName>Old Phone</DisplayName>\s*<FileName>Old_Phone.raw</FileName>")
        self.assertNotIn("Too_Long", narrow)
        self.assertNotIn(".rwb", narrow)
        # Every ring listed is fetched byte for byte over HTTP and TFTP.
        for name in re.findall(r"<FileName>([^<]+)</FileName>", narrow + wide):
            with self.subTest(name=name):
                body = self.http_get(name)
                self.assertTrue(len(body) % 240 == 0 if name.endswith(".raw") else len(body) % 2 == 0, len(body))
                rc, msg = self.tftp_hpa(name, os.path.join(self.dir, "t.out"))
                self.assertEqual(rc, 0, msg)
                with open(os.path.join(self.dir, "t.out"), "rb") as f:
                    self.assertEqual(f.read(), body)
        self.wait_for_log(self.server, "Too_Long.raw is not in the ring lists")

    def test_trust_lists_and_signed_files_are_not_found(self):
        for name in (f"CTLSEP{MAC}.tlv", f"ITLSEP{MAC}.tlv", "ITLFile.tlv", f"SEP{MAC}.cnf.xml.sgn"):
            with self.subTest(name=name):
                self.assertEqual(self.curl(name)[0], "404")
                rc, msg = self.tftp_hpa(name, os.path.join(self.dir, "x"))
                self.assertIn("Error code 1: File not found", msg)
        self.assertEqual(self.curl("SEP0000000000FF.cnf.xml")[0], "404")
        self.wait_for(lambda: "non-secure cluster" in self.ok("events", "--device", f"SEP{MAC}", "--limit", "200"),
                      "not-found events naming the phone")
        # Signed firmware images are files like any other (issue 20: step 7 for 69xx and others).
        image = os.urandom(100_000)
        for name in ("cp6900-sip.9-4-1-9.zz.sgn", "kern8845.14-2-1-0001-14.sgn"):
            with self.subTest(name=name):
                self.write_files_entry(name, image)
                rc, msg = self.tftp_hpa(name, os.path.join(self.dir, "img"))
                self.assertEqual(rc, 0, msg)
                with open(os.path.join(self.dir, "img"), "rb") as f:
                    self.assertEqual(f.read(), image)
                self.assertEqual(self.http_get(name), image)

    def test_traversal_and_bad_names_are_refused(self):
        outside = os.path.join(self.dir, "secret.txt")
        with open(outside, "w") as f:
            f.write("secret")
        os.symlink(outside, os.path.join(self.files, "link.txt"))
        # TFTP, raw packets: traversal, absolute, control characters, symlink out.
        for name in (b"../secret.txt", b"/../../etc/passwd", b"a/../../secret.txt", b"bad\x01name", b"link.txt"):
            with self.subTest(name=name):
                op, rest = self.raw_tftp(b"\x00\x01" + name + b"\x00octet\x00")
                self.assertEqual(op, 5)
                self.assertEqual(struct.unpack(">H", rest[:2])[0], 2)  # access violation
        # HTTP, raw request lines (curl would normalise the path).
        for target in ("/../secret.txt", "/a/%2e%2e/%2e%2e/secret.txt", "/link.txt", "/x%00y"):
            with self.subTest(target=target):
                with socket.create_connection(("127.0.0.1", self.http_port), timeout=10) as s:
                    s.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                    reply = s.recv(4096).decode(errors="replace")
                self.assertRegex(reply, r"^HTTP/1.1 400")
        self.wait_for(lambda: "file_refused" in self.ok("events", "--limit", "200"), "refusal events")

    def test_writes_and_other_methods_are_refused(self):
        src = os.path.join(self.dir, "up.txt")
        with open(src, "w") as f:
            f.write("x")
        r = subprocess.run(["tftp", "127.0.0.1", str(self.tftp_port), "-c", "put", src, "up.txt"],
                           capture_output=True, text=True, timeout=60)
        self.assertIn("Error code 2", r.stdout + r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.files, "up.txt")))
        self.assertEqual(self.curl("x", extra=("-X", "PUT"))[0], "405")
        # A POST is a phone's problem report (test_problem_reports.py): one that is not a form is refused.
        self.assertEqual(self.curl("x", extra=("-X", "POST"))[0], "415")
        self.assertFalse(os.path.exists(os.path.join(self.files, "x")))
        code, _ = self.curl(f"SEP{MAC}.cnf.xml", extra=("-I",))
        self.assertEqual(code, "200")
        self.wait_for(lambda: f"HEAD /SEP{MAC}.cnf.xml -> 200" in self.ok("events", "--limit", "20")
                      and "PUT /x -> 405" in self.ok("events", "--limit", "20")
                      and "POST /x -> 415" in self.ok("events", "--limit", "20"), "events naming the method")
        op, _ = self.raw_tftp(b"\x00\x01f\x00mail\x00")
        self.assertEqual(op, 5)

    def test_over_the_connection_cap_http_answers_503_at_once(self):
        cap = 4096  # limits::kMaxHttpConnections
        # This process holds that many sockets: its soft descriptor limit (often 1,024) up to the hard one.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < cap + 256:
            self.skipTest(f"the hard descriptor limit ({hard}) is below {cap + 256}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, cap + 256) if hard == resource.RLIM_INFINITY else hard, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        held = []
        try:
            for _ in range(cap):
                held.append(socket.create_connection(("127.0.0.1", self.http_port), timeout=10))
            # Every held connection is counted once the server accepted it: then one more is over.
            answer = b""
            for _ in range(50):
                with socket.create_connection(("127.0.0.1", self.http_port), timeout=10) as s:
                    s.settimeout(10)
                    s.sendall(f"GET /SEP{MAC}.cnf.xml HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                    answer = s.recv(4096)
                if answer.startswith(b"HTTP/1.1 503"):
                    break
            self.assertTrue(answer.startswith(b"HTTP/1.1 503"), answer[:200])
            self.assertIn(b"Retry-After: 1", answer)
            self.assertGreaterEqual(self.status()["http_busy"], 1)
        finally:
            for s in held:
                s.close()
        # The held connections gone, files are served again.
        self.wait_for(lambda: self.curl(f"SEP{MAC}.cnf.xml")[0] == "200", "HTTP to answer again")

    def test_unacknowledged_requests_hold_little_and_one_address_cannot_hold_every_slot(self):
        """Issue 19: RRQs that are never acknowledged (as from a forged source) get two DATA
        packets each, at most 8 run per address (the rest: "server busy"), a 255 s timeout is
        not accepted, and a phone is served afterwards."""
        rrq = b"\x00\x01SEP001122AABBCC.cnf.xml\x00octet\x00"
        socks = []
        for _ in range(12):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.addCleanup(s.close)
            s.bind(("127.0.0.1", 0))
            s.settimeout(0.2)
            s.sendto(rrq, ("127.0.0.1", self.tftp_port))
            socks.append(s)
        got = {"data": 0, "busy": 0}
        deadline = time.monotonic() + 8  # each transfer gives up after 2 x 1 s
        while time.monotonic() < deadline:
            for s in socks:
                try:
                    data, _ = s.recvfrom(65536)
                except socket.timeout:
                    continue
                op = struct.unpack(">H", data[:2])[0]
                if op == 3:
                    got["data"] += 1
                elif op == 5 and b"server busy" in data:
                    got["busy"] += 1
        self.assertEqual(got, {"data": 8 * 2, "busy": 4})
        # A timeout of 255 s is left out of the OACK (the default 1 s applies).
        op, rest = self.raw_tftp(b"\x00\x01SEP001122AABBCC.cnf.xml\x00octet\x00timeout\x00255\x00tsize\x000\x00")
        self.assertEqual(op, 6)
        self.assertNotIn(b"timeout", rest)
        # A phone fetches its file.
        rc, out = self.tftp_hpa(f"SEP{MAC}.cnf.xml", os.path.join(self.dir, "phone.xml"))
        self.assertEqual(rc, 0, out)

    def test_a_transfer_kept_alive_block_by_block_ends_at_its_lifetime(self):
        """Issue 19: a client that asks for 8-byte blocks and acknowledges each one just in
        time would hold its slot for minutes; labcm ends the transfer after its lifetime
        (30 s + 1 s per 32 KiB: limits::kTftpLifetimeBase) with an error, and counts it."""
        self.write_files_entry("slow.txt", b"x" * 4000)  # 500 blocks of 8 bytes
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.sendto(b"\x00\x01slow.txt\x00octet\x00blksize\x008\x00", ("127.0.0.1", self.tftp_port))
            start = time.monotonic()
            last, ended = None, None
            while time.monotonic() - start < 60:  # bounded: the lifetime is 30 s
                data, peer = s.recvfrom(65536)
                op = struct.unpack(">H", data[:2])[0]
                if op == 5:
                    ended = data[4:-1].decode()
                    break
                block = 0 if op == 6 else struct.unpack(">H", data[2:4])[0]
                if block != last:
                    last = block
                    time.sleep(0.3)  # slow, but within the 1 s timeout
                s.sendto(struct.pack(">HH", 4, block), peer)
        elapsed = time.monotonic() - start
        self.assertEqual(ended, "transfer took longer than 30 s")
        self.assertGreaterEqual(elapsed, 29)
        self.assertLess(last, 500)  # it did not get to the end
        self.wait_for(lambda: self.status()["tftp_failed"] >= 1, "the failed transfer counted")

    def test_netascii_is_converted_while_it_is_sent(self):
        """Issue 19: netascii is converted as blocks go out (never held whole): a 3 MiB text
        with LF and CR arrives as RFC 764 says (LF -> CR LF, CR -> CR NUL), through windows
        that are retransmitted."""
        text = (b"line one\nline two\r\nbare cr\rend\n" * 100_000)[:3 * 1024 * 1024]
        self.write_files_entry("big.txt", text)
        want = text.replace(b"\r", b"\r\x00").replace(b"\n", b"\r\n")
        got = bytearray()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.sendto(b"\x00\x01big.txt\x00netascii\x00blksize\x001428\x00tsize\x000\x00", ("127.0.0.1", self.tftp_port))
            data, peer = s.recvfrom(65536)
            self.assertEqual(struct.unpack(">H", data[:2])[0], 6, data)
            self.assertIn(b"tsize\x00" + str(len(want)).encode() + b"\x00", data)
            s.sendto(struct.pack(">HH", 4, 0), peer)
            expected, dropped = 1, False
            for _ in range(len(want) // 1428 + 100):  # bounded
                data, peer = s.recvfrom(65536)
                op, block = struct.unpack(">HH", data[:4])
                self.assertEqual(op, 3, data)
                if block != expected % 65536:
                    continue
                if expected == 1000 and not dropped:  # lose one: labcm sends it again
                    dropped = True
                    continue
                got += data[4:]
                s.sendto(struct.pack(">HH", 4, block), peer)
                expected += 1
                if len(data) - 4 < 1428:
                    break
        self.assertEqual(len(got), len(want))
        self.assertTrue(got == want, "netascii content differs")

    def test_malformed_datagrams_are_dropped_and_counted(self):
        for junk in (b"", b"\x00", b"\x00\x01", b"\x00\x01name-without-nul", b"\x00\x04\x00\x01", b"\xff" * 600):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(junk, ("127.0.0.1", self.tftp_port))
        # The server still answers, and counted what it dropped.
        self.assertEqual(self.tftp_hpa("dialplan.xml", os.path.join(self.dir, "d"))[0], 0)
        self.wait_for(lambda: self.status()["tftp_dropped"] >= 5, "dropped datagrams to be counted")

    def status(self):
        import json
        return json.loads(self.ok("--json", "status"))["result"]

    def test_large_files_byte_identical_past_rollover_and_with_windows(self):
        big = self.write_files_entry("Firmware/rootfs78xx.big.sbn", os.urandom(40 * 1024 * 1024))
        mid = self.write_files_entry("kern88xx.mid.SBN", os.urandom(30 * 1024 * 1024))
        want_big, want_mid = sha256(big), sha256(mid)
        out = os.path.join(self.dir, "big.out")
        # 40 MiB at 512-byte blocks: 81921 blocks, past block 65535.
        rc, msg = self.tftp_hpa("firmware/ROOTFS78XX.BIG.SBN", out)
        self.assertEqual(rc, 0, msg)
        self.assertEqual(sha256(out), want_big)
        # 30 MiB at blksize 1428 x windowsize 8 (RFC 7440).
        rc, msg = self.atftp("kern88xx.mid.sbn", out, "blksize 1428", "windowsize 8")
        self.assertEqual(rc, 0, msg)
        self.assertEqual(sha256(out), want_mid)
        rc, msg = self.curl_tftp("kern88xx.mid.sbn", out, "--tftp-blksize", "8192")
        self.assertEqual(rc, 0, msg)
        self.assertEqual(sha256(out), want_mid)
        code, path = self.curl("Firmware/rootfs78xx.big.sbn", out)
        self.assertEqual(code, "200")
        self.assertEqual(sha256(path), want_big)
        self.wait_for(lambda: "blksize 1428, window 8" in self.ok("events", "--limit", "50"), "the transfer event")

    def test_setting_change_changes_the_file_and_its_version_stamp(self):
        before = self.http_get(f"SEP{MAC}.cnf.xml").decode()
        stamp = re.search(r"<versionStamp>(.*)</versionStamp>", before).group(1)
        self.ok("setting", "set", "timezone", "America/Chicago")   # through the control socket
        after = self.http_get(f"SEP{MAC}.cnf.xml").decode()
        self.assertIn("<timeZone>Central Standard/Daylight Time</timeZone>", after)
        new_stamp = re.search(r"<versionStamp>(.*)</versionStamp>", after).group(1)
        self.assertNotEqual(stamp, new_stamp)
        # A line change, too; and the same bytes give the same stamp.
        self.ok("line", "add", f"SEP{MAC}", "1003")
        third = self.http_get(f"SEP{MAC}.cnf.xml").decode()
        self.assertIn("<name>1003</name>", third)
        self.assertNotEqual(re.search(r"<versionStamp>(.*)</versionStamp>", third).group(1), new_stamp)
        self.assertEqual(self.http_get(f"SEP{MAC}.cnf.xml").decode(), third)

    def test_a_load_with_a_missing_image_is_flagged_and_not_sent_to_phones(self):
        load = "sip8845_65.14-2-1-0001-14"
        self.write_files_entry(f"{load}.loads",
                               loads_file([load, "#HARDWARE_COMP_1 5", "",
                                           "kern8845.14-2-1-0001-14.sbn  ", "rootfs8845.14-2-1-0001-14.sbn"]))
        self.write_files_entry("kern8845.14-2-1-0001-14.sbn", b"k" * 1000)
        r = self.labcm("model", "set", "8845", load)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 of 2 image files missing: rootfs8845.14-2-1-0001-14.sbn: not sent to phones", r.stderr)
        r = self.labcm("firmware", "check")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"FAIL load {load}: 1 of 2 image files missing", r.stdout)
        self.assertIn("used by model 8845; not sent to phones", r.stdout)
        # Withheld: the phone keeps the load it runs rather than fail an upgrade at every boot.
        self.assertIn("<loadInformation></loadInformation>", self.http_get(f"SEP{MAC}.cnf.xml").decode())
        self.assertNotIn(load, self.http_get("XMLDefault.cnf.xml").decode())
        self.wait_for(lambda: "firmware_incomplete" in self.ok("events", "--limit", "50"), "the firmware event")
        self.assertIn("rootfs8845.14-2-1-0001-14.sbn: not sent to phones", self.ok("events", "--limit", "50"))
        # The missing image arrives: the load is sent from the next request on, with a new stamp.
        self.write_files_entry("rootfs8845.14-2-1-0001-14.sbn", b"r" * 1000)
        r = self.labcm("firmware", "check")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn(f"ok   load {load}: complete (2 image files)", r.stdout)
        self.wait_for(lambda: f"<loadInformation>{load}</loadInformation>" in self.http_get(f"SEP{MAC}.cnf.xml").decode(),
                      "the load in the SEP file")
        self.assertIn(f">{load}</loadInformation36224>", self.http_get("XMLDefault.cnf.xml").decode())
        self.wait_for(lambda: "firmware_complete" in self.ok("events", "--limit", "50"), "the complete event")

if __name__ == "__main__":
    unittest.main()
