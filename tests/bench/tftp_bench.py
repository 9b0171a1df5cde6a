#!/usr/bin/python3
"""TFTP against atftpd, tftpd-hpa and dnsmasq (issue 16): the same files, the same clients, one run.

Runs inside the network namespace tftp.sh creates: labcm on 10.203.0.2, atftpd on .3,
tftpd-hpa on .4, dnsmasq on .5 (addresses of that namespace only), each on port 69 and serving the same folder
(labcm from its files dir). Loads, each run once per server per round, rounds interleaved so
background noise spreads evenly, medians printed:
  big     a 30 MiB file, atftp --option "blksize 1428" --option "windowsize 8" (MiB/s);
          dnsmasq and tftpd-hpa grant no windowsize (RFC 7440), so they run lock-step
  small   200 x 8 KiB files, one curl process (URL glob, blksize 1428), files/s
  burst   16 such curl processes at once (3,200 files), files/s
Every file is checked (size; sha256 of the big one) before a figure counts. Prints one table
with labcm/peer ratios and the issue's goals; processes started here are stopped by PID.
"""
import argparse
import hashlib
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_scale import Labcm, cpu_seconds, machine, revision  # noqa: E402

BIG = "big30M.bin"
SMALL = 200
BURST = 16
SERVERS = {"labcm": "10.203.0.2", "atftpd": "10.203.0.3", "tftpd-hpa": "10.203.0.4", "dnsmasq": "10.203.0.5"}
CLIENT_CPU = []  # CPU seconds of the clients of each timed() call
GOALS = {"big": ("atftpd", 1.2), "small": ("dnsmasq", 1.5)}


class Daemon:
    def __init__(self, name, cmd, log):
        self.name = name
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def make_files(folder):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, BIG), "wb") as f:
        f.write(os.urandom(30 * 1048576))
    for i in range(1, SMALL + 1):
        with open(os.path.join(folder, f"f{i}.bin"), "wb") as f:
            f.write(os.urandom(8192))
    os.chmod(folder, 0o755)  # the peers read as nobody
    for n in os.listdir(folder):
        os.chmod(os.path.join(folder, n), 0o644)
    with open(os.path.join(folder, BIG), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def answers(ip, name):
    r = subprocess.run(["curl", "-sS", "--max-time", "5", "-o", "/dev/null", f"tftp://{ip}/{name}"], capture_output=True)
    return r.returncode == 0


def timed(cmds):
    """Starts every command at once; seconds until the last ends (each bounded to 120 s), and
    the CPU seconds the clients used, which CPU[...] below reports beside the server's."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in cmds]
    for p in procs:
        p.wait(timeout=120)
    secs = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CLIENT_CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return secs


def run_big(ip, out, sha):
    if os.path.exists(out):
        os.remove(out)
    secs = timed([["atftp", "--option", "blksize 1428", "--option", "windowsize 8", "-g", "-r", BIG, "-l", out, ip, "69"]])
    with open(out, "rb") as f:
        ok = hashlib.sha256(f.read()).hexdigest() == sha
    return (30 / secs) if ok else None


def run_small(ip, out, clients):
    dirs = []
    for c in range(clients):
        d = os.path.join(out, f"c{c}")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        dirs.append(d)
    secs = timed([["curl", "-sS", "--tftp-blksize", "1428", f"tftp://{ip}/f[1-{SMALL}].bin", "-o", os.path.join(d, "f#1.bin")]
                  for d in dirs])
    got = sum(1 for d in dirs for n in os.listdir(d) if os.path.getsize(os.path.join(d, n)) == 8192)
    return got / secs if got == clients * SMALL else None


def versions(peers):
    def first(cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        return (r.stdout or r.stderr).strip().split("\n")[0]
    unpacked = [first(["dpkg-deb", "-W", "--showformat", "${Package} ${Version}", d]) for d in
                (os.path.join(peers, n) for n in sorted(os.listdir(peers))) if d.endswith(".deb")]
    return (f"labcm {revision()}, {', '.join(u for u in unpacked if u)}, {first(['dnsmasq', '--version']).split('  ')[0]}, "
            f"{first(['curl', '--version']).split(' (')[0]}, atftp client {first(['dpkg-query', '-W', '-f', '${Version}', 'atftp'])}; "
            f"{machine()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers", required=True, help="folder the peers were unpacked into (tftp.sh)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="labcm-bench-tftp-")
    os.chmod(work, 0o755)
    daemons = []
    outputs = []
    try:
        root = os.path.join(work, "root")
        sha = make_files(root)
        lab = Labcm(work)
        lab.run("setting", "set", "bind_address", SERVERS["labcm"])
        lab.run("setting", "set", "tftp_port", "69")
        shutil.copytree(root, os.path.join(lab.data, "files"), dirs_exist_ok=True)
        log = open(os.path.join(work, "servers.log"), "w")
        lab.start(log)
        daemons.append(lab)
        sbin = os.path.join(args.peers, "usr", "sbin")
        daemons += [
            Daemon("atftpd", [os.path.join(sbin, "atftpd"), "--daemon", "--no-fork", "--logfile", "/dev/null", "--user",
                              "nobody.nogroup", "--bind-address", SERVERS["atftpd"], "--port", "69", root], log),
            Daemon("tftpd-hpa", [os.path.join(sbin, "in.tftpd"), "-L", "-s", "-u", "nobody", "-a", f"{SERVERS['tftpd-hpa']}:69",
                                 root], log),
            Daemon("dnsmasq", ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0", "--pid-file=",
                               "--bind-interfaces", f"--listen-address={SERVERS['dnsmasq']}", "--enable-tftp",
                               f"--tftp-root={root}", "--log-facility=/dev/null"], log)]
        for name, ip in SERVERS.items():
            for _ in range(100):
                if answers(ip, "f1.bin"):
                    break
                time.sleep(0.1)
            else:
                sys.exit(f"{name} does not serve TFTP on {ip}:69 (log: {log.name})")
        # The clients write to memory: disk writeback of one run's 30 MiB must not slow the next.
        out = tempfile.mkdtemp(prefix="labcm-bench-tftp-out-", dir="/dev/shm")
        outputs.append(out)
        loads = {"big": lambda ip: run_big(ip, os.path.join(out, "big.bin"), sha),
                 "small": lambda ip: run_small(ip, out, 1),
                 "burst": lambda ip: run_small(ip, out, BURST)}
        got = {(load, name): [] for load in loads for name in SERVERS}
        busy = {(load, name): [] for load in loads for name in SERVERS}  # (server, clients) cores busy
        pids = {"labcm": lab.proc.pid, **{d.name: d.proc.pid for d in daemons[1:]}}
        for _ in range(args.runs):
            for load, fn in loads.items():
                for name, ip in SERVERS.items():
                    cpu0, t0 = cpu_seconds(pids[name]), time.monotonic()
                    got[(load, name)].append(fn(ip))
                    dt = time.monotonic() - t0
                    busy[(load, name)].append(((cpu_seconds(pids[name]) - cpu0) / dt, CLIENT_CPU[-1] / dt))
        med = {k: statistics.median([x for x in v if x is not None]) if any(x is not None for x in v) else float("nan")
               for k, v in got.items()}
        failed = {k: sum(1 for x in v if x is None) for k, v in got.items()}
        titles = {"big": "30 MiB, atftp blksize 1428 x windowsize 8 (MiB/s)",
                  "small": f"{SMALL} x 8 KiB, one curl, blksize 1428 (files/s)",
                  "burst": f"{BURST} curls at once x {SMALL} x 8 KiB (files/s)"}
        print(f"# tftp.sh {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, median of {args.runs} runs, "
              f"one network namespace")
        print(f"# {versions(args.peers)}")
        print("| work | labcm | atftpd | tftpd-hpa | dnsmasq | labcm/atftpd | labcm/tftpd-hpa | labcm/dnsmasq | goal |")
        print("|---|---|---|---|---|---|---|---|---|")
        for load, title in titles.items():
            cells = [f"{med[(load, n)]:,.1f}" + (f" ({failed[(load, n)]} failed)" if failed[(load, n)] else "") for n in SERVERS]
            ratios = [f"{med[(load, 'labcm')] / med[(load, n)]:.2f}x" for n in list(SERVERS)[1:]]
            goal = ""
            if load in GOALS:
                peer, want = GOALS[load]
                r = med[(load, "labcm")] / med[(load, peer)]
                goal = f"labcm/{peer} >= {want}x: {'met' if r >= want else 'missed'}"
            print(f"| {title} | {' | '.join(cells)} | {' | '.join(ratios)} | {goal} |", flush=True)
        print("\nCPU during the runs, in cores busy (2.0 = both cores; tftpd-hpa's forked children not counted): "
              "server + clients")
        for load, title in titles.items():
            print(f"- {load}: " + "; ".join(
                f"{n} {statistics.median(b[0] for b in busy[(load, n)]):.2f} + {statistics.median(b[1] for b in busy[(load, n)]):.2f}"
                for n in SERVERS))
        # A lock-step client waits for each answer: the server's share of the wall time is all a
        # faster server could remove, whatever it does.
        share = statistics.median(b[0] for b in busy[("small", "labcm")])
        print(f"\nBound of the small load: labcm was busy {share:.2f} of a core; a server taking no time at all would "
              f"make this client at most {1 / max(1e-9, 1 - share):.2f}x faster (the rest is the client's and the "
              f"kernel's round trips, 7 per file).")
        return 0 if not any(failed[(load, "labcm")] for load in loads) else 1
    finally:
        for d in reversed(daemons):
            d.stop()
        for d in [work, *outputs]:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
