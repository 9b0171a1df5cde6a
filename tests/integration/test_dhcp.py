"""labcm's DHCP server against real clients (ISC dhclient, busybox udhcpc, labcm-phone) in
network namespaces the test creates (netns_lab.py), and its crash safety: a fault hook that
ends the server between a lease's commit and its ACK, and kill -9 under load, never give one
address to two MACs after a restart. Namespace tests need root (CI runs as root) and are
skipped with a message elsewhere; the kill -9 test runs on loopback through relay agents."""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest
import urllib.request

from labcm_test import LabcmTestCase, LABCM
from netns_lab import Lab, namespaces_usable

PHONE = os.environ.get("LABCM_PHONE_BIN", os.path.join(os.path.dirname(LABCM), "labcm-phone"))
VCI_8841 = "Cisco Systems, Inc. IP Phone CP-8841"

DHCLIENT_HOOK = r"""#!/bin/sh
# dhclient -sf hook: configures only this namespace's interface and records what it got.
out="{dir}/$(ip netns identify $$).dhclient"
env | grep -E '^(reason|interface|new_|old_)' | sort > "$out.$reason.env"
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT) ip addr replace "$new_ip_address/24" dev "$interface"; cp "$out.$reason.env" "$out.bound" ;;
  EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev "$interface" ;;
esac
exit 0
"""

UDHCPC_HOOK = r"""#!/bin/sh
# busybox udhcpc -s hook: configures only this namespace's interface and records what it got.
out="{dir}/$(ip netns identify $$).udhcpc"
env | grep -E '^(interface|ip|subnet|router|serverid|lease|siaddr|tftp|dns|domain|ntpsrv|opt[0-9]+)=' | sort > "$out.$1.env"
case "$1" in
  deconfig) ip link set dev "$interface" up; ip -4 addr flush dev "$interface" ;;
  bound|renew) ip addr replace "$ip/24" dev "$interface"; cp "$out.$1.env" "$out.bound" ;;
esac
exit 0
"""


def read_env(path):
    with open(path, encoding="utf-8") as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def hex_ips(h):
    return " ".join(".".join(str(int(h[i + k:i + k + 2], 16)) for k in (0, 2, 4, 6)) for i in range(0, len(h), 8))


DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)


class Relay:
    """A relay agent on a loopback address: sends BOOTREQUESTs with giaddr set and reads the
    server's replies on the server port, as RFC 2131 says a relay does."""

    def __init__(self, address, port):
        self.address = address
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.xid = 0x1000

    def close(self):
        self.sock.close()

    def ask(self, mtype, mac, options=None, ciaddr="0.0.0.0", wait=15.0):
        """Sends one message; the reply with its xid, or None after `wait` seconds (a bounded
        deadline for an answer that comes; only the callers that expect none pass a short wait)."""
        return self.reply(self.send(mtype, mac, options, ciaddr), wait)

    def send(self, mtype, mac, options=None, ciaddr="0.0.0.0"):
        """Sends one message; returns its xid."""
        self.xid += 1
        head = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 1, self.xid, 0, 0, socket.inet_aton(ciaddr),
                           bytes(4), bytes(4), socket.inet_aton(self.address), mac, b"", b"")
        opts = bytes([53, 1, mtype])
        for code, data in (options or {}).items():
            opts += bytes([code, len(data)]) + data
        self.sock.sendto(head + b"\x63\x82\x53\x63" + opts + b"\xff", ("127.0.0.1", self.port))
        return self.xid

    def reply(self, xid, wait):
        """The reply to `xid` (others are skipped), or None after `wait` seconds."""
        self.sock.settimeout(wait)
        try:
            while True:
                data, _ = self.sock.recvfrom(2048)
                if struct.unpack("!I", data[4:8])[0] == xid:
                    break
        except socket.timeout:
            return None
        reply = {"size": len(data), "yiaddr": socket.inet_ntoa(data[16:20])}
        i = 240
        while i < len(data) and data[i] != 255:
            if data[i] == 0:
                i += 1
                continue
            reply[data[i]] = data[i + 2:i + 2 + data[i + 1]]
            i += 2 + data[i + 1]
        reply["type"] = reply[53][0]
        return reply


@unittest.skipUnless(namespaces_usable("dhclient", "busybox"),
                     "needs root, iproute2, dhclient (isc-dhcp-client), busybox and network namespaces")
class DhcpLabTest(LabcmTestCase):
    def setUp(self):
        super().setUp()
        tag = f"ld{os.getpid() % 100000}"
        self.lab = Lab(tag, 214, clients=3)
        self.addCleanup(self.lab.down)
        self.lab.up()
        os.chmod(self.dir, 0o755)
        self.hooks = {}
        for name, text in (("dhclient", DHCLIENT_HOOK), ("udhcpc", UDHCPC_HOOK)):
            path = self.write_file(f"{name}-hook.sh", text.format(dir=self.dir))
            os.chmod(path, 0o755)
            self.hooks[name] = path
        n = self.lab.net
        self.ok("setting", "set", "bind_address", self.lab.server_ip)
        self.ok("setting", "set", "dhcp_interface", "eth0")
        self.ok("dhcp", "pool", "set", "lab", "--subnet", f"{n}.0/24", "--range", f"{n}.100-{n}.149",
                "--routers", f"{n}.1", "--dns", f"{n}.1", "--domain", "lab.test", "--ntp", f"{n}.1",
                "--tftp", f"{n}.1,{n}.2", "--option66", f"{n}.1", "--lease-time", "600")
        self.serve = None
        self.start_in_lab()

    def start_in_lab(self, env=None):
        log_path = os.path.join(self.dir, f"serve-{len(self.servers)}.log")
        log = open(log_path, "w+", encoding="utf-8")
        proc = subprocess.Popen(["ip", "netns", "exec", self.lab.srv, LABCM, "--data-dir", self.data, "serve"],
                                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        proc.stderr_file = log
        proc.log_path = log_path
        self.servers.append(proc)
        self.wait_until_ready(proc)  # through the control socket in the data dir, from this namespace
        self.serve = proc
        return proc

    def leases(self):
        r = self.labcm("--json", "dhcp", "leases")
        self.assertEqual(r.returncode, 0, r.stderr)
        return {l["address"]: l for l in json.loads(r.stdout)["result"]}

    def events_of(self, mac):
        return self.ok("events", "--device", mac.replace(":", ""), "--limit", "100")

    # --- the clients ------------------------------------------------------------------
    def dhclient(self, i, *extra, vci=VCI_8841):
        ns = self.lab.clients[i - 1]
        conf = self.write_file(f"dhclient-{i}.conf", (
            "option cisco-tftp code 150 = array of ip-address;\n"
            f'send vendor-class-identifier "{vci}";\n'
            "request subnet-mask, routers, domain-name-servers, domain-name, ntp-servers, tftp-server-name, cisco-tftp;\n"
            "timeout 15;\n"))
        args = ["ip", "netns", "exec", ns, "dhclient", "-4", "-cf", conf, "-lf", os.path.join(self.dir, f"{ns}.leases"),
                "-pf", os.path.join(self.dir, f"{ns}.pid"), "-sf", self.hooks["dhclient"], *extra, "eth0"]
        return subprocess.run(args, capture_output=True, text=True, timeout=40)

    def udhcpc(self, i, vci, *extra):
        ns = self.lab.clients[i - 1]
        args = ["ip", "netns", "exec", ns, "busybox", "udhcpc", "-i", "eth0", "-f", "-q", "-n", "-t", "3", "-T", "1",
                "-A", "1", "-O", "150", "-O", "66", "-O", "42", "-V", vci, "-s", self.hooks["udhcpc"], *extra]
        return subprocess.run(args, capture_output=True, text=True, timeout=40)

    def result(self, i, client):
        path = os.path.join(self.dir, f"{self.lab.clients[i - 1]}.{client}.bound")
        return read_env(path) if os.path.exists(path) else None

    # --- tests ------------------------------------------------------------------------
    def test_dhclient_gets_option_150_and_66_and_release_frees_the_address(self):
        r = self.dhclient(1, "-1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr + self.log_of(self.serve))
        env = self.result(1, "dhclient")
        n = self.lab.net
        self.assertRegex(env["new_ip_address"], rf"^{re.escape(n)}\.1[0-4]\d$")
        self.assertEqual(env["new_dhcp_server_identifier"], self.lab.server_ip)
        self.assertEqual(env["new_cisco_tftp"], f"{n}.1 {n}.2")  # option 150, in order
        self.assertEqual(env["new_tftp_server_name"], f"{n}.1")  # option 66
        self.assertEqual(env["new_subnet_mask"], "255.255.255.0")
        self.assertEqual(env["new_routers"], f"{n}.1")
        self.assertEqual(env["new_ntp_servers"], f"{n}.1")
        self.assertEqual(env["new_domain_name"], "lab.test")
        self.assertEqual(env["new_dhcp_lease_time"], "600")
        ip = env["new_ip_address"]
        self.assertEqual(self.lab.addresses(1), [ip])
        mac = self.lab.mac(1).replace(":", "").upper()
        lease = self.leases()[ip]
        self.assertEqual((lease["mac"], lease["state"], lease["model"], lease["vendor_class"]),
                         (mac, "bound", "8841", VCI_8841))
        # RELEASE (dhclient -r): the lease ends at once, and the timeline shows the exchange.
        r = self.dhclient(1, "-r")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_for(lambda: self.leases()[ip]["state"] == "released", "the release to be stored")
        self.wait_for(lambda: "dhcp_released" in self.events_of(mac), "the release event to be stored")
        ev = self.events_of(mac)
        for kind in ("dhcp_offered", "dhcp_acked", "dhcp_released"):
            self.assertIn(kind, ev)
        self.assertIn(f"offered {ip} (pool lab) to CP-8841", ev)
        # The model from option 60 is remembered for auto-registration.
        with self.db() as c:
            self.assertEqual(c.execute("SELECT model, source FROM seen_phones WHERE mac = ?", (mac,)).fetchone(),
                             ("8841", "dhcp"))

    def test_a_phone_that_got_a_lease_and_never_asked_for_its_config_is_told_why(self):
        """Issue 22: the verdict for a client that took an address and stopped there."""
        self.ok("setting", "set", "diagnosis_wait", "1")
        r = self.dhclient(1, "-1")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        ip = self.result(1, "dhclient")["new_ip_address"]
        mac = self.lab.mac(1).replace(":", "").upper()
        self.wait_for(lambda: "never asked labcm for its config" in self.ok("device", "why", mac), "the verdict")
        why = self.ok("device", "why", mac)
        self.assertIn(f"SEP{mac} (not in the database): step 4 (DHCP)", why)
        self.assertIn(f"problem: it got {ip} from labcm's DHCP but never asked labcm for its config", why)
        self.assertIn("next: check DHCP options 150/66", why)

    def test_udhcpc_gets_option_150_and_66_and_a_second_client_another_address(self):
        r = self.udhcpc(1, "Cisco Systems, Inc. IP Phone CP-7841")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        env = self.result(1, "udhcpc")
        n = self.lab.net
        self.assertEqual(env["serverid"], self.lab.server_ip)
        opt150 = env["opt150"] if "." in env["opt150"] else hex_ips(env["opt150"])
        self.assertEqual(opt150, f"{n}.1 {n}.2")
        self.assertEqual(env["tftp"], f"{n}.1")
        self.assertEqual(env["lease"], "600")
        self.assertEqual(self.lab.addresses(1), [env["ip"]])
        r = self.dhclient(2, "-1")
        self.assertEqual(r.returncode, 0, r.stderr)
        other = self.result(2, "dhclient")["new_ip_address"]
        self.assertNotEqual(other, env["ip"])
        leases = self.leases()
        self.assertEqual(leases[env["ip"]]["model"], "7841")
        self.assertEqual(leases[other]["mac"], self.lab.mac(2).replace(":", "").upper())
        self.dhclient(2, "-r")

    def test_cisco_only_mode_answers_phones_and_devices_and_ignores_a_pc(self):
        self.ok("setting", "set", "dhcp_cisco_only", "true")  # live, through the running server
        pc_mac = self.lab.mac(1).replace(":", "").upper()
        r = self.udhcpc(1, "MSFT 5.0")
        self.assertNotEqual(r.returncode, 0, "a PC must get no lease in cisco-only mode")
        self.assertIsNone(self.result(1, "udhcpc"))
        self.assertEqual(self.lab.addresses(1), [])
        self.wait_for(lambda: "not a Cisco phone's" in self.events_of(pc_mac), "the ignored event")
        # A phone, by its vendor class.
        r = self.udhcpc(2, "Cisco Systems, Inc. IP Phone CP-8845")
        self.assertEqual(r.returncode, 0, r.stderr)
        # A configured device, whatever it sends.
        self.ok("device", "add", self.lab.mac(3).replace(":", ""), "--model", "7821", "--line", "3001")
        r = self.udhcpc(3, "")
        self.assertEqual(r.returncode, 0, r.stderr)
        macs = {l["mac"] for l in self.leases().values()}
        self.assertEqual(macs, {self.lab.mac(2).replace(":", "").upper(), self.lab.mac(3).replace(":", "").upper()})

    def test_labcm_phone_takes_its_reserved_address_and_registers(self):
        mac = "0011220D0101"
        n = self.lab.net
        self.ok("device", "add", mac, "--model", "8845", "--line", "1001", "--dhcp-address", f"{n}.20")
        r = subprocess.run(["ip", "netns", "exec", self.lab.clients[0], PHONE, "--dhcp", "eth0", "--model", "8845",
                            "--mac", mac, "--timeout", "60"], capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"step 3 dhcp on eth0: ok: {n}.20/24 from {n}.1, option 150 [{n}.1,{n}.2], option 66 '{n}.1'",
                      r.stderr)
        self.assertRegex(r.stderr, rf"step 9 {re.escape(n)}\.1:5060 tcp: ok")

        def shown():  # the registration is saved behind the registrar's 200 OK
            text = self.ok("device", "show", mac)
            self.assertIn("registration: registered", text)
            self.assertIn(f"from:          tcp:{n}.20:", text)
            self.assertIn(f"dhcp address: {n}.20 (reserved)", text)
            return text
        self.eventually(shown, f"{mac} to show registered from {n}.20")
        # Issue 19: its connection closed with the simulator, but another host on the lab
        # network (here the server's own address) still cannot register it: labcm leased it .20.
        register = (f"REGISTER sip:{n}.1 SIP/2.0\r\nVia: SIP/2.0/UDP {n}.1:5999;branch=z9hG4bK-lease-1\r\n"
                    f"From: <sip:1001@{n}.1>;tag=t1\r\nTo: <sip:1001@{n}.1>\r\nCall-ID: lease-1@{n}.1\r\n"
                    f"CSeq: 1 REGISTER\r\nContact: <sip:1001@{n}.1:5999>;+sip.instance=\"<urn:uuid:00000000-0000-0000-"
                    f"0000-{mac}>\";+u.sip!devicename.ccm.cisco.com=\"SEP{mac}\"\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n")
        code = ("import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind((sys.argv[1],5999)); "
                "s.settimeout(10); s.sendto(sys.argv[2].encode(),(sys.argv[1],5060)); print(s.recv(65536).decode())")
        r = subprocess.run(["ip", "netns", "exec", self.lab.srv, sys.executable, "-c", code, f"{n}.1", register],
                           capture_output=True, text=True, timeout=30)
        self.assertTrue(r.stdout.startswith("SIP/2.0 403 "), r.stdout + r.stderr)
        self.wait_for(lambda: f"labcm's DHCP leased SEP{mac} the address {n}.20" in self.events_of(mac),
                      "the refusal as an event of the phone")

    def test_three_phones_through_relay_agents(self):
        # Each phone is its own relay agent at an address of the client side (giaddr), as on
        # a routed voice VLAN; labcm answers the relay's port 67; the phone takes the lease.
        n = self.lab.net
        for i in (5, 6, 7):
            subprocess.run(["ip", "-n", self.lab.clients[0], "addr", "add", f"{n}.{i}/24", "dev", "eth0"], check=True)
        rows = ["mac,model,description,load,transport,line1_dn"] + [
            f"0011220E010{i},{m},,,,{2000 + i}" for i, m in ((0, "7821"), (1, "8845"), (2, "7975"))]
        self.ok("import", self.write_file("relay.csv", "\n".join(rows) + "\n"))
        r = subprocess.run(["ip", "netns", "exec", self.lab.clients[0], PHONE, "--dhcp-relay", self.lab.server_ip,
                            "--dhcp", "eth0", "--ip-base", f"{n}.5", "--count", "3", "--lab-network",
                            "--model", "7821,8845,7975", "--mac", "0011220E0100", "--timeout", "60", "--json"],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout.splitlines()[-1])["registered"], 3)
        for giaddr in (f"{n}.5", f"{n}.6", f"{n}.7"):
            self.assertIn(f"(via relay {giaddr} to {n}.1)", r.stderr)

        def listed():  # registrations are saved behind the registrar's 200 OK
            listing = self.ok("device", "list")
            for i in range(3):
                row = next(l for l in listing.splitlines() if l.startswith(f"SEP0011220E010{i}"))
                self.assertRegex(row, rf" registered +{re.escape(n)}\.1[0-4]\d ")  # leased, not the relay's address
            return listing
        self.eventually(listed, "the three phones to be listed registered from leased addresses")
        self.wait_for(lambda: f"via relay {n}.5" in self.events_of("0011220E0100"), "the relayed exchange's events")

    def test_a_crash_between_commit_and_ack_never_gives_the_address_to_another_mac(self):
        self.stop_server(self.serve)
        crashing = self.start_in_lab({"LABCM_TEST_FAULT": "dhcp-after-commit"})
        r = self.udhcpc(1, VCI_8841)
        self.assertNotEqual(r.returncode, 0, "the server died before its ACK")
        self.assertEqual(crashing.wait(timeout=10), 86, self.log_of(crashing))
        mac1 = self.lab.mac(1).replace(":", "").upper()
        committed = [a for a, l in self.leases().items() if l["mac"] == mac1 and l["state"] == "bound"]
        self.assertEqual(len(committed), 1, self.leases())
        self.start_in_lab()
        # Another MAC asks first: it gets another address, though the first never saw its ACK.
        r = self.udhcpc(2, VCI_8841, "-r", committed[0])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(self.result(2, "udhcpc")["ip"], committed[0])
        # The first client comes back and gets the address that was committed for it.
        r = self.udhcpc(1, VCI_8841)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.result(1, "udhcpc")["ip"], committed[0])

    def test_a_missing_interface_is_a_clear_error_at_start(self):
        self.stop_server(self.serve)
        self.ok("setting", "set", "dhcp_interface", "eth9")
        r = subprocess.run(["ip", "netns", "exec", self.lab.srv, LABCM, "--data-dir", self.data, "serve"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("DHCP: interface 'eth9' does not exist (setting dhcp_interface)", r.stdout + r.stderr)


class DhcpLoopbackTest(LabcmTestCase):
    """Relay agents on 127.x addresses (labcm-phone --dhcp-relay): no root needed."""

    def setUp(self):
        super().setUp()
        self.use_loopback_ports()
        self.dhcp_port = self.free_port(socket.SOCK_DGRAM)
        self.ok("setting", "set", "dhcp_port", str(self.dhcp_port))
        self.ok("dhcp", "pool", "set", "loop", "--subnet", "127.3.0.0/16", "--range", "127.3.1.1-127.3.1.200",
                "--lease-time", "600")

    def fleet(self, first_mac, count, timeout=40):
        """Starts labcm-phone phones that only need DHCP to pass step 3; returns the process."""
        log = open(os.path.join(self.dir, f"fleet-{first_mac}.log"), "w+", encoding="utf-8")
        self.addCleanup(log.close)
        proc = subprocess.Popen([PHONE, "--dhcp-relay", "127.0.0.1", "--dhcp-port", str(self.dhcp_port),
                                 "--ip-base", "127.3.0.1", "--count", str(count), "--rate", "400", "--model", "8845",
                                 "--mac", first_mac, "--tftp-port", str(self.tftp_port), "--http-port",
                                 str(self.http_port), "--timeout", str(timeout)],
                                stdout=subprocess.DEVNULL, stderr=log)
        proc.log = log
        return proc

    @staticmethod
    def acked(proc):
        """MAC -> address, for every phone whose DHCP step got an ACK."""
        proc.log.seek(0)
        return dict(re.findall(r"^SEP([0-9A-F]{12}) \[[^]]*\] step 3 dhcp on : ok: (127\.3\.\d+\.\d+)/16",
                               proc.log.read(), re.M))

    def bound_in_db(self):
        with self.db() as c:
            return dict(c.execute("SELECT address, mac FROM dhcp_leases WHERE state = 'bound'").fetchall())

    def status_acks(self):
        r = self.labcm("--json", "status")
        if r.returncode != 0:
            return 0
        d = json.loads(r.stdout)["result"].get("dhcp") or {}
        return d.get("acks", 0)

    def test_kill_9_under_load_never_yields_one_address_for_two_macs(self):
        server = self.start_server()
        first = self.fleet("0011223F0000", 150)
        self.wait_for(lambda: self.status_acks() >= 40 or first.poll() is not None, "40 leases", seconds=30)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        first.wait(timeout=60)
        got1 = self.acked(first)
        self.assertGreaterEqual(len(got1), 20)  # acks count the second boot of a phone too
        after_kill = self.bound_in_db()
        # Every ACK a phone saw was committed first, to the MAC that saw it.
        for mac, ip in got1.items():
            self.assertEqual(after_kill.get(ip), mac, f"{mac} was ACKed {ip}, the database says {after_kill.get(ip)}")
        self.assertEqual(len(set(got1.values())), len(got1))
        # After the restart, new MACs never get an address committed before the kill.
        self.start_server()
        second = self.fleet("0011223F1000", 120)
        second.wait(timeout=60)
        got2 = self.acked(second)
        self.assertGreater(len(got2), 0)
        self.assertEqual(set(got2.values()) & set(after_kill), set())
        both = list(got1.values()) + list(got2.values())
        self.assertEqual(len(both), len(set(both)), "one address went to two MACs")
        self.assertEqual(len(self.bound_in_db()), len(after_kill) + len(got2))

    def test_a_lease_that_ended_while_labcm_was_off_is_marked_expired_at_start(self):
        """Leases that end without a renewal are marked 'expired' by a sweep (at start, then
        every 10 s), saved, counted, and an event each for the phone's timeline."""
        with self.db() as c:
            c.execute("INSERT INTO dhcp_leases (address, mac, state, expires, pool, vendor_class, model, hostname, "
                      "updated_at) VALUES ('127.3.1.5', '0011223F3000', 'bound', 1000, 'loop', '', '8841', '', 1000)")
            c.execute("INSERT INTO dhcp_leases (address, mac, state, expires, pool, vendor_class, model, hostname, "
                      "updated_at) VALUES ('127.3.1.6', '0011223F3001', 'bound', 32503680000000, 'loop', '', '', '', 1000)")

        def states():
            with self.db() as c:
                return dict(c.execute("SELECT address, state FROM dhcp_leases").fetchall())
        self.start_server()
        self.wait_for(lambda: states()["127.3.1.5"] == "expired", "the ended lease to be marked expired")
        self.assertEqual(states()["127.3.1.6"], "bound")  # ends in the year 3000
        self.wait_for(lambda: "dhcp_expired" in self.ok("events", "--device", "0011223F3000"), "the expiry event")
        self.assertIn("the lease of 127.3.1.5 (pool loop) ended without a renewal",
                      self.ok("events", "--device", "0011223F3000"))
        self.assertNotIn("dhcp_expired", self.ok("events", "--device", "0011223F3001"))
        self.assertEqual(json.loads(self.ok("--json", "status"))["result"]["dhcp"]["expired"], 1)
        self.assertRegex(self.ok("dhcp", "leases"), r"127\.3\.1\.5 .*expired")

    def test_relayed_requests_without_a_pool_for_the_giaddr_are_not_answered(self):
        self.start_server()
        r = subprocess.run([PHONE, "--dhcp-relay", "127.0.0.1", "--dhcp-port", str(self.dhcp_port), "--ip",
                            "127.4.0.9", "--model", "7821", "--mac", "0011223F2000", "-q", "--timeout", "20"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("step 3", r.stdout)
        self.wait_for(lambda: "no pool for the network of 127.4.0.9" in self.ok("events", "--device", "0011223F2000"),
                      "the ignored event")

    def test_option_60_feeds_auto_registration(self):
        # An unknown phone: DHCP tells labcm its model (option 60), so its first request for
        # SEP<MAC>.cnf.xml creates the device, and it registers on its first boot.
        self.ok("setting", "set", "auto_registration", "true")
        self.start_server()
        r = subprocess.run([PHONE, "--dhcp-relay", "127.0.0.1", "--dhcp-port", str(self.dhcp_port), "--ip",
                            "127.3.0.77", "--model", "7841", "--mac", "0011223F3000", "--tftp-port", str(self.tftp_port),
                            "--http-port", str(self.http_port), "--timeout", "30"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"step 6 SEP0011223F3000\.cnf\.xml: ok")

        def shown():  # the registration is saved behind the registrar's 200 OK
            text = self.ok("device", "show", "SEP0011223F3000")
            self.assertIn("model:       7841", text)
            self.assertIn("description: auto-registered", text)
            self.assertIn("registration: registered", text)
            return text
        self.eventually(shown, "SEP0011223F3000 to show auto-registered and registered")

    def test_the_protocol_exchange_by_hand(self):
        """Hand-built packets through a relay socket: every message type and its answer."""
        self.start_server()
        relay = Relay("127.3.0.200", self.dhcp_port)
        self.addCleanup(relay.close)
        mac_a, mac_b = bytes.fromhex("0011223F4001"), bytes.fromhex("0011223F4002")
        agent = bytes([1, 4]) + b"port"  # option 82 circuit id: echoed back
        offer = relay.ask(DISCOVER, mac_a, options={60: VCI_8841.encode(), 82: agent})
        self.assertIsNotNone(offer)
        self.assertGreaterEqual(offer["size"], 300)
        self.assertEqual(offer["type"], OFFER)
        yiaddr = offer["yiaddr"]
        self.assertEqual(yiaddr, "127.3.1.1")
        self.assertEqual(offer[54], socket.inet_aton("127.0.0.1"))
        self.assertEqual(offer[150], socket.inet_aton("127.0.0.1"))  # labcm's own address by default
        self.assertEqual(offer[66], b"127.0.0.1")
        self.assertEqual(offer[51], (600).to_bytes(4, "big"))
        self.assertEqual(offer[82], agent)
        sid = {54: offer[54], 50: socket.inet_aton(yiaddr)}
        # Another server chosen: no answer, and the offer is dropped.
        self.assertIsNone(relay.ask(REQUEST, mac_a, options={54: socket.inet_aton("127.9.9.9"), 50: sid[50]}, wait=0.5))
        ack = relay.ask(REQUEST, mac_a, options=sid)
        self.assertEqual((ack["type"], ack["yiaddr"]), (ACK, yiaddr))
        self.assertEqual(ack[58], (300).to_bytes(4, "big"))
        # Renewing (ciaddr, no server id): ACK again.
        renew = relay.ask(REQUEST, mac_a, ciaddr=yiaddr)
        self.assertEqual((renew["type"], renew["yiaddr"]), (ACK, yiaddr))
        # Another MAC asking for that address: NAK, with the reason.
        nak = relay.ask(REQUEST, mac_b, options={50: sid[50]})
        self.assertEqual(nak["type"], NAK)
        self.assertIn(b"held by another client", nak[56])
        # DECLINE: the address is quarantined, B gets another one.
        offer_b = relay.ask(DISCOVER, mac_b)
        self.assertEqual(relay.ask(DECLINE, mac_b, options={50: socket.inet_aton(offer_b["yiaddr"]), 54: offer[54]},
                                   wait=0.3), None)
        self.wait_for(lambda: self.lease_state(offer_b["yiaddr"]) == "declined", "the decline to be stored")
        self.assertNotIn(relay.ask(DISCOVER, mac_b)["yiaddr"], (offer_b["yiaddr"], yiaddr))
        # INFORM: options, no lease.
        inform = relay.ask(INFORM, mac_b, ciaddr="127.3.0.50")
        self.assertEqual(inform["type"], ACK)
        self.assertNotIn(51, inform)
        self.assertEqual(inform[150], socket.inet_aton("127.0.0.1"))
        # Garbage is dropped and counted; the server goes on.
        relay.sock.sendto(b"\x01\x01\x06", ("127.0.0.1", self.dhcp_port))
        relay.sock.sendto(bytes(240), ("127.0.0.1", self.dhcp_port))
        self.wait_for(lambda: self.dhcp_status().get("dropped", 0) >= 2, "two drops to be counted")
        # RELEASE: the address is free again.
        relay.ask(RELEASE, mac_a, ciaddr=yiaddr, options={54: offer[54]}, wait=0.3)
        self.wait_for(lambda: self.lease_state(yiaddr) == "released", "the release to be stored")
        st = self.dhcp_status()
        self.assertEqual((st["offers"], st["naks"], st["declines"], st["releases"], st["informs"]), (3, 1, 1, 1, 1))
        self.assertGreaterEqual(st["acks"], 2)

    def test_a_server_behind_answers_requests_and_drops_stale_discovers_counted(self):
        """The DHCP thread stalls 5 s at its first wake-up (LABCM_TEST_FAULT=dhcp-stall): what
        queued meanwhile is as old as under a flood it cannot keep up with."""
        self.start_server({"LABCM_TEST_FAULT": "dhcp-stall"})
        relay = Relay("127.3.0.201", self.dhcp_port)
        self.addCleanup(relay.close)
        sid = {54: socket.inet_aton("127.0.0.1")}
        discovers = [relay.send(DISCOVER, bytes.fromhex(f"0011223F50{i:02X}")) for i in range(3)]
        # A phone rebooting asks for its old address (INIT-REBOOT): answered at once, ACK or NAK.
        request = relay.send(REQUEST, bytes.fromhex("0011223F5100"), options={50: socket.inet_aton("127.3.1.9")})
        # Then more than the socket's buffer holds: the kernel drops the rest, counted.
        for _ in range(600):
            relay.sock.sendto(bytes(1400), ("127.0.0.1", self.dhcp_port))
        # The DHCP thread is asleep: the phone HTTP port and the control socket still answer
        # at once, before the REQUEST's answer (which waits for the stall's end) arrives.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/XMLDefault.cnf.xml", timeout=4) as r:
            self.assertIn(b"<callManagerGroup>", r.read())
        self.assertEqual(self.dhcp_status()["stale_discovers"], 0)
        self.assertIsNone(relay.reply(request, wait=0.01), "the DHCP thread was not stalled")
        answer = relay.reply(request, wait=30)
        self.assertIsNotNone(answer, "the REQUEST was not answered")
        self.assertIn(answer["type"], (ACK, NAK))
        st = self.dhcp_status()
        self.assertEqual(st["stale_discovers"], 3, st)
        self.assertGreater(st["dropped"], 0, st)  # the zeros that got in: malformed
        self.assertEqual(st["offers"], 0, st)
        for xid in discovers:
            self.assertIsNone(relay.reply(xid, wait=0.2))
        # Caught up: a new DISCOVER is answered; the kernel's count of its drops came with it.
        self.assertEqual(relay.ask(DISCOVER, bytes.fromhex("0011223F5001"))["type"], OFFER)
        self.assertGreater(self.dhcp_status()["overflow"], 0)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        self.assertIn("labcm_dhcp_stale_discovers_total 3", metrics)
        self.assertRegex(metrics, r"labcm_dhcp_overflow_total [1-9]")

    def lease_state(self, address):
        r = self.labcm("--json", "dhcp", "leases")
        return {l["address"]: l["state"] for l in json.loads(r.stdout)["result"]}.get(address)

    def dhcp_status(self):
        return json.loads(self.ok("--json", "status"))["result"]["dhcp"]

    def test_pool_commands_check_their_input(self):
        self.fails("dhcp", "pool", "set", "bad", "--subnet", "10.1.0.0/24", message="a new pool needs its range")
        self.fails("dhcp", "pool", "set", "bad", "--subnet", "10.1.0.0/24", "--range", "10.1.1.5-10.1.1.9",
                   message="range: 10.1.1.5-10.1.1.9 is not inside 10.1.0.0/24")
        self.fails("dhcp", "pool", "set", "wide", "--subnet", "127.0.0.0/8", "--range", "127.9.0.1-127.9.0.9",
                   message="127.0.0.0/8 overlaps pool 'loop'")
        self.fails("dhcp", "pool", "set", "loop", "--tftp", "tftp.lab", message="tftp: 'tftp.lab' is not a comma")
        self.fails("dhcp", "pool", "rm", "nope", message="DHCP pool 'nope' does not exist")
        self.fails("dhcp", "lease", "rm", "127.3.1.1", message="no lease for 127.3.1.1")
        # A partial change keeps the other fields.
        self.ok("dhcp", "pool", "set", "loop", "--lease-time", "120")
        self.assertIn("subnet 127.3.0.0/16 range 127.3.1.1-127.3.1.200 lease 120 s", self.ok("dhcp", "pool", "list"))


if __name__ == "__main__":
    unittest.main()
