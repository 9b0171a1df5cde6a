"""Shared helpers for integration tests: run the real labcm binary on a real data dir."""
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

LABCM = os.environ.get("LABCM_BIN", os.path.join(os.path.dirname(__file__), "../../build/release/labcm"))
TMP_ROOT = os.environ.get("LABCM_TEST_TMP") or tempfile.gettempdir()


class LabcmTestCase(unittest.TestCase):
    """Each test gets its own data dir; servers it starts are stopped by PID."""

    def setUp(self):
        os.makedirs(TMP_ROOT, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="it-", dir=TMP_ROOT)
        self.data = os.path.join(self.dir, "data")
        self.servers = []

    def tearDown(self):
        for proc in self.servers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            if proc.stderr_file:
                proc.stderr_file.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def labcm(self, *args, input_text=None, timeout=60):
        """Runs `labcm --data-dir <data> args...`; returns CompletedProcess (text)."""
        return subprocess.run([LABCM, "--data-dir", self.data, *args], input=input_text,
                              capture_output=True, text=True, timeout=timeout)

    def ok(self, *args):
        r = self.labcm(*args)
        self.assertEqual(r.returncode, 0, f"labcm {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
        return r.stdout

    def fails(self, *args, message=None):
        r = self.labcm(*args)
        self.assertNotEqual(r.returncode, 0, f"labcm {' '.join(args)} should fail:\n{r.stdout}")
        if message is not None:
            self.assertIn(message, r.stderr)
        return r.stderr

    def db(self):
        return sqlite3.connect(os.path.join(self.data, "labcm.db"))

    def dump(self):
        """Every row of every user table, to prove a failed command changed nothing."""
        with self.db() as c:
            tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
            return {t: c.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables if t != "events"}

    def write_file(self, name, content):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)
        return path

    # --- a running server -----------------------------------------------------------
    @staticmethod
    def free_port(kind=socket.SOCK_STREAM):
        """A port nothing listens on right now, on 127.0.0.1 (TCP and UDP both free)."""
        for _ in range(50):
            with socket.socket(socket.AF_INET, kind) as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            other = socket.SOCK_DGRAM if kind == socket.SOCK_STREAM else socket.SOCK_STREAM
            with socket.socket(socket.AF_INET, other) as s:
                try:
                    s.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    continue
        raise RuntimeError("no free port")

    def use_loopback_ports(self):
        """Points the phone-facing services at 127.0.0.1 and free ports (set before serve)."""
        if getattr(self, "http_port", None):
            return
        self.http_port = self.free_port()
        self.tftp_port = self.free_port(socket.SOCK_DGRAM)
        self.sip_port = self.free_port()
        self.admin_port = self.free_port()
        self.ok("setting", "set", "admin_bind", "127.0.0.1")
        self.ok("setting", "set", "admin_port", str(self.admin_port))
        self.ok("setting", "set", "bind_address", "127.0.0.1")
        self.ok("setting", "set", "http_port", str(self.http_port))
        self.ok("setting", "set", "tftp_port", str(self.tftp_port))
        self.ok("setting", "set", "sip_port", str(self.sip_port))

    def start_server(self):
        self.use_loopback_ports()
        log_path = os.path.join(self.dir, f"serve-{len(self.servers)}.log")
        log = open(log_path, "w+", encoding="utf-8")
        proc = subprocess.Popen([LABCM, "--data-dir", self.data, "serve"], stdout=log, stderr=subprocess.STDOUT)
        proc.stderr_file = log
        proc.log_path = log_path
        self.servers.append(proc)
        sock = os.path.join(self.data, "control.sock")
        self.wait_for(lambda: self.answers(sock) or proc.poll() is not None, "the control socket to answer")
        self.assertIsNone(proc.poll(), f"serve exited early:\n{self.log_of(proc)}")
        return proc

    @staticmethod
    def answers(path):
        """True when something accepts connections on the unix socket (a stale file does not)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(path)
                return True
            except OSError:
                return False

    def log_of(self, proc):
        with open(proc.log_path, encoding="utf-8") as f:
            return f.read()

    def stop_server(self, proc, sig=signal.SIGTERM):
        proc.send_signal(sig)
        rc = proc.wait(timeout=10)
        return rc

    def wait_for(self, predicate, what, seconds=10.0, step=0.05):
        """Polls predicate at most seconds/step times; fails the test when it never holds."""
        for _ in range(int(seconds / step)):
            if predicate():
                return
            time.sleep(step)
        self.fail(f"timed out after {seconds}s waiting for {what}")
