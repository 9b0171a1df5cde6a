"""labcm-phone places and answers calls through a real `labcm serve` (issue 21 item 9): one
simulated phone calls another with --call over UDP and over TCP (INVITE, 180/200, ACK and BYE
through labcm's Record-Route), a busy phone and an unanswered call fail the run, and a fleet
calls itself at --call-rate with every call completed. Only 127.0.0.1 is used."""
import json
import os
import re
import subprocess
import unittest
import urllib.request

from labcm_test import LabcmTestCase, LABCM

PHONE = os.environ.get("LABCM_PHONE_BIN", os.path.join(os.path.dirname(LABCM), "labcm-phone"))
A, B = "0011220E0001", "0011220E0002"


class PhoneCalls(LabcmTestCase):
    def setUp(self):
        super().setUp()
        self.use_loopback_ports()

    def devices(self, transport):
        self.ok("device", "add", A, "--model", "8845", "--line", "2001", "--transport", transport)
        self.ok("device", "add", B, "--model", "7821", "--line", "2002", "--transport", transport)
        self.server = self.start_server()

    def args(self, *extra):
        return [PHONE, "--tftp", "127.0.0.1", "--tftp-port", str(self.tftp_port), "--http-port", str(self.http_port),
                "--json", *extra]

    def callee(self, *extra):
        """The called phone, B, in the background: it stays registered until one call to it ended."""
        out = open(os.path.join(self.dir, "callee.out"), "w+", encoding="utf-8")
        err = open(os.path.join(self.dir, "callee.err"), "w+", encoding="utf-8")
        proc = subprocess.Popen(self.args("--model", "7821", "--mac", B, "--wait-calls", "1", "--timeout", "40", *extra),
                                stdout=out, stderr=err, text=True)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(timeout=10), out.close(), err.close()))
        self.wait_for(lambda: "registration: registered" in self.ok("device", "show", B), "the callee to register")
        return proc, out, err

    def call(self, *extra):
        """A calls 2002 in the background; its Popen and output files."""
        out = open(os.path.join(self.dir, "caller.out"), "w+", encoding="utf-8")
        err = open(os.path.join(self.dir, "caller.err"), "w+", encoding="utf-8")
        proc = subprocess.Popen(self.args("--model", "8845", "--mac", A, "--call", "2002", "--timeout", "40", *extra),
                                stdout=out, stderr=err, text=True)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(timeout=10), out.close(), err.close()))
        return proc, out, err

    @staticmethod
    def read(f):
        with open(f.name, encoding="utf-8") as g:
            return g.read()

    def finish(self, proc, out, err, rc):
        """Waits (bounded) for a phone to exit with `rc`; its stdout lines and JSON report."""
        self.assertEqual(proc.wait(timeout=60), rc, self.read(out) + self.read(err))
        lines = self.read(out).splitlines()
        return lines, json.loads(lines[-1])

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=10) as r:
            return r.read().decode()

    def answered_call(self, transport):
        self.devices(transport)
        callee = self.callee()
        caller = self.call("--call-seconds", "1.5")
        # Held for 1.5 s: labcm shows the call in progress meanwhile.
        self.wait_for(lambda: re.search(rf"^2001 \(SEP{A}\) -> 2002 \(SEP{B}\) for \d+ s", self.ok("calls"), re.M),
                      "labcm calls to show the call", seconds=10)
        lines, report = self.finish(*caller, 0)
        self.assertRegex(lines[0], rf"^SEP{A} 8845: registered 1 boot\(s\) as 2001 over {transport}")
        self.assertRegex(lines[1], rf"^SEP{A} 8845: call to 2002: answered 200 in [\d.]+ ms, hung up \(BYE 200\)$")
        calls = report["calls"]
        self.assertEqual((calls["placed"], calls["answered"], calls["completed"], calls["failed"]), (1, 1, 1, 0), calls)
        self.assertEqual(calls["statuses"], {"200": 1})
        self.assertEqual(calls["setup_ms"]["count"], 1)
        log = self.read(caller[2])
        self.assertIn("call to 2002: INVITE sent", log)
        self.assertRegex(log, r"call to 2002: answered 200 in [\d.]+ ms; hanging up in 1500 ms")
        # The callee answered and was hung up on through labcm; --wait-calls 1 ends it.
        lines, report = self.finish(*callee, 0)
        self.assertIn(f"SEP{B} 7821: calls received 1, answered 1", lines)
        self.assertEqual((report["calls"]["received"], report["calls"]["received_answered"]), (1, 1))
        self.assertEqual(report["calls"]["placed"], 0)
        callee_log = self.read(callee[2])
        for line in ("call from 2001: ringing", "call from 2001: answered", "call from 2001: over"):
            self.assertIn(line, callee_log)
        self.wait_for_log(self.server, f"2001 (SEP{A}) calls 2002: ringing SEP{B}: answered 200 by SEP{B}")
        self.wait_for_log(self.server, f"call 2001 -> 2002 (SEP{B}) ended after")
        self.assertEqual(self.ok("calls").strip(), "no calls in progress")
        metrics = self.metrics()
        self.assertIn("labcm_sip_calls_answered_total 1", metrics)
        self.assertIn("labcm_sip_calls_active 0", metrics)

    def test_a_simulated_phone_calls_another_over_udp(self):
        self.answered_call("udp")

    def test_a_simulated_phone_calls_another_over_tcp(self):
        self.answered_call("tcp")

    def test_a_busy_answer_fails_the_call_and_the_run(self):
        self.devices("udp")
        callee = self.callee("--answer", "busy")
        lines, report = self.finish(*self.call(), 1)
        self.assertEqual(lines[1], f"SEP{A} 8845: call to 2002: answered 486 Busy Here")
        calls = report["calls"]
        self.assertEqual((calls["placed"], calls["answered"], calls["failed"]), (1, 0, 1))
        self.assertEqual(calls["statuses"], {"486": 1})
        self.assertEqual(calls["failures"], {"answered 486 Busy Here": 1})
        self.assertEqual(report["registered"], 1)  # the phone itself did its part
        _, report = self.finish(*callee, 0)
        self.assertEqual((report["calls"]["received"], report["calls"]["received_answered"]), (1, 0))
        self.wait_for_log(self.server, f"2001 (SEP{A}) calls 2002: ringing SEP{B}: answered 486")

    def test_a_call_not_answered_in_time_is_cancelled(self):
        self.devices("tcp")
        callee = self.callee("--answer-delay-ms", "30000")
        lines, report = self.finish(*self.call("--call-timeout", "1"), 1)
        self.assertEqual(lines[1], f"SEP{A} 8845: call to 2002: 487 Request Terminated: "
                                   "not answered within 1000 ms (cancelled)")
        self.assertEqual(report["calls"]["statuses"], {"487": 1})
        # The callee got the CANCEL while ringing: 200, then 487 to the INVITE; the call ended.
        _, report = self.finish(*callee, 0)
        self.assertEqual((report["calls"]["received"], report["calls"]["received_answered"]), (1, 0))
        self.assertIn("call from 2001: cancelled by the caller", self.read(callee[2]))
        self.wait_for_log(self.server, "cancelled by the caller")

    def test_a_fleet_calls_itself_at_a_rate(self):
        n, calls = 10, 24
        rows = ["mac,model,description,load,transport,line1_dn"]
        for i in range(n):
            rows.append(f"{0x0011220F0000 + i:012X},{('8845', '7821')[i % 2]},,,{('udp', 'tcp')[i // 5]},{31000 + i}")
        self.ok("import", self.write_file("fleet.csv", "\n".join(rows) + "\n"))
        self.server = self.start_server()
        r = subprocess.run(self.args("--model", "8845,7821", "--mac", "0011220F0000", "--count", str(n), "--rate", "200",
                                     "--call-rate", "20", "--max-calls", str(calls), "--call-seconds", "0.5",
                                     "--timeout", "60", "-q"),
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        report = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual((report["phones"], report["registered"], report["failed"]), (n, n, 0))
        c = report["calls"]
        self.assertEqual((c["placed"], c["answered"], c["completed"], c["failed"]), (calls, calls, calls, 0), c)
        self.assertEqual(c["statuses"], {"200": calls})
        self.assertEqual((c["received"], c["received_answered"]), (calls, calls))
        self.assertEqual(c["setup_ms"]["count"], calls)
        # labcm saw every call answered and ended (UDP and TCP phones call each other).
        self.assertIn(f"labcm_sip_calls_answered_total {calls}", self.metrics())
        self.eventually(lambda: self.log_of(self.server).count(" ended after ") == calls,
                        f"the server log to show {calls} calls ended")
        self.assertIn("31004 (SEP0011220F0004) calls 31005: ringing SEP0011220F0005: answered 200", self.log_of(self.server))
        self.assertEqual(self.ok("calls").strip(), "no calls in progress")

    def test_call_options_are_checked(self):
        for args, message in ((["--tftp", "127.0.0.1", "--call-rate", "5"], "--call-rate needs --count 2"),
                              (["--tftp", "127.0.0.1", "--count", "2", "--call-rate", "5", "--call", "1"], "not both"),
                              (["--tftp", "127.0.0.1", "--max-calls", "5"], "--max-calls goes with --call-rate")):
            r = subprocess.run([PHONE, *args], capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)
        r = subprocess.run([PHONE, "--tftp", "127.0.0.1", "--answer", "maybe"], capture_output=True, text=True, timeout=10)
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    unittest.main()
