"""Shared helpers for integration tests: run the real labcm binary on a real data dir.

Tests wait for facts, never for time: a started server is used once its `status` says
ready (every listener bound), and anything the server does behind its answers (log lines,
events, registrations and sightings saved through its writer thread) is asserted through
LabcmTestCase.eventually, the one polling loop (poll() below), with a bounded deadline."""
import fcntl
import json
import os
import random
import shutil
import sys
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

LABCM = os.environ.get("LABCM_BIN", os.path.join(os.path.dirname(__file__), "../../build/release/labcm"))
TMP_ROOT = os.environ.get("LABCM_TEST_TMP") or tempfile.gettempdir()
POLL_STEP = 0.05     # seconds between two tries of a polled check
READY_SECONDS = 15.0  # how long a starting `labcm serve` may take to bind every listener


def poll(check, seconds, step=POLL_STEP):
    """The one polling loop of the integration tests. Calls check() until it returns a truthy
    value without raising AssertionError: at most seconds/step + 1 tries, none started after
    the deadline (the first try always runs). Returns (True, value) when it passed, else
    (False, why): the last AssertionError, or the last falsy value check() returned. Any
    other exception is a bug in the test and propagates at once."""
    deadline = time.monotonic() + seconds
    tries = max(1, int(seconds / step)) + 1
    why = None
    for i in range(tries):
        try:
            value = check()
            if value:
                return True, value
            why = f"the check returned {value!r} (a check returns a truthy value when it passes)"
        except AssertionError as e:
            why = e
        left = deadline - time.monotonic()
        if i == tries - 1 or left <= 0:
            break
        time.sleep(min(step, left))
    return False, why


# Ports this process reserved: the lock files stay open (locked) until the process ends.
_RESERVED_PORTS = {}


def reserve_port(port):
    """Reserves `port` among every test process on this machine (two test runs at once
    included) with an exclusive lock on /tmp/labcm-test-ports/<port>: a port found free is
    otherwise free for two processes at the same moment, and the second server's bind fails
    (seen: EADDRINUSE on a TFTP port under two CI runs at once). Released when the process ends."""
    if port in _RESERVED_PORTS:
        return False  # handed out already: one port per use
    folder = os.path.join(tempfile.gettempdir(), "labcm-test-ports")
    os.makedirs(folder, mode=0o1777, exist_ok=True)
    fd = os.open(os.path.join(folder, str(port)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _RESERVED_PORTS[port] = fd
    return True


def ephemeral_port_range():
    """The kernel's range for client source ports (net.ipv4.ip_local_port_range)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            lo, hi = (int(x) for x in f.read().split())
        return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def server_ready(sock_path, timeout=2.0):
    """True only when a `labcm serve` answers `status` on its control socket with ok and
    result.ready true (every listener is bound). A missing or stale socket, a timeout, a
    closed connection or a reply that is not that JSON: False."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(sock_path)
            s.sendall(json.dumps({"cmd": "status", "args": {}}).encode() + b"\n")
            with s.makefile("rb") as f:
                line = f.readline(1 << 20)
        reply = json.loads(line)
    except (OSError, ValueError):  # socket.timeout is an OSError; JSON and UTF-8 errors are ValueErrors
        return False
    if not isinstance(reply, dict) or reply.get("ok") is not True:
        return False
    result = reply.get("result")
    return isinstance(result, dict) and result.get("ready") is True


class LabcmTestCase(unittest.TestCase):
    """Each test gets its own data dir; servers it starts are stopped by PID."""

    def setUp(self):
        os.makedirs(TMP_ROOT, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="it-", dir=TMP_ROOT)
        self.data = os.path.join(self.dir, "data")
        self.servers = []

    def tearDown(self):
        failed = self.failed()
        for proc in self.servers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            if proc.stderr_file:
                proc.stderr_file.close()
            if failed and getattr(proc, "log_path", None):
                # The data dir goes below: what the server logged goes with the failure.
                print(f"\n--- {self.id()}: the end of {os.path.basename(proc.log_path)} (pid {proc.pid}, exit "
                      f"{proc.returncode}) ---\n{self.log_tail(proc, 80)}", file=sys.stderr)
        shutil.rmtree(self.dir, ignore_errors=True)

    def failed(self):
        """Whether this test has failed so far (unittest keeps it in the running outcome)."""
        result = getattr(getattr(self, "_outcome", None), "result", None)
        return any(test is self for test, _ in getattr(result, "failures", []) + getattr(result, "errors", []))

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
        """A port nothing uses right now on 127.0.0.1 (TCP and UDP both free), chosen at random
        outside the kernel's ephemeral range: a server restarted on the same ports must find
        them free, and a port from the ephemeral range can meanwhile become the source port of
        any client connection on the machine (seen: a kill -9 test's restart under two test
        runs at once got EADDRINUSE on its admin port)."""
        lo, hi = ephemeral_port_range()
        first, last = (10000, lo - 1) if lo > 11000 else (hi + 1, 65535)
        for _ in range(200):
            port = random.randint(first, last)
            if not reserve_port(port):
                continue  # another test process (of any test run on this machine) has it
            try:
                for k in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(socket.AF_INET, k) as s:
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

    def start_server(self, env=None, prefix=()):
        """Starts `labcm serve` (env: extra environment, e.g. LABCM_TEST_FAULT; prefix: a
        command that runs it, e.g. prlimit) and waits until ready."""
        self.use_loopback_ports()
        log_path = os.path.join(self.dir, f"serve-{len(self.servers)}.log")
        log = open(log_path, "w+", encoding="utf-8")
        proc = subprocess.Popen([*prefix, LABCM, "--data-dir", self.data, "serve"], stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})})
        proc.stderr_file = log
        proc.log_path = log_path
        self.servers.append(proc)
        self.wait_until_ready(proc)
        return proc

    def wait_until_ready(self, proc, seconds=READY_SECONDS):
        """Waits (bounded) until the server on this data dir says ready in its `status`, or
        fails the test, with the server's log, when it does not or the process exits first.
        For every `labcm serve` a test starts, also in another network namespace: the control
        socket is a unix socket in the data dir, reachable from here. proc.log_path, when set,
        names the file its output goes to."""
        sock = os.path.join(self.data, "control.sock")

        def ready():
            if proc.poll() is not None or server_ready(sock):
                return True
            raise self.failureException(f"status on {sock} does not say ready: true; the server log ends:\n"
                                        f"{self.log_tail(proc)}")
        self.eventually(ready, "labcm serve to be ready (every listener bound)", seconds)
        self.assertIsNone(proc.poll(), f"serve exited early (exit {proc.returncode}):\n{self.log_tail(proc)}")

    def log_of(self, proc):
        with open(proc.log_path, encoding="utf-8") as f:
            return f.read()

    def log_tail(self, proc, lines=40):
        if not getattr(proc, "log_path", None):
            return "(no log file)"
        return "\n".join(self.log_of(proc).splitlines()[-lines:])

    def stop_server(self, proc, sig=signal.SIGTERM):
        proc.send_signal(sig)
        rc = proc.wait(timeout=10)
        return rc

    def udp_register(self, local, contact_host, call_id, cseq=101, expires=3600, mac="001122AABBCC",
                     user_agent="Cisco-CP8845/14.2.1", contact_params=""):
        """One REGISTER as an 8845 over UDP from `local` (a loopback address) naming
        `contact_host` in its Contact; returns the status line and the reply."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind((local, 0))
        sock.settimeout(10)
        port = sock.getsockname()[1]
        contact = (f"<sip:aabbcc-1@{contact_host}:{port};transport=udp>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-{mac}>\";"
                   f"+u.sip!devicename.ccm.cisco.com=\"SEP{mac}\";+u.sip!model.ccm.cisco.com=\"36670\"{contact_params}")
        sock.sendto("\r\n".join([
            f"REGISTER sip:127.0.0.1:{self.sip_port} SIP/2.0", f"Via: SIP/2.0/UDP {local}:{port};branch=z9hG4bK-{call_id.split('@')[0]}-{cseq}",
            "From: <sip:1001@127.0.0.1>;tag=t1", "To: <sip:1001@127.0.0.1>", f"Call-ID: {call_id}", "Max-Forwards: 70",
            f"CSeq: {cseq} REGISTER", f"User-Agent: {user_agent}", f"Contact: {contact}", f"Expires: {expires}",
            "Content-Length: 0", "", ""]).encode(), ("127.0.0.1", self.sip_port))
        reply = sock.recv(65536).decode(errors="replace")
        return reply.split("\r\n", 1)[0], reply

    # --- asynchronous facts -------------------------------------------------------------
    def eventually(self, check, what, seconds=15.0, step=POLL_STEP):
        """Asserts something the server does behind its answers (a log line, an event, a row
        its writer thread saves, a registration state): retries check() (bounded, see poll())
        until it returns a truthy value without an AssertionError, and returns that value; else
        fails the test with the last assertion's message. The check asserts the same final
        fact a synchronous test would; only the moment it is asserted waits."""
        ok, result = poll(check, seconds, step)
        if not ok:
            self.fail(f"timed out after {seconds}s waiting for {what}: {result}")
        return result

    def wait_for(self, predicate, what, seconds=10.0, step=POLL_STEP):
        """A true/false predicate, polled through eventually; returns its value."""
        return self.eventually(predicate, what, seconds, step)

    def wait_for_log(self, proc, text, seconds=15.0):
        """Waits until the server's log (stdout and stderr) contains text; returns the log."""
        def logged():
            log = self.log_of(proc)
            if text not in log:
                tail = "\n".join(log.splitlines()[-30:])
                raise self.failureException(f"{text!r} is not in the server log; it ends:\n{tail}")
            return log
        return self.eventually(logged, f"the server log line {text!r}", seconds)
