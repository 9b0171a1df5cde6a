"""`labcm serve` with the CLI talking to it over the control socket."""
import json
import os
import signal
import socket
import stat
import subprocess
import unittest

from labcm_test import LABCM, LabcmTestCase


class Serve(LabcmTestCase):
    def status(self):
        return json.loads(self.ok("--json", "status"))["result"]

    def test_cli_changes_go_through_the_running_server_at_once(self):
        proc = self.start_server()
        self.assertEqual(self.status()["mode"], "server")
        self.assertEqual(self.status()["pid"], proc.pid)
        self.ok("device", "add", "SEP001122AABBCC", "--model", "8845", "--line", "1001")
        # The server itself answered: its own reader sees the device, its event stream has it.
        shown = json.loads(self.ok("--json", "device", "show", "SEP001122AABBCC"))["result"]
        self.assertEqual(shown["lines"][0]["dn"], "1001")
        self.assertEqual(self.status()["devices"], 1)
        self.wait_for_log(proc, "device_added mac=001122AABBCC")
        self.wait_for(lambda: "device_added" in self.ok("events", "--device", "SEP001122AABBCC"), "the stored event")

    def test_ready_means_every_listener_answers_and_systemd_is_told(self):
        """READY=1 (sd_notify, the unit is Type=notify) and status ready: true come only once
        every phone-facing and admin listener is bound; STOPPING=1 on SIGTERM."""
        self.use_loopback_ports()
        self.assertIs(self.status()["ready"], False)  # no server: the direct mode is never ready
        notify_path = os.path.join(self.dir, "notify.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.bind(notify_path)
            notify.settimeout(15)
            log = open(os.path.join(self.dir, "serve-notify.log"), "w+", encoding="utf-8")
            proc = subprocess.Popen([LABCM, "--data-dir", self.data, "serve"], stdout=log, stderr=subprocess.STDOUT,
                                    env={**os.environ, "NOTIFY_SOCKET": notify_path})
            proc.stderr_file = log
            proc.log_path = log.name
            self.servers.append(proc)
            messages = notify.recv(4096).decode()  # the first datagram labcm sends is READY=1
            self.assertIn("READY=1", messages.splitlines())
            self.assertIn(f"MAINPID={proc.pid}", messages.splitlines())
            # At that moment every listener answers, without waiting.
            for port in (self.admin_port, self.http_port, self.sip_port):
                with socket.create_connection(("127.0.0.1", port), timeout=5):
                    pass
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tftp:
                tftp.settimeout(5)
                tftp.sendto(b"\x00\x01nothing-here.bin\x00octet\x00", ("127.0.0.1", self.tftp_port))
                self.assertEqual(tftp.recvfrom(1024)[0][:4], b"\x00\x05\x00\x01")  # ERROR, file not found
            self.assertIs(self.status()["ready"], True)
            health = self.labcm("health")
            self.assertEqual(health.returncode, 0, health.stderr)
            self.assertEqual(json.loads(health.stdout), {"status": "ok", "ready": True})
            proc.send_signal(signal.SIGTERM)
            self.assertIn("STOPPING=1", notify.recv(4096).decode().splitlines())
            self.assertEqual(proc.wait(timeout=15), 0, self.log_tail(proc, lines=200))

    def test_the_first_password_is_in_an_owner_only_file_and_no_file_is_world_readable(self):
        """Issue 19: under umask 000 the database and an export are 0640 at most, and the random
        first admin password is in a 0600 file the log names, never in the log itself."""
        os.environ.pop("LABCM_ADMIN_PASSWORD", None)
        server = self.start_server(prefix=("sh", "-c", 'umask 000 && exec "$@"', "sh"))
        secret = os.path.join(self.data, "admin-password")
        self.assertEqual(stat.S_IMODE(os.stat(secret).st_mode), 0o600)
        with open(secret, encoding="utf-8") as f:
            password = f.read().strip()
        self.assertGreaterEqual(len(password), 12)
        with open(server.log_path, encoding="utf-8") as f:
            log = f.read()
        self.assertIn(f"the admin password is in {secret}", log)
        self.assertNotIn(password, log)
        export = os.path.join(self.dir, "export.csv")
        subprocess.run(["sh", "-c", f'umask 000 && exec "$@"', "sh", LABCM, "--data-dir", self.data, "export", "-o", export],
                       check=True, capture_output=True, timeout=30)
        for path in (os.path.join(self.data, "labcm.db"), os.path.join(self.data, "labcm.db-wal"), export):
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode) & 0o027, 0, path)

    def test_errors_through_the_socket_change_nothing(self):
        self.ok("device", "add", "SEP001122AABBCC", "--model", "8845", "--line", "1001")
        self.start_server()
        before = self.dump()
        self.fails("device", "add", "SEP001122AABBCC", "--model", "8845", message="already exists")
        self.fails("device", "add", "SEPXYZ", "--model", "8845", message="is not a device name")
        self.fails("import", self.write_file("bad.csv", "mac,model\n001122AABB01,8845\nzz,8845\n"),
                   message="row 3: mac: 'zz' is not a MAC address")
        self.fails("setting", "set", "timezone", "Nowhere", message="is not an Olson time zone name")
        self.assertEqual(self.dump(), before)

    def test_import_export_through_the_server(self):
        self.start_server()
        csv = self.write_file("p.csv", "mac,model,line1_dn\n001122AABB01,8845,1001\n001122AABB02,7821,1002\n")
        self.assertIn("imported 2 phones", self.ok("import", csv))
        self.assertEqual(self.ok("export"), "mac,model,description,load,transport,line1_dn,line1_display_name,"
                         "line1_label,line1_auth_name,line1_auth_password,line1_contact\n"
                         "001122AABB01,8845,,,tcp,1001,,,,,\n001122AABB02,7821,,,tcp,1002,,,,,\n")

    def test_control_socket_is_owner_only_and_speaks_json_lines(self):
        self.start_server()
        path = os.path.join(self.data, "control.sock")
        mode = os.stat(path).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(mode & 0o777, 0o600)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(path)
            f = s.makefile("rw", encoding="utf-8")
            f.write("this is not json\n")
            f.flush()
            reply = json.loads(f.readline())
            self.assertEqual(reply["error"]["status"], 400)
            # The connection stays usable after a bad request.
            f.write(json.dumps({"cmd": "device.list"}) + "\n")
            f.flush()
            self.assertEqual(json.loads(f.readline()), {"ok": True, "result": []})

    def test_an_overlong_request_is_refused_and_the_server_stays_up(self):
        self.start_server()
        path = os.path.join(self.data, "control.sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(path)
            chunk = b"x" * 65536
            sent = 0
            try:
                while sent < 20 * 1024 * 1024:  # past the 16 MiB + 64 KiB limit, bounded
                    s.sendall(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            reply = s.makefile("r", encoding="utf-8").readline()
            self.assertEqual(json.loads(reply)["error"]["status"], 413)
        self.assertEqual(self.status()["mode"], "server")

    def test_outside_writes_are_noticed(self):
        proc = self.start_server()
        self.assertEqual(self.status()["external_changes"], 0)
        with self.db() as c:
            c.execute("INSERT INTO settings (key, value, updated_at) VALUES ('timezone', 'Europe/Berlin', 0)")
        self.wait_for(lambda: self.status()["external_changes"] == 1, "the server to notice the outside write")
        # Settings were reloaded from the database.
        self.assertRegex(self.ok("setting", "list"), r"timezone\s+Europe/Berlin")
        self.wait_for_log(proc, "store_external_change")

    def test_sigterm_and_sigint_stop_cleanly(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(sig=sig):
                proc = self.start_server()
                self.ok("device", "add", f"SEP0011223344{int(sig):02X}", "--model", "8845")
                self.assertEqual(self.stop_server(proc, sig), 0)
                log = self.log_of(proc)
                self.assertIn("labcm stopped cleanly", log)
                self.assertIn(f"data dir {self.data}", log)
                self.assertIn("listening: control socket", log)
                self.assertFalse(os.path.exists(os.path.join(self.data, "control.sock")))
                # Everything committed is there, and the events made it to the table.
                with self.db() as c:
                    self.assertEqual(c.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                    self.assertGreaterEqual(c.execute("SELECT count(*) FROM events WHERE kind='server_stopping'").fetchone()[0], 1)
        self.assertEqual(len(json.loads(self.ok("--json", "device", "list"))["result"]), 2)

    def test_kill_loses_nothing_committed(self):
        proc = self.start_server()
        for i in range(20):
            self.ok("device", "add", f"SEP0011223344{i:02X}", "--model", "8845", "--line", str(1000 + i))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        with self.db() as c:
            self.assertEqual(c.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            self.assertEqual(c.execute("SELECT count(*) FROM devices").fetchone()[0], 20)
        # A new server starts on the same data dir (stale socket and lock are handled).
        self.start_server()
        self.assertEqual(self.status()["devices"], 20)

    def test_second_server_on_the_same_data_dir_is_refused(self):
        self.start_server()
        r = self.labcm("serve", timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("another labcm holds the data dir", r.stderr)
        self.assertEqual(self.status()["mode"], "server")


if __name__ == "__main__":
    unittest.main()
