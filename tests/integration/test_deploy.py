"""What deployment relies on, against the real binary: online backup while registrations
arrive and a restore that loses no device; restore refused while the server runs and for a
file that is not a good labcm database; SIGTERM during a TFTP transfer ends it with an error
packet and the process within 10 s; `labcm health` for the container's HEALTHCHECK."""
import json
import os
import signal
import sqlite3
import subprocess
import time
import unittest

from labcm_test import LabcmTestCase, LABCM

PHONE = os.environ.get("LABCM_PHONE_BIN", os.path.join(os.path.dirname(LABCM), "labcm-phone"))


class DeployTest(LabcmTestCase):
    def devices_in(self, path):
        with sqlite3.connect(path) as c:
            return {r[0] for r in c.execute("SELECT mac FROM devices")}

    def test_backup_under_registration_load_and_restore_lose_no_device(self):
        n = 120
        rows = ["mac,model,description,load,transport,line1_dn"] + [f"0011224B{i:04X},8845,,,,{6000 + i}" for i in range(n)]
        self.ok("import", self.write_file("fleet.csv", "\n".join(rows) + "\n"))
        self.ok("setting", "set", "register_expires", "25")
        self.start_server()
        fleet = subprocess.Popen([PHONE, "--tftp", "127.0.0.1", "--tftp-port", str(self.tftp_port), "--http-port",
                                  str(self.http_port), "--model", "8845", "--mac", "0011224B0000", "--count", str(n),
                                  "--ip-base", "127.11.0.1", "--rate", "100", "--keepalive", "0.5", "--keepalives", "8",
                                  "--timeout", "60", "-q", "--json"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True)
        self.addCleanup(lambda: fleet.poll() is None and (fleet.kill(), fleet.wait(timeout=10)))
        # Backups while REGISTERs and keep-alives are being written, and devices added.
        self.wait_for(lambda: '"registered"' in self.ok("--json", "device", "show", "0011224B0000"), "the first phone")
        backups = []
        for k in range(3):
            self.ok("device", "add", f"0011224C000{k}", "--model", "7821", "--line", f"700{k}")
            path = os.path.join(self.dir, f"backup-{k}.db")
            out = self.ok("backup", path)
            self.assertRegex(out, rf"^backup {path}: {n + k + 1} devices, schema \d+, \d+ bytes$")
            backups.append(path)
            time.sleep(0.3)
        report = json.loads(fleet.communicate(timeout=90)[0].strip().splitlines()[-1])
        self.assertEqual(report["registered"], n)
        self.assertGreater(report["keepalives"], n)
        last = backups[-1]
        expected = {f"0011224B{i:04X}" for i in range(n)} | {f"0011224C000{k}" for k in range(3)}
        self.assertEqual(self.devices_in(last), expected)
        with sqlite3.connect(last) as c:
            self.assertEqual(c.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            self.assertGreater(c.execute("SELECT count(*) FROM registrations").fetchone()[0], 0)
        # Restore is refused while the server runs; the database stays as it is.
        r = self.labcm("restore", last)
        self.assertEqual(r.returncode, 1)
        self.assertIn("labcm serve is running on this data dir: stop it first", r.stderr)
        self.assertEqual(self.stop_server(self.servers[-1]), 0)
        # After more changes, the restore brings back exactly the backup's devices.
        self.ok("device", "rm", "0011224B0001")
        self.ok("device", "add", "0011224D0000", "--model", "8845")
        self.assertIn(f"restored {last}: {n + 3} devices", self.ok("restore", last))
        self.assertEqual(self.devices_in(os.path.join(self.data, "labcm.db")), expected)
        self.start_server()
        self.assertIn("0011224B0001", self.ok("device", "show", "0011224B0001"))
        self.assertEqual(self.status()["devices"], n + 3)

    def status(self):
        return json.loads(self.ok("--json", "status"))["result"]

    def test_restore_refuses_bad_files_and_keeps_the_database(self):
        self.ok("device", "add", "001122AABB01", "--model", "8845")
        before = self.dump()
        junk = self.write_file("junk.db", "not a database at all\n" * 100)
        r = self.labcm("restore", junk)
        self.assertEqual(r.returncode, 1)
        self.assertIn("junk.db", r.stderr)
        other = os.path.join(self.dir, "other.db")
        with sqlite3.connect(other) as c:
            c.execute("CREATE TABLE t (x)")
        r = self.labcm("restore", other)
        self.assertEqual(r.returncode, 1)
        self.assertIn("is not a labcm database", r.stderr)
        newer = os.path.join(self.dir, "newer.db")
        self.ok("backup", newer)
        with sqlite3.connect(newer) as c:
            c.execute("PRAGMA user_version = 999")
        r = self.labcm("restore", newer)
        self.assertEqual(r.returncode, 1)
        self.assertIn("newer than this labcm", r.stderr)
        self.assertIn("no backup at", self.fails("restore", os.path.join(self.dir, "missing.db")))
        self.assertEqual(self.dump(), before)

    def test_sigterm_ends_a_tftp_transfer_with_an_error_and_the_process_within_10_s(self):
        files = os.path.join(self.data, "files")
        os.makedirs(files, exist_ok=True)
        with open(os.path.join(files, "big.bin"), "wb") as f:
            f.write(os.urandom(1 << 20) * 48)  # 48 MiB: ~5 s at 512-byte blocks
        server = self.start_server()
        out = os.path.join(self.dir, "big.out")
        client = subprocess.Popen(["tftp", "127.0.0.1", str(self.tftp_port), "-m", "octet", "-c", "get", "big.bin", out],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 1 << 20, "the transfer to be under way")
        t = time.monotonic()
        server.send_signal(signal.SIGTERM)
        self.assertEqual(server.wait(timeout=15), 0)
        self.assertLess(time.monotonic() - t, 10)
        said = client.communicate(timeout=30)[0]
        self.assertIn("server shutting down", said)  # tftp-hpa prints the ERROR packet's message
        self.assertLess(os.path.getsize(out), 48 << 20)
        self.assertIn("labcm stopped cleanly", self.log_of(server))

    def test_health_answers_while_the_server_runs(self):
        self.use_loopback_ports()
        r = self.labcm("health")
        self.assertEqual(r.returncode, 1)
        self.assertIn("labcm health:", r.stderr)
        self.start_server()
        r = self.labcm("health")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {"status": "ok", "ready": True})


if __name__ == "__main__":
    unittest.main()
