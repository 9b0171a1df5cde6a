"""labcm-phone (the phone simulator) boots simulated Cisco phones against a real `labcm serve`:
every boot step, the registered state and loads as labcm records them, a restart cycle, a
firmware upgrade, digest, and a fleet with a report."""
import json
import os
import signal
import socket
import subprocess
import unittest

from labcm_test import LabcmTestCase, LABCM, server_ready

PHONE = os.environ.get("LABCM_PHONE_BIN", os.path.join(os.path.dirname(LABCM), "labcm-phone"))


class PhoneSimulatorTest(LabcmTestCase):
    def setUp(self):
        super().setUp()
        self.ok("device", "add", "0011220A0001", "--model", "7821", "--line", "1001")
        self.ok("device", "add", "0011220A0002", "--model", "8845", "--line", "1002", "--line", "1012")
        self.ok("device", "add", "0011220A0003", "--model", "7975", "--line", "1003")
        self.ok("device", "add", "0011220A0004", "--model", "7970", "--line", "1004", "--transport", "udp")
        self.server = self.start_server()

    def phone(self, *args, timeout=60):
        cmd = [PHONE, "--tftp", "127.0.0.1", "--tftp-port", str(self.tftp_port),
               "--http-port", str(self.http_port), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def start_phone(self, *args):
        cmd = [PHONE, "--tftp", "127.0.0.1", "--tftp-port", str(self.tftp_port),
               "--http-port", str(self.http_port), *args]
        out = open(os.path.join(self.dir, "phone.out"), "w+", encoding="utf-8")
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait(timeout=10), out.close()))
        return proc, out

    @staticmethod
    def read(out):
        with open(out.name, encoding="utf-8") as f:
            return f.read()

    def show(self, device):
        return self.ok("device", "show", device)

    def eventually_shows(self, device, *expected):
        """Polls `labcm device show` until every expected text is in it; returns that output.
        The registrar answers a phone before its writer thread saves the registration, so
        what `device show` reads can lag the phone's own report by a few ms."""
        def shown():
            text = self.show(device)
            for e in expected:
                self.assertIn(e, text)
            return text
        return self.eventually(shown, f"{device} to show {expected}")

    def assertRegistered(self, device, active, inactive, agent):
        return self.eventually_shows(device, "registration: registered", f"active load:   {active}",
                                     f"inactive load: {inactive}", f"user agent:    {agent}")

    # --- one phone per model ----------------------------------------------------------
    def test_7821_boots_over_http_first_and_registers_with_its_loads(self):
        r = self.phone("--model", "7821", "--mac", "0011220A0001")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"^SEP0011220A0001 7821: registered 1 boot\(s\) as 1001 over tcp, "
                                   r"active sip78xx\.14-2-1-0001-14 inactive sip78xx\.12-8-1-0001-455")
        log = r.stderr
        # Steps in the seed order, each with its outcome.
        self.assertRegex(log, r"step 3 dhcp: skipped")
        self.assertRegex(log, r"step 4 CTLSEP0011220A0001\.tlv: not found \(http 404, tftp error 1 File not found\)")
        self.assertRegex(log, r"step 5 ITLSEP0011220A0001\.tlv: not found \(http 404, tftp error 1")
        self.assertRegex(log, r"step 5 ITLFile\.tlv: not found")
        self.assertRegex(log, r"step 6 SEP0011220A0001\.cnf\.xml: ok via http, \d+ bytes")
        self.assertRegex(log, r"step 8 AppDialRules\.xml: ok via http")
        self.assertRegex(log, r"step 8 dialplan\.xml: ok via http")
        self.assertRegex(log, rf"step 9 127\.0\.0\.1:{self.sip_port} tcp: ok from port \d+")
        self.assertRegex(log, r"step 10 REGISTER 1001: 200 OK, expires 120")
        # labcm's 200 OK carries what the firmware takes from CUCM's (Date, SIS version,
        # x-cisco-newreg, the optionsind answer): no step-10 notes.
        self.assertNotIn("tolerated: step 10", log)
        self.assertRegex(log, r"step 12 softkeys\.xml: ok via http")
        self.assertRegex(log, r"step 13 Ringlist-wb\.xml: ok via http, \d+ bytes")
        self.assertNotIn("lists no ring", log)  # labcm's own tones, out of the box
        order = [log.index(s) for s in ("step 4 ", "step 5 ", "step 6 ", "step 8 ", "step 9 ", "step 10 ", "step 12 ", "step 13 ")]
        self.assertEqual(order, sorted(order))
        self.assertRegistered("SEP0011220A0001", "sip78xx.14-2-1-0001-14", "sip78xx.12-8-1-0001-455", "Cisco-CP7821/14.2.1")

    def test_8845_registers_both_lines_with_one_register(self):
        r = self.phone("--model", "8845", "--mac", "0011220A0002", "-q")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        text = self.assertRegistered("SEP0011220A0002", "sip8845_65.14-2-1-0001-14", "sip8845_65.12-8-1-0001-455",
                                     "Cisco-CP8845/14.2.1")
        self.assertIn('+u.sip!model.ccm.cisco.com="36224"', text)

        def listed():
            listing = self.ok("device", "list")
            row = next(l for l in listing.splitlines() if l.startswith("SEP0011220A0002"))
            self.assertIn("registered", row)
            return row
        self.eventually(listed, "the 8845's row in device list to say registered")

    def test_7975_uses_tftp_only_and_the_load_form(self):
        r = self.phone("--model", "7975", "--mac", "0011220A0003")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("http", r.stderr.replace("http_port", ""))  # a 79xx never tries HTTP
        self.assertRegex(r.stderr, r"step 6 SEP0011220A0003\.cnf\.xml: ok via tftp, \d+ bytes")
        self.assertRegistered("SEP0011220A0003", "SIP75.9-4-2SR4-3S", "", "Cisco-CP7975G/9.4.2")

    def test_7970_registers_over_udp_from_its_own_port(self):
        r = self.phone("--model", "7970", "--mac", "0011220A0004")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stderr, rf"step 9 127\.0\.0\.1:{self.sip_port} udp: ok from port (\d+)")
        port = int(__import__("re").search(r"udp: ok from port (\d+)", r.stderr).group(1))
        text = self.assertRegistered("SEP0011220A0004", "SIP70.8-4-2-30S", "", "Cisco-CP7970G/8.4.0")
        self.assertIn(f"from:          udp:127.0.0.1:{port} (udp)", text)

    # --- failures name their step -----------------------------------------------------
    def test_an_unknown_phone_fails_at_step_6_with_the_reason(self):
        r = self.phone("--model", "8845", "--mac", "0011220A0099", "-q")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout.strip(), "SEP0011220A0099 8845: step 6: SEP0011220A0099.cnf.xml not found "
                                           "(XMLDefault.cnf.xml served; the device is not provisioned)")

    def test_a_stopped_server_fails_at_step_4(self):
        self.stop_server(self.server)
        r = self.phone("--model", "7975", "--mac", "0011220A0003", "-q", timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"step 4: CTLSEP0011220A0003\.tlv: tftp: no answer after \d+ tries")

    def test_bad_arguments_are_refused(self):
        for args, message in ((["--tftp", "127.0.0.1", "--model", "1234"], "no profile for model"),
                              (["--tftp", "127.0.0.1", "--mac", "nope"], "is not a MAC"),
                              (["--model", "8845"], "give --tftp"),
                              (["--count", "5", "--tftp", "10.0.0.1"], "loopback only")):
            r = subprocess.run([PHONE, *args], capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)

    # --- restart, upgrade, digest -----------------------------------------------------
    def test_restart_and_reset_from_labcm_reboot_the_phone(self):
        proc, out = self.start_phone("--model", "8845", "--mac", "0011220A0002", "--boots", "3", "--timeout", "40")
        self.wait_for(lambda: "registration: registered" in self.show("SEP0011220A0002"), "the 8845 to register")
        # The CLI waits for the outcome (issue 22): applied once the phone fetched its config
        # again and registered again.
        restarted = self.ok("device", "restart", "SEP0011220A0002")
        self.assertIn("restart -> 200 OK", restarted)
        self.assertRegex(restarted, r"applied: it fetched SEP0011220A0002\.cnf\.xml \d+ s after the restart and registered again")
        self.assertEqual(self.read(out).count("registered 2 line(s)"), 2)
        self.eventually_shows("SEP0011220A0002", "last reason:   reset-restart")
        reset = self.ok("device", "reset", "SEP0011220A0002")
        self.assertIn("reset -> 200 OK", reset)
        self.assertIn("after the reset and registered again", reset)
        self.assertEqual(proc.wait(timeout=30), 0)
        log = self.read(out)
        self.assertIn("service-control NOTIFY: action=restart", log)
        self.assertIn("unregistered (Last=reset-restart); rebooting", log)
        self.assertIn("unregistered (Last=reset-reset); rebooting", log)
        self.assertEqual(log.count("step 4 CTLSEP0011220A0002.tlv"), 3)  # three boots from the start
        self.assertIn("registered 3 boot(s)", log)
        self.eventually_shows("SEP0011220A0002", "registration: registered", "last reason:   reset-reset")

    def test_apply_config_is_confirmed_once_the_phone_fetched_its_config(self):
        proc, out = self.start_phone("--model", "8845", "--mac", "0011220A0003", "--hold", "30", "--timeout", "60")
        self.wait_for(lambda: "registration: registered" in self.show("SEP0011220A0003"), "the 8845 to register")
        self.ok("line", "edit", "SEP0011220A0003", "1", "--display-name", "Changed")  # a new versionStamp
        applied = self.ok("device", "apply-config", "SEP0011220A0003")
        self.assertIn("applied: it fetched SEP0011220A0003.cnf.xml", applied)
        self.wait_for(lambda: "apply-config: versionStamp" in self.read(out), "the phone to compare stamps")
        self.assertNotIn("(was the same)", self.read(out))
        proc.kill()
        proc.wait(timeout=10)

    def test_a_labcm_restart_makes_the_phone_register_again_with_cm_closed_tcp(self):
        proc, out = self.start_phone("--model", "8845", "--mac", "0011220A0002", "--hold", "8", "--timeout", "40")
        self.wait_for(lambda: "registration: registered" in self.show("SEP0011220A0002"), "the 8845 to register")
        self.assertEqual(self.stop_server(self.server), 0)
        self.server = self.start_server()
        self.wait_for(lambda: "registered again after" in self.read(out), "the phone to register again", seconds=15)
        self.assertEqual(proc.wait(timeout=30), 0)
        log = self.read(out)
        self.assertIn("SIP connection lost (server closed the TCP connection); registering again with Last=cm-closed-tcp", log)
        self.eventually_shows("SEP0011220A0002", "registration: registered", "last reason:   cm-closed-tcp (cisco-alarm 14)")

    def test_a_new_model_default_load_is_fetched_and_the_phone_reports_it(self):
        files = os.path.join(self.data, "files")
        new = "sip78xx.14-3-1-0001-77"
        images = ["boot78xx.14-3-1-77.sbn", "kern78xx.14-3-1-77.sbn", "rootfs78xx.14-3-1-77.sbn"]
        header = bytes([1, 0, 1, 0x31, 2, 0, 2, 0, 0, 12, 0, 0])  # signed-header TLVs, length 12 at byte 8
        body = "\n".join(["# labcm test load", "#HARDWARE_COMP 621", *[i + "   " for i in images]]) + "\n"
        with open(os.path.join(files, new + ".loads"), "wb") as f:
            f.write(header + body.encode())
        for i, name in enumerate(images):
            with open(os.path.join(files, name), "wb") as f:
                f.write(os.urandom(1000 + 70000 * i))
        self.ok("model", "set", "7821", new)
        r = self.phone("--model", "7821", "--mac", "0011220A0001", "--timeout", "60")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stderr, rf"step 7 {new}\.loads: ok via http")
        for name in images:
            self.assertRegex(r.stderr, rf"step 7 {name}: ok via http, \d+ bytes")
        self.assertIn(f"upgraded sip78xx.14-2-1-0001-14 -> {new}; rebooting", r.stderr)
        self.assertEqual(r.stderr.count("step 4 CTLSEP0011220A0001.tlv"), 2)  # boot, upgrade, boot again
        self.assertIn(f"active {new} inactive sip78xx.14-2-1-0001-14", r.stdout)
        self.assertRegistered("SEP0011220A0001", new, "sip78xx.14-2-1-0001-14", "Cisco-CP7821/14.2.1")

    def test_a_load_whose_files_are_missing_is_not_sent_so_the_phone_keeps_its_own(self):
        self.ok("model", "set", "7821", "sip78xx.99-9-9-0001-1")  # no such .loads in files/
        r = self.phone("--model", "7821", "--mac", "0011220A0001", "--count", "1", "--json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        report = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual(report["registered"], 1)
        self.assertNotIn("step 7", r.stderr)  # never told to upgrade: no failing upgrade at every boot
        self.assertFalse([w for w in report["warnings"] if w.startswith("step 7")], report["warnings"])
        self.assertRegistered("SEP0011220A0001", "sip78xx.14-2-1-0001-14", "sip78xx.12-8-1-0001-455", "Cisco-CP7821/14.2.1")

    def test_a_phone_fails_over_to_the_standby_labcm_and_back(self):
        """Issue 20, step 9: two labcm instances in one callManagerGroup. The phone registers to
        the first and keeps the second alive; when the first is killed it registers to the
        standby; when the first returns, it asks the standby for the token (REFER) and goes back."""
        data_b = os.path.join(self.dir, "data-b")
        ports_b = {k: self.free_port() for k in ("http_port", "sip_port", "admin_port")}
        ports_b["tftp_port"] = self.free_port(socket.SOCK_DGRAM)

        def on_b(*args):
            r = subprocess.run([LABCM, "--data-dir", data_b, *args], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            return r.stdout
        for key, value in [("admin_bind", "127.0.0.1"), ("bind_address", "127.0.0.1"), *ports_b.items()]:
            on_b("setting", "set", key, str(value))
        on_b("device", "add", "SEP0011220A0001", "--model", "7821", "--line", "1001")  # the primary has it (setUp)
        self.ok("setting", "set", "call_managers", f"self,127.0.0.1:{ports_b['sip_port']}")
        self.ok("setting", "set", "registrar_address", "127.0.0.1")
        log_b = open(os.path.join(self.dir, "serve-b.log"), "w")
        self.addCleanup(log_b.close)
        b = subprocess.Popen([LABCM, "--data-dir", data_b, "serve"], stdout=log_b, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: b.poll() is None and (b.kill(), b.wait(timeout=10)))
        self.wait_for(lambda: server_ready(os.path.join(data_b, "control.sock")), "the standby labcm to be ready", 20)
        a = self.server

        def state(run):
            return json.loads(run("--json", "device", "show", "SEP0011220A0001"))["result"]["registration"].get("state")
        proc, out = self.start_phone("--model", "7821", "--mac", "0011220A0001", "--keepalive", "1", "--hold", "50",
                                     "--timeout", "60")
        self.wait_for(lambda: state(self.ok) == "registered", "registered to the primary", 20)
        self.wait_for(lambda: f"standby 127.0.0.1:{ports_b['sip_port']} takes keep-alives" in self.read(out),
                      "a keep-alive to the standby answered", 15)
        self.assertNotIn("did not take the keep-alive", self.read(out))
        self.assertEqual(state(on_b), "never")  # kept alive, not taken over

        self.stop_server(a, signal.SIGKILL)
        self.wait_for(lambda: f", to 127.0.0.1:{ports_b['sip_port']} (call manager 2 of 2)" in self.read(out),
                      "the failover to the standby", 20)
        self.wait_for(lambda: state(on_b) == "registered", "registered to the standby", 10)

        self.server = self.start_server()  # the primary returns, same data dir and ports
        self.wait_for(lambda: f"failed back to 127.0.0.1:{self.sip_port}" in self.read(out), "the failback", 20)
        self.assertRegex(self.read(out), r"token REFER to 127\.0\.0\.1:\d+ answered 202")
        self.wait_for(lambda: state(self.ok) == "registered", "registered to the primary again", 10)

    def test_digest_credentials_from_the_config_answer_the_challenge(self):
        self.ok("device", "add", "0011220A0005", "--model", "8851", "--digest")
        self.ok("line", "add", "SEP0011220A0005", "1005", "--auth-name", "alice", "--auth-password", "s3cret")
        r = self.phone("--model", "8851", "--mac", "0011220A0005", "-q")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.eventually_shows("SEP0011220A0005", "registration: registered")
        # Digest on, but the line has no credentials: the phone cannot answer; the step says so.
        self.ok("device", "add", "0011220A0006", "--model", "8851", "--line", "1006", "--digest")
        r = self.phone("--model", "8851", "--mac", "0011220A0006", "-q")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout.strip(), "SEP0011220A0006 8851: step 10: REGISTER challenged (401) "
                                           "but the config has no authName")

    # --- auto-registration --------------------------------------------------------------
    def test_auto_registration_creates_seen_phones_with_the_next_free_dn(self):
        self.ok("setting", "set", "auto_registration", "true")
        self.ok("setting", "set", "auto_reg_dn_last", "5001")
        self.ok("setting", "set", "auto_reg_dn_first", "5000")
        self.ok("device", "add", "0011220A0007", "--model", "7821", "--line", "5000")  # 5000 is taken
        r = self.phone("--model", "8861", "--mac", "0011220C0001")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # First boot: unknown, XMLDefault, a REGISTER that labcm answers 404 but remembers
        # (with the model); the reset boot finds the SEP file labcm created.
        self.assertIn("tolerated: step 6: SEP0011220C0001.cnf.xml not found; on XMLDefault.cnf.xml the REGISTER "
                      "as SEP0011220C0001 answered 404 Not Found; the phone resets", r.stderr)
        self.assertIn("registered 1 boot(s) as 5001 over tcp", r.stdout)
        self.eventually_shows("SEP0011220C0001", "model:       8861", "description: auto-registered",
                              "registration: registered")
        # The range is full now: the next phone is told why, nothing is created.
        r = self.phone("--model", "7821", "--mac", "0011220C0002", "-q")
        self.assertEqual(r.returncode, 1)
        self.assertIn("step 6: SEP0011220C0002.cnf.xml not found", r.stdout)
        self.fails("device", "show", "SEP0011220C0002")
        self.wait_for_log(self.server, "auto-registration: no free DN in 5000-5001")

        def sighting():  # saved behind the REGISTER's 404 by the writer thread
            with self.db() as c:
                seen = c.execute("SELECT model, source FROM seen_phones WHERE mac = '0011220C0002'").fetchall()
            self.assertEqual(seen, [("7821", "sip")])
            return seen
        self.eventually(sighting, "the sighting of 0011220C0002 in seen_phones")

    def test_auto_registration_does_not_depend_on_how_fast_the_database_commits(self):
        # Every commit takes 300 ms longer (a busy machine): the sighting of the phone's first
        # REGISTER and the device created for it are not committed when the phone asks again,
        # yet its second boot gets its own SEP file and the REGISTER right after it gets 200.
        self.assertEqual(self.stop_server(self.server), 0)
        self.server = self.start_server(env={"LABCM_TEST_FAULT": "slow-commits"})
        self.ok("setting", "set", "auto_registration", "true")
        self.ok("setting", "set", "auto_reg_dn_last", "6009")
        self.ok("setting", "set", "auto_reg_dn_first", "6000")
        r = self.phone("--model", "8861", "--mac", "0011220C0011")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stderr.count("answered 404 Not Found; the phone resets"), 1, r.stderr)
        self.assertIn("registered 1 boot(s) as 6000 over tcp", r.stdout)
        self.eventually_shows("SEP0011220C0011", "model:       8861", "description: auto-registered",
                              "registration: registered")

    def test_auto_registration_off_or_never_seen_creates_nothing(self):
        # Off (the default): the reason is in the log.
        r = self.phone("--model", "8845", "--mac", "0011220C0003", "-q")
        self.assertEqual(r.returncode, 1)
        self.wait_for_log(self.server, "auto-registration: off (setting auto_registration)")
        # On, but a name no phone has registered from (a random SEP request): not created.
        self.ok("setting", "set", "auto_registration", "true")
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                              f"http://127.0.0.1:{self.http_port}/SEP0011220C0FFF.cnf.xml"],
                             capture_output=True, text=True, timeout=10).stdout
        self.assertEqual(out, "404")
        self.wait_for_log(self.server, "auto-registration: labcm has not seen this MAC yet")
        self.fails("device", "show", "SEP0011220C0FFF")

    # --- many phones ------------------------------------------------------------------
    def test_a_fleet_of_three_models_registers_and_keeps_alive(self):
        rows = ["mac,model,description,load,transport,line1_dn"]
        models = ["7821", "8845", "7975"]
        n = 150
        for i in range(n):
            rows.append(f"{0x001122300000 + i:012X},{models[i % 3]},,,,{30000 + i}")
        self.ok("import", self.write_file("fleet.csv", "\n".join(rows) + "\n"))
        r = self.phone("--model", "7821,8845,7975", "--mac", "001122300000", "--count", str(n), "--rate", "300",
                       "--ip-base", "127.1.0.1", "--keepalive", "0.5", "--keepalives", "2", "--timeout", "60", "--json",
                       "-q", timeout=90)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        report = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual(report["phones"], n)
        self.assertEqual(report["registered"], n)
        self.assertEqual(report["failed"], 0)
        self.assertGreaterEqual(report["keepalives"], 2 * n)
        self.assertEqual(report["boot_to_registered_ms"]["count"], n)
        self.assertIn("10 register", report["steps_ms"])

        def all_listed():
            listing = self.ok("device", "list")
            registered = [l for l in listing.splitlines() if l.startswith("SEP0011223") and " registered " in l]
            self.assertEqual(len(registered), n)
            # Each phone came from its own address.
            self.assertIn("127.1.0.150", listing)
            return listing
        self.eventually(all_listed, f"device list to show all {n} phones registered")


if __name__ == "__main__":
    unittest.main()
