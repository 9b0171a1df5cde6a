#!/usr/bin/python3
"""HTTP 6970 against nginx (issue 16): the same bytes, the same load, the same run.

A lab of N devices (10,000) is imported into a real `labcm serve`; 1,000 of their SEP files
and a 30 MiB firmware file are copied, byte for byte as labcm serves them, into a folder that
nginx (2 workers, sendfile: the issue's peer) serves. wrk then runs against each in turn:
  rotate  1,000 distinct SEP files round-robin, 2 threads x 50 connections
  single  one SEP file, 2 x 50
  big     the 30 MiB file, one connection (MiB/s)
Prints one table with labcm/nginx ratios. Loopback only; processes started here are stopped
by PID.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_scale import LABCM, Labcm, Nginx, machine, revision  # noqa: E402

BIG = "sip88xx.14-2-1-0001-14.loads.bin"


def wrk(url, threads, conns, seconds, script=None):
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    tr = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    mib = float(tr.group(1)) * {"B": 1 / 1048576, "KB": 1 / 1024, "MB": 1, "GB": 1024}[tr.group(2)]
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", out)
    p99ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = sum(int(x) for x in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(x) for x in m.groups())
    return {"rps": rps, "mib": mib, "p99": p99ms, "errors": errors}


def rotate_script(path, names):
    with open(path, "w") as f:
        f.write("local names = {" + ",".join(f'"/{n}"' for n in names) + "}\n")
        f.write("""local i = 0
local nthreads = 0
function setup(thread) thread:set("id", nthreads); nthreads = nthreads + 1 end
function init(args) i = (id or 0) * 500 end
function request() i = i % #names + 1; return wrk.format("GET", names[i]) end
""")


def versions():
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().replace("nginx version: ", "")
    wrkv = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0].split(" [")[0]
    return f"labcm {revision()}, {nginx}, {wrkv}; {machine()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--devices", type=int, default=10000)
    ap.add_argument("--seconds", type=int, default=15)
    args = ap.parse_args()
    if not os.path.exists(LABCM):
        sys.exit(f"{LABCM} missing: build first")
    work = tempfile.mkdtemp(prefix="labcm-bench-http-")
    os.chmod(work, 0o755)  # nginx's workers read the peer's files
    procs = []
    try:
        lab = Labcm(work)
        lab.import_lab([f"00BB{i:08X},8845,bench desk {i},,tcp,{100000 + i}" for i in range(args.devices)])
        files = os.path.join(lab.data, "files")
        os.makedirs(files, exist_ok=True)
        with open(os.path.join(files, BIG), "wb") as f:
            f.write(os.urandom(30 * 1048576))
        lab.start(open(os.path.join(work, "serve.log"), "w"))
        procs.append(lab)
        base = f"http://127.0.0.1:{lab.ports['http']}"
        www = os.path.join(work, "www")
        os.makedirs(www)
        names = [f"SEP00BB{i:08X}.cnf.xml" for i in range(0, args.devices, max(1, args.devices // 1000))][:1000]
        for n in names:  # the peer serves exactly labcm's bytes
            with urllib.request.urlopen(f"{base}/{n}", timeout=30) as r, open(os.path.join(www, n), "wb") as f:
                f.write(r.read())
        shutil.copy(os.path.join(files, BIG), os.path.join(www, BIG))
        os.chmod(www, 0o755)
        for n in os.listdir(www):
            os.chmod(os.path.join(www, n), 0o644)
        nginx = Nginx(work, www, workers=2)
        procs.append(nginx)
        script = os.path.join(work, "rotate.lua")
        rotate_script(script, names)
        peer = f"http://127.0.0.1:{nginx.port}"
        loads = [("rotate: 1,000 distinct SEP files", 2, 50, script, ""), ("single: one SEP file", 2, 50, None, "/" + names[0]),
                 ("big: 30 MiB, one stream (MiB/s)", 1, 1, None, "/" + BIG)]
        print(f"# http.sh {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.devices} devices, wrk {args.seconds} s each")
        print(f"# {versions()}; load average before: {open('/proc/loadavg').read().split()[0]}")
        print("| work | labcm | nginx | labcm/nginx | labcm p99 ms | nginx p99 ms | errors labcm/nginx |")
        print("|---|---|---|---|---|---|---|")
        ok = True
        for title, t, c, scr, path in loads:
            a = wrk(base + (path or "/"), t, c, args.seconds, scr)
            b = wrk(peer + (path or "/"), t, c, args.seconds, scr)
            key = "mib" if "MiB" in title else "rps"
            ratio = a[key] / b[key] if b[key] else float("nan")
            unit = "MiB/s" if key == "mib" else "req/s"
            print(f"| {title} | {a[key]:,.0f} {unit} | {b[key]:,.0f} {unit} | {ratio:.2f}x | {a['p99']:.1f} | {b['p99']:.1f} | "
                  f"{a['errors']}/{b['errors']} |", flush=True)
            ok = ok and a["errors"] == 0
        return 0 if ok else 1
    finally:
        for p in reversed(procs):
            p.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
