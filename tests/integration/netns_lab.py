"""A small network-namespace lab for DHCP tests with real clients, created and removed by
the test itself. Nothing is created in the root namespace and nothing is routed anywhere:

    [srv]  eth0 10.x.0.1/24 (+ 10.x.0.2/24)        labcm runs here
             | veth
    [lan]  s0 -- br0 -- p1 .. pN                     a bridge in its own namespace
                         | veth
    [c1..cN] eth0, no address: the DHCP clients configure it

Processes started in the lab are stopped by PID (`ip netns pids` lists only what the test
started there) before the namespaces are deleted."""
import os
import shutil
import signal
import subprocess

from labcm_test import poll


def namespaces_usable(*tools):
    """Root, iproute2, the given tools, and permission to create a namespace."""
    if os.geteuid() != 0 or not shutil.which("ip") or any(not shutil.which(t) for t in tools):
        return False
    name = f"lcm-probe-{os.getpid()}"
    ok = subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode == 0
    if ok:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return ok


def run(*cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return r.stdout


class Lab:
    def __init__(self, tag, subnet_octet, clients=3, mac_base="02:00:5e:21:00"):
        self.tag = tag
        self.net = f"10.{subnet_octet}.0"
        self.srv = f"{tag}srv"
        self.lan = f"{tag}lan"
        self.clients = [f"{tag}c{i}" for i in range(1, clients + 1)]
        self.mac_base = mac_base
        self.server_ip = f"{self.net}.1"
        self.server_ip2 = f"{self.net}.2"

    def _ns(self, name):
        run("ip", "netns", "add", name)
        run("ip", "-n", name, "link", "set", "lo", "up")
        run("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", check=False)

    def up(self):
        for ns in [self.lan, self.srv] + self.clients:
            self._ns(ns)
        run("ip", "-n", self.lan, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0")
        run("ip", "-n", self.lan, "link", "set", "br0", "up")
        run("ip", "link", "add", "eth0", "netns", self.srv, "type", "veth", "peer", "name", "s0", "netns", self.lan)
        run("ip", "-n", self.lan, "link", "set", "s0", "master", "br0", "up")
        run("ip", "-n", self.srv, "link", "set", "eth0", "up")
        run("ip", "-n", self.srv, "addr", "add", f"{self.server_ip}/24", "dev", "eth0")
        run("ip", "-n", self.srv, "addr", "add", f"{self.server_ip2}/24", "dev", "eth0")
        for i, ns in enumerate(self.clients, 1):
            run("ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", f"p{i}", "netns", self.lan)
            run("ip", "-n", self.lan, "link", "set", f"p{i}", "master", "br0", "up")
            run("ip", "-n", ns, "link", "set", "eth0", "address", self.mac(i), "up")
        return self

    def mac(self, i):
        return f"{self.mac_base}:{i:02x}"

    def set_mac(self, i, mac):
        run("ip", "-n", self.clients[i - 1], "link", "set", "eth0", "address", mac)

    def addresses(self, i):
        out = run("ip", "-n", self.clients[i - 1], "-4", "-o", "addr", "show", "dev", "eth0")
        return [f.split()[3].split("/")[0] for f in out.splitlines() if " inet " in f]

    def down(self):
        everything = [self.srv, self.lan] + self.clients

        def emptied():
            """Kills what still runs in the lab; true once nothing does."""
            pids = []
            for ns in everything:
                r = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
                pids += [int(p) for p in r.stdout.split()]
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return not pids
        poll(emptied, seconds=5, step=0.1)  # bounded: the namespaces are deleted in any case
        for ns in everything:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
