#!/usr/bin/python3
"""DHCP server against Kea (issue 18): the same perfdhcp load, the same run.

Two network namespaces made here (and removed at the end) joined by a veth pair: the server's
(10.152.0.1/16) and perfdhcp's (10.152.0.2/16). perfdhcp (Kea's own load generator) runs in
relay mode: every DISCOVER and REQUEST carries giaddr 10.152.0.2, and the server allocates from
10.152.0.0/16 (10.152.1.0-10.152.255.254, 65,279 addresses). Servers, one after the other:
  - Kea 4 (kea-dhcp4, memfile with persist=true: every lease written to its CSV file);
  - labcm serve (leases committed to SQLite before the ACK), and, with --before DIR, a second
    labcm build (DIR/labcm) in the same run, for a before/after of a change.
Each load runs on a freshly started server with an empty lease database, and again after
--held leases were made by the same clients (perfdhcp -R picks its MACs from that many):
offered DORA/s of each --rate, and "flood" (perfdhcp as fast as it can). The server is
pinned to CPU 0 and perfdhcp to CPU 1 (taskset), as in ../shared/peers/dhcp-tftp.

Reported per load: ACK/s (REQUEST->ACK answers / seconds), lost % (DISCOVERs that did not end in
an ACK; perfdhcp waits 1 s after the last request for the answers in flight, -W), average DISCOVER->OFFER and REQUEST->ACK delay (perfdhcp), server CPU per ACK (utime
+ stime of the server process, /proc); ratios against Kea; then issue 18's goals.

Root only (namespaces, port 67). Every process started here is stopped by PID; all traffic
stays inside the two namespaces. Not part of CI.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_scale import stop_process, LABCM, PASSWORD, cpu_seconds, machine, revision  # noqa: E402

SRV_IP, PERF_IP = "10.152.0.1", "10.152.0.2"


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


class Namespaces:
    def __init__(self):
        tag = os.getpid()
        self.srv, self.perf = f"lcdhcp-srv-{tag}", f"lcdhcp-perf-{tag}"

    def up(self):
        for ns in (self.srv, self.perf):
            run("ip", "netns", "add", ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "link", "add", "eth0", "netns", self.srv, "type", "veth", "peer", "name", "eth0", "netns", self.perf)
        for ns, addr in ((self.srv, SRV_IP), (self.perf, PERF_IP)):
            run("ip", "-n", ns, "addr", "add", f"{addr}/16", "dev", "eth0")
            run("ip", "-n", ns, "link", "set", "eth0", "up")

    def down(self):
        for ns in (self.srv, self.perf):
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


class Server:
    """A DHCP server in the server namespace, pinned to CPU 0."""
    name = ""

    def __init__(self, ns, work):
        self.ns, self.work, self.proc = ns, work, None

    def command(self):
        raise NotImplementedError

    def prepare(self):
        """An empty lease database."""

    def start(self):
        self.prepare()
        log = open(os.path.join(self.work, f"{self.name}.log"), "a")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns.srv, "taskset", "-c", "0", *self.command()],
                                     stdout=log, stderr=subprocess.STDOUT, env=self.env())
        for _ in range(200):  # bound: 20 s
            out = subprocess.run(["ip", "netns", "exec", self.ns.srv, "ss", "-Hlun", "sport", "=", ":67"],
                                 capture_output=True, text=True).stdout
            if out.strip():
                time.sleep(0.3)
                return
            if self.proc.poll() is not None:
                sys.exit(f"{self.name} exited: see {log.name}")
            time.sleep(0.1)
        sys.exit(f"{self.name} did not listen on port 67")

    def env(self):
        return dict(os.environ)

    def stop(self):
        stop_process(self.proc)
        self.proc = None


class Kea(Server):
    name = "Kea"

    def prepare(self):
        self.leases = os.path.join(self.work, "kea-leases4.csv")
        for f in os.listdir(self.work):
            if f.startswith("kea-leases4.csv"):
                os.remove(os.path.join(self.work, f))
        self.cfg = os.path.join(self.work, "kea-dhcp4.json")
        with open(self.cfg, "w") as f:
            json.dump({"Dhcp4": {
                "interfaces-config": {"interfaces": ["eth0"], "dhcp-socket-type": "raw"},
                "lease-database": {"type": "memfile", "persist": True, "lfc-interval": 0, "name": self.leases},
                "valid-lifetime": 3600, "authoritative": True,
                "option-def": [{"name": "cisco-tftp", "code": 150, "type": "ipv4-address", "array": True, "space": "dhcp4"}],
                "subnet4": [{"id": 1, "subnet": "10.152.0.0/16", "pools": [{"pool": "10.152.1.0 - 10.152.255.254"}],
                             "option-data": [{"name": "routers", "data": SRV_IP}, {"name": "cisco-tftp", "data": SRV_IP},
                                             {"name": "tftp-server-name", "data": SRV_IP}]}],
                "loggers": [{"name": "kea-dhcp4", "output_options": [{"output": "stdout"}], "severity": "WARN"}]}}, f)

    def env(self):
        return dict(os.environ, KEA_PIDFILE_DIR=self.work, KEA_LOCKFILE_DIR=self.work)

    def command(self):
        return ["kea-dhcp4", "-c", self.cfg]


class Labcm(Server):
    def __init__(self, ns, work, binary, name):
        super().__init__(ns, os.path.join(work, name.replace(" ", "-")))
        os.makedirs(self.work)
        self.binary, self.name = binary, name
        self.data = os.path.join(self.work, "data")
        for k, v in (("bind_address", SRV_IP), ("admin_bind", "127.0.0.1")):
            self.cli("setting", "set", k, v)
        self.cli("dhcp", "pool", "set", "perf", "--subnet", "10.152.0.0/16", "--range", "10.152.1.0-10.152.255.254",
                 "--routers", SRV_IP, "--tftp", SRV_IP, "--option66", SRV_IP, "--lease-time", "3600")
        self.pristine = self.data + ".pristine"
        shutil.copytree(self.data, self.pristine)

    def cli(self, *args):
        r = subprocess.run([self.binary, "--data-dir", self.data, *args], capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            sys.exit(f"{self.name} {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    def prepare(self):
        shutil.rmtree(self.data)
        shutil.copytree(self.pristine, self.data)

    def env(self):
        return dict(os.environ, LABCM_ADMIN_PASSWORD=PASSWORD)

    def command(self):
        return [self.binary, "--data-dir", self.data, "--log-level", "warn", "serve"]


def perfdhcp(ns, rate, seconds, clients, work, tag):
    """One perfdhcp run; returns its counts and delays."""
    args = ["ip", "netns", "exec", ns.perf, "taskset", "-c", "1", "perfdhcp", "-4", "-g", "single", "-R", str(clients),
            "-p", str(seconds), "-W", "1000000", "-l", PERF_IP]  # answers to the last requests count (1 s)
    if rate != "flood":
        args += ["-r", str(rate)]
    out = subprocess.run(args + [SRV_IP], capture_output=True, text=True, timeout=seconds + 60).stdout
    with open(os.path.join(work, f"perfdhcp-{tag}.txt"), "w") as f:
        f.write(out)
    stats, section = {}, None
    for line in out.split("\n"):
        if "Statistics for: DISCOVER-OFFER" in line:
            section = "do"
        elif "Statistics for: REQUEST-ACK" in line:
            section = "ra"
        m = re.match(r"\s*(sent packets|received packets|avg delay):\s*([\d.]+)", line)
        if section and m:
            stats[f"{section} {m[1]}"] = float(m[2])
    return stats


def load(server, ns, rate, seconds, clients, work, tag):
    pid = server.proc.pid
    c0 = cpu_seconds(pid)
    s = perfdhcp(ns, rate, seconds, clients, work, tag)
    cpu = cpu_seconds(pid) - c0
    sent, acks = s.get("do sent packets", 0), s.get("ra received packets", 0)
    return {"acks": acks / seconds, "lost": 100 * (sent - acks) / sent if sent else float("nan"),
            "do_ms": s.get("do avg delay", float("nan")), "ra_ms": s.get("ra avg delay", float("nan")),
            "cpu_us": cpu / acks * 1e6 if acks else float("nan"), "offered": sent / seconds}


def hold_leases(server, ns, count, work):
    """Runs perfdhcp floods with the same `count` clients until (almost) every one has a lease;
    at most 8 runs of 5 s. Returns the ACKs they got."""
    total = 0
    for i in range(8):
        s = perfdhcp(ns, "flood", 5, count, work, f"{server.name}-held-{i}")
        total += s.get("ra received packets", 0)
        if total >= count:
            break
    return total


def versions():
    kea = subprocess.run(["kea-dhcp4", "-v"], capture_output=True, text=True).stdout.strip()
    return f"labcm {revision()}, Kea {kea}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", action="append", help="offered DORA/s (repeatable; 'flood' = as fast as perfdhcp can)")
    ap.add_argument("--seconds", type=int, default=5, help="per load")
    ap.add_argument("--clients", type=int, default=60000, help="perfdhcp -R: distinct client MACs")
    ap.add_argument("--held", type=int, default=60000, help="leases made before the second series (0: none)")
    ap.add_argument("--before", help="a directory with another labcm build to run beside this one")
    args = ap.parse_args()
    rates = args.rate or ["2000", "8000", "12000", "flood"]
    if os.geteuid() != 0:
        sys.exit("dhcp_bench.py needs root (network namespaces, port 67)")
    work = tempfile.mkdtemp(prefix="labcm-bench-dhcp-")
    ns = Namespaces()
    servers = []
    try:
        ns.up()
        servers = [Kea(ns, work), Labcm(ns, work, LABCM, "labcm")]
        if args.before:
            servers.append(Labcm(ns, work, os.path.join(args.before, "labcm"), "labcm before"))
        names = [s.name for s in servers]
        print(f"# dhcp.sh {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, perfdhcp relay mode, {args.clients:,} "
              f"clients, {args.seconds} s per load, a fresh server per series")
        print(f"# {versions()}; {machine()}; load average before: {open('/proc/loadavg').read().split()[0]}")
        print("| leases held | offered DORA/s | " + " | ".join(f"{n} ACK/s, lost %, DO/RA ms, CPU us/ACK" for n in names)
              + " | " + " | ".join(f"{n}/Kea ACK/s" for n in names[1:]) + " |")
        print("|---" * (2 + 2 * len(names) - 1) + "|")
        results = {}
        for held in ([0, args.held] if args.held else [0]):
            for rate in rates:
                row = []
                for s in servers:
                    s.start()
                    got = hold_leases(s, ns, args.held, work) if held else 0
                    r = load(s, ns, rate, args.seconds, args.clients, work, f"{s.name}-{held}-{rate}")
                    r["held"] = got
                    s.stop()
                    row.append(r)
                results[(held, rate)] = row
                cells = [f"{r['acks']:,.0f}, {r['lost']:.1f} %, {r['do_ms']:.2f}/{r['ra_ms']:.2f}, {r['cpu_us']:.0f}" for r in row]
                ratios = [f"{r['acks'] / row[0]['acks']:.2f}x" if row[0]["acks"] else "-" for r in row[1:]]
                made = ", ".join(f"{r['held']:,.0f}" for r in row)
                label = f"{held:,} ({made} ACKed first)" if held else "0"
                print(f"| {label} | {rate} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |", flush=True)
        print_goals(results, rates, args.held)
        return 0
    finally:
        for s in servers:
            s.stop()
        ns.down()
        shutil.rmtree(work, ignore_errors=True)


def print_goals(results, rates, held):
    """Issue 18's goals, for labcm (the second server of each row)."""
    def line(goal, value, met):
        print(f"- {goal}: {value}: {'met' if met else 'missed'}")
    print("\nGoals (issue 18):")
    clean = [float(r) for r in rates if r != "flood" and results[(0, r)][1]["lost"] <= 0.1]
    best_clean = max((results[(0, r)][1]["acks"] for r in rates if r != "flood" and results[(0, r)][1]["lost"] <= 0.1),
                     default=0.0)
    line("clean rate (<= 0.1 % lost) >= 12,000 DORA/s", f"clean up to an offered {max(clean, default=0):,.0f}/s",
         max(clean, default=0) >= 12000)
    if "2000" in rates:
        k, l = results[(0, "2000")][0], results[(0, "2000")][1]
        line("CPU per ACK at 2,000/s <= 0.5x Kea", f"{l['cpu_us']:.0f} us against {k['cpu_us']:.0f} us "
             f"({l['cpu_us'] / k['cpu_us']:.2f}x)", l["cpu_us"] <= 0.5 * k["cpu_us"])
    if "flood" in rates:
        f = results[(0, "flood")][1]
        line("under flood, ACK/s >= 90 % of the best clean rate", f"{f['acks']:,.0f}/s against {best_clean:,.0f}/s",
             f["acks"] >= 0.9 * best_clean)
    if held:
        worst = min(results[(held, r)][1]["acks"] / results[(0, r)][1]["acks"] for r in rates if results[(0, r)][1]["acks"])
        line(f"with {held:,} leases held, the same rates as with none", f"worst {worst:.2f}x of the empty run", worst >= 0.9)


if __name__ == "__main__":
    sys.exit(main())
