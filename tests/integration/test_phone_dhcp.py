"""labcm-phone's DHCP step in network namespaces the test creates: a simulated 8845 gets its
address and option 150/66 from a third-party DHCP server (dnsmasq), so the simulator's client
is proven against more than labcm's own server (test_dhcp.py covers that one),
takes the address, then boots against `labcm serve` across the veth pair and registers from
that address. Needs root (CI runs as root); skipped with a message where namespaces are
unavailable."""
import os
import re
import subprocess
import unittest

from labcm_test import LabcmTestCase, LABCM
from netns_lab import namespaces_usable

PHONE = os.environ.get("LABCM_PHONE_BIN", os.path.join(os.path.dirname(LABCM), "labcm-phone"))


@unittest.skipUnless(namespaces_usable("dnsmasq"), "needs root, iproute2, dnsmasq and network namespaces")
class PhoneDhcpTest(LabcmTestCase):
    def run_ok(self, *cmd):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, f"{' '.join(cmd)}: {r.stderr}")
        return r.stdout

    def setUp(self):
        super().setUp()
        tag = f"{os.getpid() % 100000}"
        self.srv, self.cli = f"lcm-s{tag}", f"lcm-p{tag}"
        self.run_ok("ip", "netns", "add", self.srv)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.srv], capture_output=True)
        self.run_ok("ip", "netns", "add", self.cli)
        self.addCleanup(subprocess.run, ["ip", "netns", "del", self.cli], capture_output=True)
        self.run_ok("ip", "link", "add", f"vs{tag}", "type", "veth", "peer", "name", f"vp{tag}")
        self.run_ok("ip", "link", "set", f"vs{tag}", "netns", self.srv)
        self.run_ok("ip", "link", "set", f"vp{tag}", "netns", self.cli)
        self.iface = f"vp{tag}"
        self.run_ok("ip", "-n", self.srv, "addr", "add", "10.213.0.1/24", "dev", f"vs{tag}")
        for ns, dev in ((self.srv, f"vs{tag}"), (self.cli, f"vp{tag}")):
            self.run_ok("ip", "-n", ns, "link", "set", dev, "up")
            self.run_ok("ip", "-n", ns, "link", "set", "lo", "up")
        # A real DHCP server on the server side: option 150 with two servers, and 66.
        dns_dir = os.path.join(self.dir, "dnsmasq")
        os.makedirs(dns_dir)
        os.chmod(self.dir, 0o755)
        os.chmod(dns_dir, 0o777)
        self.dnsmasq_log = open(os.path.join(self.dir, "dnsmasq.log"), "w+", encoding="utf-8")
        self.dnsmasq = subprocess.Popen(
            ["ip", "netns", "exec", self.srv, "dnsmasq", "--keep-in-foreground", "--port=0", f"--interface=vs{tag}",
             "--bind-interfaces", "--no-ping", "--dhcp-range=10.213.0.50,10.213.0.99,255.255.255.0,1h",
             "--dhcp-option=150,10.213.0.1,10.213.0.2", "--dhcp-option=66,10.213.0.1",
             f"--dhcp-leasefile={dns_dir}/leases", f"--pid-file={dns_dir}/pid", "--log-facility=-", "--log-dhcp"],
            stdout=self.dnsmasq_log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop, self.dnsmasq)
        # labcm in the server namespace, on the veth address and the standard ports.
        self.ok("setting", "set", "bind_address", "10.213.0.1")
        self.ok("device", "add", "0011220D0001", "--model", "8845", "--line", "1001")
        log = open(os.path.join(self.dir, "serve.log"), "w+", encoding="utf-8")
        self.serve = subprocess.Popen(["ip", "netns", "exec", self.srv, LABCM, "--data-dir", self.data, "serve"],
                                      stdout=log, stderr=subprocess.STDOUT)
        self.serve.log_path = log.name
        self.addCleanup(lambda: (self.stop(self.serve), log.close()))
        # Through the control socket in the data dir, reachable from this namespace.
        self.wait_until_ready(self.serve)

    def dnsmasq_logged(self, what, *patterns):
        """Polls dnsmasq's log (it queues its log lines and writes them behind its answers)
        until every pattern matches; returns the log."""
        def logged():
            with open(self.dnsmasq_log.name, encoding="utf-8") as f:
                dlog = f.read()
            for pattern in patterns:
                self.assertRegex(dlog, pattern)
            return dlog
        return self.eventually(logged, what)

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)

    def tearDown(self):
        self.dnsmasq_log.close()
        super().tearDown()

    def test_the_phone_takes_its_address_and_tftp_server_from_dhcp_and_registers(self):
        r = subprocess.run(["ip", "netns", "exec", self.cli, PHONE, "--dhcp", self.iface, "--model", "8845",
                            "--mac", "0011220D0001", "--timeout", "60"], capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r"step 3 dhcp on \S+: ok: (10\.213\.0\.\d+)/24 from 10\.213\.0\.1, "
                      r"option 150 \[10\.213\.0\.1,10\.213\.0\.2\], option 66 '10\.213\.0\.1'", r.stderr)
        self.assertIsNotNone(m, r.stderr)
        ip = m.group(1)
        self.assertRegex(r.stderr, r"step 6 SEP0011220D0001\.cnf\.xml: ok via http")
        self.assertRegex(r.stderr, r"step 9 10\.213\.0\.1:5060 tcp: ok")
        # The phone took the address; labcm saw the REGISTER come from it.
        self.assertIn(f"inet {ip}/24", self.run_ok("ip", "-n", self.cli, "addr", "show", self.iface))

        def shown():  # the registration is saved behind the registrar's 200 OK
            text = self.ok("device", "show", "SEP0011220D0001")
            self.assertIn("registration: registered", text)
            self.assertIn(f"from:          tcp:{ip}:", text)
            return text
        self.eventually(shown, f"SEP0011220D0001 to show registered from {ip}")
        # The DHCP server saw a Cisco phone: its vendor class and the options it asked for.
        self.dnsmasq_logged("dnsmasq to log the phone's vendor class and its ACK",
                            re.escape("Cisco Systems, Inc. IP Phone CP-8845"),
                            r"DHCPACK\(vs\d+\) " + ip.replace(".", r"\.") + " 00:11:22:0d:00:01")

    def test_three_phones_through_relay_agents_with_giaddr(self):
        # Each phone is its own relay agent at an address of the client side (giaddr), as
        # on a routed voice VLAN; the server answers the relay, the phone takes the lease.
        for i in (2, 3, 4):
            self.run_ok("ip", "-n", self.cli, "addr", "add", f"10.213.0.{i}/24", "dev", self.iface)
        rows = ["mac,model,description,load,transport,line1_dn"] + [
            f"0011220E000{i},{m},,,,{2000 + i}" for i, m in ((0, "7821"), (1, "8845"), (2, "7975"))]
        self.ok("import", self.write_file("relay.csv", "\n".join(rows) + "\n"))
        r = subprocess.run(["ip", "netns", "exec", self.cli, PHONE, "--dhcp-relay", "10.213.0.1", "--dhcp", self.iface,
                            "--ip-base", "10.213.0.2", "--count", "3", "--lab-network", "--model", "7821,8845,7975",
                            "--mac", "0011220E0000", "--timeout", "60", "--json"],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for giaddr in ("10.213.0.2", "10.213.0.3", "10.213.0.4"):
            self.assertIn(f"(via relay {giaddr} to 10.213.0.1)", r.stderr)
        report = __import__("json").loads(r.stdout.splitlines()[-1])
        self.assertEqual(report["registered"], 3)

        def listed():  # registrations are saved behind the registrar's 200 OK
            listing = self.ok("device", "list")
            for i in range(3):
                row = next(l for l in listing.splitlines() if l.startswith(f"SEP0011220E000{i}"))
                self.assertRegex(row, r" registered +10\.213\.0\.(5\d|[6-9]\d) ")  # a leased address, not the relay's
            return listing
        self.eventually(listed, "the three phones to be listed registered from leased addresses")
        self.dnsmasq_logged("dnsmasq to log an ACK", "DHCPACK")

    def test_no_dhcp_server_fails_step_3_with_the_reason(self):
        self.stop(self.dnsmasq)
        r = subprocess.run(["ip", "netns", "exec", self.cli, PHONE, "--dhcp", self.iface, "--model", "7821",
                            "--mac", "0011220D0002", "-q", "--timeout", "60"], capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout.strip(), f"SEP0011220D0002 7821: step 3: no DHCPOFFER on {self.iface} after 3 DISCOVERs")


if __name__ == "__main__":
    unittest.main()
