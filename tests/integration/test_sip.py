"""The SIP registrar of a real `labcm serve`, driven by sipp (Debian sip-tester) as a Cisco
8845: CUCM-style answers checked header by header in the scenarios (tests/integration/sipp/),
load IDs and Last= stored, restart NOTIFY over the phone's own connection, and a labcm
restart survived."""
import json
from contextlib import closing
import os
import re
import signal
import socket
import subprocess
import time
import unittest
import urllib.request

from labcm_test import LabcmTestCase

HERE = os.path.dirname(os.path.abspath(__file__))
MAC = "001122AABBCC"
CALL_ID = "001122aa-bbcc0003-11223344-55667788@127.0.0.1"


class Registrar(LabcmTestCase):
    def setUp(self):
        super().setUp()
        self.ok("device", "add", f"SEP{MAC}", "--model", "8845", "--line", "1001", "--line", "1000")
        self.server = self.start_server()
        self.sipps = []

    def tearDown(self):
        for p in self.sipps:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
        super().tearDown()

    def sipp(self, scenario, transport, mac=MAC, extra=()):
        """Starts sipp (one call) as a phone on its own loopback port; returns the process.
        -aa: sipp answers labcm's out-of-dialog NOTIFY with 200 and logs it (-trace_msg)."""
        port = self.free_port() if transport == "t1" else self.free_port(socket.SOCK_DGRAM)
        n = len(self.sipps)
        log = open(os.path.join(self.dir, f"sipp-{n}.log"), "w")
        args = ["sipp", f"127.0.0.1:{self.sip_port}", "-sf", os.path.join(HERE, "sipp", scenario), "-m", "1",
                "-t", transport, "-i", "127.0.0.1", "-p", str(port), "-key", "mac", mac, "-cid_str", CALL_ID.replace("127.0.0.1", "%s"),
                "-aa", "-timeout", "60s", "-timeout_error", "-trace_err",
                "-error_file", os.path.join(self.dir, f"sipp-{n}.err"),
                "-trace_msg", "-message_file", os.path.join(self.dir, f"sipp-{n}.msg"), *extra]
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.dir)
        p.log = log
        self.sipps.append(p)
        return p

    def finish(self, p):
        rc = p.wait(timeout=90)
        p.log.close()
        err = os.path.join(self.dir, f"sipp-{self.sipps.index(p)}.err")
        errors = ""
        if os.path.exists(err):
            with open(err) as f:
                errors = f.read()
        self.assertEqual(rc, 0, f"sipp failed (exit {rc}):\n{errors[-3000:]}")

    def received_notify(self, p):
        """The NOTIFY labcm sent to this sipp, as sipp received it."""
        with open(os.path.join(self.dir, f"sipp-{self.sipps.index(p)}.msg"), errors="replace") as f:
            trace = f.read()
        start = trace.find("NOTIFY sip:")
        self.assertNotEqual(start, -1, "sipp received no NOTIFY")
        return trace[start:start + 2000]

    def registration(self, mac=MAC):
        return json.loads(self.ok("--json", "device", "show", f"SEP{mac}"))["result"]["registration"]

    def stored_registration(self, mac, **expected):
        """Polls until the stored registration has every expected field (the registrar answers
        sipp before its writer thread saves the registration); returns it."""
        def stored():
            reg = self.registration(mac)
            self.assertEqual({k: reg.get(k) for k in expected}, expected)
            return reg
        return self.eventually(stored, f"SEP{mac}'s stored registration to be {expected}")

    def restart_phone(self):
        # The NOTIFY goes out once sipp is waiting for it; retried while the keep-alive is in flight.
        def restarted():
            r = self.labcm("device", "restart", f"SEP{MAC}", "--wait", "0")  # sipp fetches no config
            self.assertEqual(r.returncode, 0, f"labcm device restart: {r.stderr}")
            return r
        return self.eventually(restarted, "labcm device restart to succeed", seconds=30, step=0.1).stdout

    def run_register_notify(self, transport):
        p = self.sipp("register_notify.xml", transport)
        self.wait_for(lambda: self.registration()["state"] == "registered", "the phone to be registered")
        reg = self.registration()
        self.assertEqual(reg["active_load"], "sip8845_65.14-2-1-0001-14")
        self.assertEqual(reg["inactive_load"], "sip8845_65.12-8-1-0001-455")
        self.assertEqual(reg["user_agent"], "Cisco-CP8845/14.2.1")
        self.assertEqual(reg["model_id"], 36224)
        self.assertEqual(reg["lines"], 2)  # bulk registration: every line of the device
        self.assertEqual(reg["transport"], "tcp" if transport == "t1" else "udp")
        out = self.restart_phone()
        self.assertIn("service-control restart -> 200", out)
        self.finish(p)
        notify = self.received_notify(p)
        self.assertRegex(notify, r"^NOTIFY sip:3f2a9c1e-0b7d-4e55-9a10-6c2d8e4f1a00@127\.0\.0\.1:\d+;transport=")
        self.assertRegex(notify, r"(?m)^Event: service-control")
        self.assertRegex(notify, r"(?m)^Subscription-State: active")
        self.assertRegex(notify, r"(?m)^Content-Type: text/plain")
        self.assertIn("action=restart", notify)
        self.assertIn(f"RegisterCallId={{{CALL_ID}}}", notify)
        self.assertRegex(notify, r"ConfigVersionStamp=\{[0-9a-f-]{36}\}")
        self.wait_for(lambda: self.registration()["state"] == "unregistered", "the unregister to be stored")
        reg = self.registration()
        self.assertEqual(reg["last"], "reset-restart")
        self.assertEqual(reg["alarm"], 23)
        show = self.ok("device", "show", f"SEP{MAC}")
        self.assertIn("active load:   sip8845_65.14-2-1-0001-14", show)
        self.assertIn("last reason:   reset-restart (cisco-alarm 23)", show)
        # Events reach the table in batches (every 250 ms).
        for kind in ("phone_registered", "phone_controlled", "phone_unregistered"):
            self.wait_for(lambda: kind in self.ok("events", "--device", f"SEP{MAC}", "--limit", "100"), kind)

    def test_register_keepalive_restart_unregister_over_tcp(self):
        self.run_register_notify("t1")

    def test_register_keepalive_restart_unregister_over_udp(self):
        self.run_register_notify("u1")

    def test_7970_oddities_over_udp_and_the_other_methods(self):
        mac = "001122AABB70"
        self.ok("device", "add", f"SEP{mac}", "--model", "7970", "--line", "1001", "--transport", "udp")
        p = self.sipp("oddities_methods.xml", "u1", mac=mac)
        self.finish(p)
        self.stored_registration(mac, state="registered",
                                 active_load="SIP70.8-4-2-30S",  # Load= form
                                 inactive_load="", last="phone-keypad", model_id=30006)

    def test_digest_authentication(self):
        self.ok("line", "add", f"SEP{MAC}", "1002", "--index", "3", "--auth-name", "alice", "--auth-password", "s3cret")
        # Off by default: no challenge.
        self.finish(self.sipp("register_only.xml", "u1"))
        self.ok("device", "edit", f"SEP{MAC}", "--digest", "on")
        self.assertIn("digest auth: on", self.ok("device", "show", f"SEP{MAC}"))
        for transport in ("u1", "t1"):
            with self.subTest(transport=transport):
                self.finish(self.sipp("register_auth.xml", transport, extra=("-au", "alice", "-ap", "s3cret")))
        self.finish(self.sipp("register_auth_wrong.xml", "u1", extra=("-au", "alice", "-ap", "guess")))
        self.finish(self.sipp("register_auth_wrong.xml", "u1", extra=("-au", "mallory", "-ap", "s3cret")))
        for why in ("wrong password for 'alice'", "no credentials for 'mallory'"):
            self.wait_for(lambda: why in self.ok("events", "--device", f"SEP{MAC}", "--limit", "50"), why)
        # A password change takes effect at once.
        self.ok("line", "rm", f"SEP{MAC}", "3")
        self.ok("line", "add", f"SEP{MAC}", "1002", "--index", "3", "--auth-name", "alice", "--auth-password", "n3w")
        # The new device view reaches the SIP thread as a posted job: poll until the new
        # password works (bounded), then the old one must fail.
        def new_password_works():
            p = self.sipp("register_auth.xml", "u1", extra=("-au", "alice", "-ap", "n3w"))
            return p.wait(timeout=90) == 0
        self.wait_for(new_password_works, "the new password to be accepted", seconds=10, step=0.2)
        self.finish(self.sipp("register_auth_wrong.xml", "u1", extra=("-au", "alice", "-ap", "s3cret")))

    def test_sip_require_digest_challenges_every_phone(self):
        """Issue 19: with sip_require_digest (read at start) a device whose own digest setting
        is off is challenged too, and registers only with its line's credentials."""
        self.ok("line", "add", f"SEP{MAC}", "1002", "--index", "3", "--auth-name", "alice", "--auth-password", "s3cret")
        self.assertIn("digest auth: off", self.ok("device", "show", f"SEP{MAC}"))
        self.ok("setting", "set", "sip_require_digest", "true")
        self.stop_server(self.server)
        self.server = self.start_server()
        self.finish(self.sipp("register_auth_wrong.xml", "u1", extra=("-au", "alice", "-ap", "guess")))
        self.finish(self.sipp("register_auth.xml", "t1", extra=("-au", "alice", "-ap", "s3cret")))
        self.stored_registration(MAC, state="registered", transport="tcp")

    def test_a_retransmitted_udp_register_gets_the_same_answer_and_counts_once(self):
        """REGISTER is answered without a server transaction (no 32 s of memory per UDP
        REGISTER): a retransmission reaches the registrar, which must answer it as it answered
        the original (the same Contact echo with x-cisco-newreg, the same Expires) and change
        nothing (one registration, one event). The next CSeq is a keep-alive, saved with the
        next batch of refreshes (every 250 ms)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        port = sock.getsockname()[1]
        contact = (f"<sip:aabbcc-1@127.0.0.1:{port};transport=udp>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-{MAC}>\";"
                   f"+u.sip!devicename.ccm.cisco.com=\"SEP{MAC}\";+u.sip!model.ccm.cisco.com=\"36670\"")
        register = "\r\n".join([
            f"REGISTER sip:127.0.0.1:{self.sip_port} SIP/2.0", f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-retrans-1",
            "From: <sip:1001@127.0.0.1>;tag=retrans", "To: <sip:1001@127.0.0.1>", "Call-ID: retrans-1@127.0.0.1",
            "Max-Forwards: 70", "CSeq: 101 REGISTER", "User-Agent: Cisco-CP8845/14.2.1", f"Contact: {contact}",
            "Expires: 3600", "Content-Length: 0", "", ""]).encode()

        def answer():
            sock.sendto(register, ("127.0.0.1", self.sip_port))
            reply = sock.recv(65536).decode(errors="replace")
            headers = {}
            for line in reply.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip().lower(), value.strip())
            return reply.split("\r\n", 1)[0], headers

        first_status, first = answer()
        again_status, again = answer()
        self.assertEqual(first_status, "SIP/2.0 200 OK")
        self.assertEqual(again_status, first_status)
        self.assertIn("x-cisco-newreg", first["contact"])
        for header in ("contact", "expires", "cseq", "call-id", "via"):
            self.assertEqual(again[header], first[header], header)
        first_row = self.stored_registration(MAC, state="registered", transport="udp")
        # The keep-alive (next CSeq): a refresh, saved with the next batch of refreshes.
        register = register.replace(b"CSeq: 101", b"CSeq: 102")
        status, refreshed = answer()
        self.assertEqual(status, "SIP/2.0 200 OK")
        self.assertNotIn("x-cisco-newreg", refreshed["contact"])

        def saved_later():
            row = self.registration()
            self.assertGreater(row["last_seen"], first_row["last_seen"])
            return row
        last = self.eventually(saved_later, "the refresh to be saved")
        # And the next ones: refreshes are saved by a timer that must fire again and again (it
        # once fired only once, as did the expiry sweep, which also saved refreshes: every
        # refresh after the first two flushes was lost). Three more need three more flushes.
        for cseq in (103, 104, 105):
            register = re.sub(rb"CSeq: \d+", f"CSeq: {cseq}".encode(), register)
            self.assertEqual(answer()[0], "SIP/2.0 200 OK")

            def saved_again():
                row = self.registration()
                self.assertGreater(row["last_seen"], last["last_seen"])
                return row
            last = self.eventually(saved_again, f"the refresh with CSeq {cseq} to be saved")
        # An unregister after them: once its event is stored, every earlier one is (one writer, in order).
        register = re.sub(rb"CSeq: \d+", b"CSeq: 106", register).replace(b"Expires: 3600", b"Expires: 0")
        self.assertEqual(answer()[0], "SIP/2.0 200 OK")
        self.wait_for(lambda: "phone_unregistered" in self.ok("events", "--device", f"SEP{MAC}", "--limit", "100"),
                      "the unregister event")
        events = self.ok("events", "--device", f"SEP{MAC}", "--limit", "100")
        self.assertEqual(events.count("phone_registered"), 1, events)
        # Nothing was shed: the kernel's drop count of the SIP UDP socket, in status and /metrics.
        self.assertEqual(json.loads(self.ok("--json", "status"))["result"]["sip_udp_dropped"], 0)

    def test_device_show_escapes_control_characters_from_the_network(self):
        """Issue 19: a User-Agent with terminal escapes is shown as \\xNN by the CLI."""
        status, _ = self.udp_register("127.0.0.1", "127.0.0.1", "ua-1@127.0.0.1",
                                      user_agent="Cisco-CP8845/14.2.1 \x1b]0;pwned\x07\x1b[2J")
        self.assertEqual(status, "SIP/2.0 200 OK")
        self.stored_registration(MAC, state="registered")
        shown = self.ok("device", "show", f"SEP{MAC}")
        self.assertNotIn("\x1b", shown)
        self.assertNotIn("\x07", shown)
        self.assertIn("Cisco-CP8845/14.2.1 \\x1b]0;pwned\\x07\\x1b[2J", shown)

    def test_as_a_standby_call_manager_labcm_keeps_the_phone_alive_without_taking_it(self):
        """Issue 20, step 9: the callManagerGroup lists the call_managers setting in priority
        order; as a standby labcm answers the phone's keep-alive (Expires 0, cisco-keep-alive)
        with 200 and does not register it, and the token REFER before a failback with 202."""
        self.ok("setting", "set", "call_managers", "127.0.0.9:5070,self")
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/SEP{MAC}.cnf.xml", timeout=30) as r:
            sep = r.read().decode()
        members = re.findall(r'<member priority="(\d)">.*?<processNodeName>([^<]*)</processNodeName>', sep, re.S)
        self.assertEqual([m for m in members], [("0", "127.0.0.9"), ("1", "127.0.0.1")])
        self.assertIn("<sipPort>5070</sipPort>", sep)
        status, _ = self.udp_register("127.0.0.1", "127.0.0.1", "standby-1@127.0.0.1", expires=0,
                                      contact_params=";expires=0;cisco-keep-alive")
        self.assertEqual(status, "SIP/2.0 200 OK")
        self.assertEqual(self.registration()["state"], "never")  # kept alive, not taken over
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        port = sock.getsockname()[1]
        sock.sendto("\r\n".join([
            f"REFER sip:127.0.0.1:{self.sip_port} SIP/2.0", f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-token-1",
            f"From: <sip:1001@127.0.0.1>;tag=t9", f"To: <sip:127.0.0.1:{self.sip_port}>", "Call-ID: token-1@127.0.0.1",
            "CSeq: 1 REFER", "Max-Forwards: 70", f"Contact: <sip:aabbcc-1@127.0.0.1:{port};transport=udp>",
            "Refer-To: <urn:X-cisco-remotecc:token-registration>", "Referred-By: <sip:1001@127.0.0.1>",
            "Content-Length: 0", "", ""]).encode(), ("127.0.0.1", self.sip_port))
        self.assertEqual(sock.recv(65536).decode(errors="replace").split("\r\n", 1)[0], "SIP/2.0 202 Accepted")

    def test_a_registration_belongs_to_its_phone(self):
        """Issue 19: another host cannot take over, unregister or redirect a phone's registration."""
        status, _ = self.udp_register("127.0.0.1", "127.0.0.1", "phone-1@127.0.0.1")
        self.assertEqual(status, "SIP/2.0 200 OK")
        # A stranger on 127.0.0.2 registers the same device: 403, the phone keeps it.
        status, _ = self.udp_register("127.0.0.2", "127.0.0.2", "thief-1@127.0.0.2")
        self.assertEqual(status, "SIP/2.0 403 Forbidden")
        status, _ = self.udp_register("127.0.0.2", "127.0.0.2", "thief-1@127.0.0.2", cseq=102, expires=0)
        self.assertEqual(status, "SIP/2.0 403 Forbidden")
        self.stored_registration(MAC, state="registered", transport="udp")
        self.assertTrue(self.registration()["source"].startswith("udp:127.0.0.1:"), self.registration())
        self.wait_for(lambda: "registration from 127.0.0.2 refused: SEP001122AABBCC is registered from 127.0.0.1"
                      in self.ok("events", "--device", MAC), "the refusal as an event of the phone")
        # A Contact naming a third party (a NOTIFY reflector) is refused even for a free device.
        self.ok("device", "add", "SEP001122AABBCE", "--model", "8845", "--line", "1005")
        status, reply = self.udp_register("127.0.0.2", "127.0.0.9", "reflect-1@127.0.0.2", mac="001122AABBCE")
        self.assertEqual(status, "SIP/2.0 403 Forbidden", reply)
        # The phone itself still refreshes and unregisters.
        status, _ = self.udp_register("127.0.0.1", "127.0.0.1", "phone-1@127.0.0.1", cseq=102)
        self.assertEqual(status, "SIP/2.0 200 OK")
        status, _ = self.udp_register("127.0.0.1", "127.0.0.1", "phone-1@127.0.0.1", cseq=103, expires=0)
        self.assertEqual(status, "SIP/2.0 200 OK")
        self.stored_registration(MAC, state="unregistered")

    def tcp_register(self, sock, cseq, expires=3600):
        """A REGISTER as an 8845 over the TCP connection `sock`; returns the status line."""
        local, port = sock.getsockname()[:2]
        contact = (f"<sip:aabbcc-1@{local}:{port};transport=tcp>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-{MAC}>\";"
                   f"+u.sip!devicename.ccm.cisco.com=\"SEP{MAC}\";+u.sip!model.ccm.cisco.com=\"36670\"")
        sock.sendall("\r\n".join([
            f"REGISTER sip:127.0.0.1:{self.sip_port} SIP/2.0", f"Via: SIP/2.0/TCP {local}:{port};branch=z9hG4bK-tcp-{cseq}",
            "From: <sip:1001@127.0.0.1>;tag=t1", "To: <sip:1001@127.0.0.1>", f"Call-ID: tcp-1@{local}", "Max-Forwards: 70",
            f"CSeq: {cseq} REGISTER", "User-Agent: Cisco-CP8845/14.2.1", f"Contact: {contact}", f"Expires: {expires}",
            "Content-Length: 0", "", ""]).encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(65536)
            self.assertTrue(chunk, "labcm closed the phone's connection")
            reply += chunk
        return reply.decode(errors="replace").split("\r\n", 1)[0]

    def connect_from(self, local, timeout=10):
        """A TCP connection to the SIP port from the loopback address `local`."""
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(c.close)
        c.settimeout(timeout)
        c.bind((local, 0))
        c.connect(("127.0.0.1", self.sip_port))
        return c

    def closed_by_labcm(self, c, seconds):
        """True when labcm closes the connection `c` (end of stream or reset) within `seconds`."""
        c.settimeout(seconds)
        try:
            return c.recv(1024) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def test_tcp_connections_are_capped_and_those_that_never_register_are_closed(self):
        """Issue 19: idle TCP connections cannot take the descriptors. Under a limit of 512
        descriptors labcm keeps at most 256 SIP connections (the limit less what the other
        services need) and 16 per address (setting connections_per_address); more are closed
        at once, counted and logged once a second. A connection that registers nothing is shut
        down after 10 s (limits::kSipUnregisteredConnection); a registered phone's stays, and
        the phone refreshes over it while the port is full. The CLI answers throughout."""
        self.stop_server(self.server)
        server = self.start_server(prefix=("prlimit", "--nofile=512:512", "--"))
        phone = self.connect_from("127.0.0.1")
        self.assertEqual(self.tcp_register(phone, 1), "SIP/2.0 200 OK")
        # One address: 16 kept, the 17th to 20th closed at once.
        same = [self.connect_from("127.0.0.5") for _ in range(20)]
        self.assertTrue(all(self.closed_by_labcm(c, 5) for c in same[16:]), "connections past the per-address cap")
        self.assertFalse(any(self.closed_by_labcm(c, 0.05) for c in same[:16]), "connections within the per-address cap")
        # Many addresses: 300 more, 15 per address; labcm holds 256 in all.
        many = [self.connect_from(f"127.0.6.{1 + i // 15}") for i in range(300)]
        status = self.eventually(lambda: (lambda r: r if r["sip_tcp_refused_cap"] > 0 else self.fail(r))(
            json.loads(self.ok("--json", "status"))["result"]), "refusals at the total cap", 10)
        self.assertLessEqual(status["sip_tcp_active"], 256, status)
        self.assertGreaterEqual(status["sip_tcp_refused_address"], 4, status)
        self.assertEqual(self.tcp_register(phone, 2), "SIP/2.0 200 OK")  # the registered phone still refreshes
        # Within 10 s (+ the sweep's second) labcm closes every connection that holds no registration.
        for c in same[:16] + many:
            self.assertTrue(self.closed_by_labcm(c, 20), "an idle connection left open")
        # sofia closes each when it reads the end; the next sweep counts it gone.
        status = self.eventually(lambda: (lambda r: r if r["sip_tcp_active"] == 1 else self.fail(r))(
            json.loads(self.ok("--json", "status"))["result"]), "the shut connections closed", 10)
        self.assertGreaterEqual(status["sip_tcp_closed_unregistered"], 16 + 256 - 17, status)
        self.assertEqual(self.tcp_register(phone, 3), "SIP/2.0 200 OK")
        refusals = [l for l in self.log_of(server).splitlines() if "TCP connection from" in l and "refused" in l]
        self.assertGreaterEqual(len(refusals), 1)
        self.assertLess(len(refusals), 40, refusals[:5])  # at most one a second
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        self.assertRegex(metrics, r"\nlabcm_sip_tcp_refused_cap_total [1-9]")
        self.assertRegex(metrics, r"\nlabcm_sip_tcp_active 1\n")
        # A new phone connection registers at once now.
        other = self.connect_from("127.0.0.1")
        self.assertEqual(self.tcp_register(other, 4), "SIP/2.0 200 OK")

    def test_sip_sheds_connections_when_no_descriptor_is_left(self):
        """Issue 19: with every descriptor taken (idle HTTP connections from many addresses,
        under a limit of 300), a SIP connection is accepted on the spare descriptor and closed
        at once, counted, without a busy loop or a flood of log lines; once the descriptors
        are back, a phone registers over TCP."""
        self.stop_server(self.server)
        # Under the sanitizers (debug-asan): UBSan's vptr check reads the object through a
        # pipe(2) it opens per check and, with no descriptor left, reports a false "invalid
        # vptr" (a report that cannot be suppressed: the type is unknown). For this server
        # UBSan reports do not stop it and are not symbolized (a symbolizer needs descriptors
        # too); ASan's reports still stop it.
        ubsan = ":".join(filter(None, [os.environ.get("UBSAN_OPTIONS"), "halt_on_error=0:print_stacktrace=0:symbolize=0"]))
        server = self.start_server(env={"UBSAN_OPTIONS": ubsan}, prefix=("prlimit", "--nofile=300:300", "--"))
        held = []
        for i in range(400):  # bounded: stops at the first refusal or reset
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.addCleanup(c.close)
            c.settimeout(5)
            c.bind((f"127.0.7.{1 + i // 10}", 0))
            c.connect(("127.0.0.1", self.http_port))
            held.append(c)
        # labcm accepts them as fast as it can: wait until its descriptors are all taken.
        fds = f"/proc/{server.pid}/fd"  # prlimit execs labcm: the same process
        self.wait_for(lambda: len(os.listdir(fds)) >= 299, "labcm to hold 300 descriptors", seconds=20)
        sip = [self.connect_from("127.0.0.9") for _ in range(5)]
        self.assertTrue(all(self.closed_by_labcm(c, 5) for c in sip), "a SIP connection without a descriptor")
        for c in held:
            c.close()
        status = self.eventually(lambda: json.loads(self.ok("--json", "status"))["result"], "labcm status", 10)
        self.assertGreaterEqual(status["sip_tcp_refused_descriptors"], 5, status)
        phone = self.eventually(lambda: self.connect_from("127.0.0.1"), "a descriptor for a new connection", 10)
        self.assertEqual(self.tcp_register(phone, 1), "SIP/2.0 200 OK")
        refusals = [l for l in self.log_of(server).splitlines() if "no file descriptor left" in l]
        self.assertLess(len(refusals), 20, refusals[:5])

    def test_sightings_of_invented_phones_are_rate_limited_per_source(self):
        """Issue 19: REGISTERs for 40 invented MACs from one address are all answered 404,
        but only the first 20 are remembered in seen_phones (limits::kSightingsPerSourceBurst);
        the rest are counted, and another address still gets its sighting recorded."""
        for i in range(40):
            status, _ = self.udp_register("127.0.0.3", "127.0.0.3", f"flood-{i}@127.0.0.3", mac=f"0000FF{i:06X}")
            self.assertEqual(status, "SIP/2.0 404 Not Found")
        status, _ = self.udp_register("127.0.0.4", "127.0.0.4", "other-1@127.0.0.4", mac="0000FE000001")
        self.assertEqual(status, "SIP/2.0 404 Not Found")

        def rows():
            with closing(self.db()) as c:
                n = c.execute("SELECT COUNT(*) FROM seen_phones WHERE address = '127.0.0.3'").fetchone()[0]
                other = c.execute("SELECT COUNT(*) FROM seen_phones WHERE mac = '0000FE000001'").fetchone()[0]
            self.assertEqual((n, other), (20, 1))
            return n
        self.eventually(rows, "20 sightings from 127.0.0.3 and the other address's one", 10)
        self.assertEqual(json.loads(self.ok("--json", "status"))["result"]["sip_sightings_limited"], 20)

    def test_a_removed_device_is_refused_at_once_and_its_binding_is_gone(self):
        """One device's removal reaches the registrar as that device alone (not the lab's list),
        before `device rm` returns: its next REGISTER is already a 404."""
        self.finish(self.sipp("register_only.xml", "t1"))
        self.stored_registration(MAC, state="registered")
        self.ok("device", "rm", f"SEP{MAC}")
        self.finish(self.sipp("register_unknown.xml", "u1"))
        r = self.labcm("device", "restart", f"SEP{MAC}")
        self.assertEqual(r.returncode, 1)

    def invite(self, to, from_dn="1001", mac="0011220B0001", max_forwards=70, to_tag=""):
        """An INVITE over UDP from 127.0.0.1 as the phone `mac` on line `from_dn`; returns the
        final status line (a 100 Trying is skipped)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(10)
        port = sock.getsockname()[1]
        branch = f"z9hG4bK-inv-{to}-{from_dn}-{max_forwards}"
        sock.sendto("\r\n".join([
            f"INVITE sip:{to}@127.0.0.1;user=phone SIP/2.0", f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch={branch}",
            f'From: "Desk" <sip:{from_dn}@127.0.0.1>;tag=f1', f"To: <sip:{to}@127.0.0.1>{';tag=' + to_tag if to_tag else ''}",
            f"Call-ID: call-{branch}@127.0.0.1", f"Max-Forwards: {max_forwards}", "CSeq: 101 INVITE",
            f'Contact: <sip:uuid@127.0.0.1:{port};transport=udp>;+u.sip!devicename.ccm.cisco.com="SEP{mac}"',
            "Content-Length: 0", "", ""]).encode(), ("127.0.0.1", self.sip_port))
        for _ in range(5):
            line = sock.recv(65536).decode(errors="replace").split("\r\n", 1)[0]
            if not line.startswith("SIP/2.0 1"):
                return line
        self.fail("no final answer to the INVITE")

    def test_an_invite_is_answered_by_where_its_number_goes(self):
        """Issue 21: the refusals on the wire, each answered at once (calls that go through: test_calls)."""
        self.ok("device", "add", "SEP0011220B0001", "--model", "8845", "--line", "1001", "--line", "1500")
        self.ok("device", "add", "SEP0011220B0002", "--model", "8845", "--line", "1002", "--line", "1500")
        self.ok("device", "add", "SEP0011220B0003", "--model", "7821", "--line", "1003")
        for n, mac in enumerate(("0011220B0001", "0011220B0002")):
            status, _ = self.udp_register("127.0.0.1", "127.0.0.1", f"reg-{n}@127.0.0.1", mac=mac)
            self.assertEqual(status, "SIP/2.0 200 OK")
        self.assertEqual(self.invite("1003"), "SIP/2.0 480 Temporarily Unavailable")
        self.wait_for_log(self.server, "call_attempt mac=0011220B0001 ip=127.0.0.1: INVITE answered 480 (not registered): "
                                       "SEP0011220B0001 called 1003: none of its 1 device(s) is registered")
        self.assertEqual(self.invite("10"), "SIP/2.0 484 Address Incomplete")
        self.assertEqual(self.invite("1999"), "SIP/2.0 404 Not Found")
        self.assertEqual(self.invite("1002", from_dn="1003"), "SIP/2.0 403 Forbidden")  # a DN the phone does not have
        self.wait_for_log(self.server, "SEP0011220B0001 called as '1003', which is not one of its lines")
        self.assertEqual(self.invite("1002", mac="0011220B0003", from_dn="1003"), "SIP/2.0 403 Forbidden")  # not registered
        self.assertEqual(self.invite("1002", max_forwards=0), "SIP/2.0 483 Too Many Hops")
        self.assertEqual(self.invite("1002", to_tag="x1"), "SIP/2.0 481 Call/Transaction Does Not Exist")

    def test_unknown_device_gets_404_and_an_event(self):
        p = self.sipp("register_unknown.xml", "u1", mac="0011223344FF")
        self.finish(p)
        self.wait_for(lambda: "register_rejected" in self.ok("events", "--limit", "20"), "the rejection event")
        self.assertIn("SEP0011223344FF is not configured", self.ok("events", "--limit", "20"))

    def test_7960_registers_per_line_over_udp_but_is_not_controlled(self):
        mac = "001122AA7960"
        self.ok("device", "add", f"SEP{mac}", "--model", "7960", "--line", "1001", "--transport", "udp")
        self.finish(self.sipp("register_7960.xml", "u1", mac=mac))
        self.stored_registration(mac, state="registered", model_id=7)
        r = self.labcm("device", "restart", f"SEP{mac}")
        self.assertEqual(r.returncode, 1)
        self.assertIn("7940/7960 SIP phones are not controlled", r.stderr)

    def test_restart_of_an_unregistered_phone_is_refused(self):
        r = self.labcm("device", "restart", f"SEP{MAC}")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"SEP{MAC} is not registered", r.stderr)

    def test_labcm_restart_is_survived(self):
        p = self.sipp("register_only.xml", "t1")
        self.finish(p)
        self.wait_for(lambda: self.registration()["state"] == "registered", "the registration to be stored")
        self.assertEqual(self.stop_server(self.server), 0)
        self.server = self.start_server()
        # Restored from the database: still registered, loads known.
        reg = self.registration()
        self.assertEqual(reg["state"], "registered")
        self.assertEqual(reg["active_load"], "sip8845_65.14-2-1-0001-14")
        # The phone's next keep-alive (new connection, same Call-ID, no body) gets x-cisco-newreg,
        # and a NOTIFY then reaches it on that new connection.
        p = self.sipp("keepalive_notify.xml", "t1")
        self.wait_for(lambda: "all lines re-created" in self.ok("events", "--device", f"SEP{MAC}", "--limit", "20"),
                      "the keep-alive to re-create the binding")
        self.assertIn("service-control restart -> 200", self.restart_phone())
        self.finish(p)
        self.assertIn("action=restart", self.received_notify(p))


if __name__ == "__main__":
    unittest.main()
