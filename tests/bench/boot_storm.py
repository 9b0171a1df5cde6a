#!/usr/bin/python3
"""Boot storm (issue 16): N phones of mixed models boot at once against a real `labcm serve`.

A lab of N devices (8845, 7821, 7975 over TCP; 7970 over UDP, as the models' firmware does)
is imported; labcm-phone boots them from 127.1.0.1 up: TFTP/HTTP (CTL, ITL, SEP file,
.loads, dial rules, softkeys) then REGISTER, at --rate phones per second (and, with
--rate 0, all at once). No peer can do this; the goals are the issue's (0 failures; p99
boot-to-registered <= 1 s at 1,000/s; all registered <= 30 s when started at once).
Prints one row per rate with the server's and the simulator's CPU seconds apart.
Loopback only; processes started here are stopped by PID.
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_scale import PHONE, Labcm  # noqa: E402
from http_bench import versions  # noqa: E402

MODELS = ["8845", "7821", "7975", "7970"]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phones", type=int, default=10000)
    ap.add_argument("--rates", default="1000,0", help="phones started per second; 0 = all at once")
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="labcm-bench-storm-")
    lab = None
    ok = True
    try:
        lab = Labcm(work)
        lab.run("setting", "set", "register_expires", "3600")
        rows = []
        for i in range(args.phones):
            model = MODELS[i % len(MODELS)]
            rows.append(f"00DD{i:08X},{model},storm {i},,{'udp' if model == '7970' else 'tcp'},{100000 + i}")
        lab.import_lab(rows)
        lab.start(open(os.path.join(work, "serve.log"), "w"))
        print(f"# boot-storm.sh {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.phones} phones "
              f"({', '.join(MODELS)}; 7970 over UDP), --no-images")
        print(f"# {versions()}")
        print("| start rate | registered | failed | all done s | boot-to-registered p50 ms | p99 ms | max ms "
              "| labcm CPU s | simulator CPU s | failures |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for rate in [float(r) for r in args.rates.split(",")]:
            cmd = [PHONE, "--tftp", "127.0.0.1", "--tftp-port", str(lab.ports["tftp"]), "--http-port",
                   str(lab.ports["http"]), "--sip-port", "0", "--ip-base", "127.1.0.1", "--mac", "00DD00000000",
                   "--count", str(args.phones), "--model", *MODELS, "--no-images", "--hold", "0", "--json", "-q",
                   "--timeout", str(args.timeout)]
            cmd += ["--rate", str(rate if rate > 0 else 100000)]  # 0: as fast as the simulator starts them
            before = cpu_seconds(lab.proc.pid)
            usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout + 60)
            usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            server = cpu_seconds(lab.proc.pid) - before
            sim = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
            line = next((l for l in out.stdout.splitlines() if l.startswith("{")), None)
            if not line:
                print(f"| {rate:g}/s | labcm-phone gave no report: {out.stderr[-300:]} |")
                ok = False
                continue
            r = json.loads(line)
            b = r["boot_to_registered_ms"]
            fails = ", ".join(f"{k}: {v}" for k, v in list(r["failures"].items())[:3]) or "-"
            label = "all at once" if rate == 0 else f"{rate:,.0f}/s"
            print(f"| {label} | {r['registered']} | {r['failed']} | {r['seconds']:.1f} | {b['p50']:.0f} | {b['p99']:.0f} | "
                  f"{b['max']:.0f} | {server:.1f} | {sim:.1f} | {fails} |", flush=True)
            ok = ok and r["failed"] == 0
        return 0 if ok else 1
    finally:
        if lab:
            lab.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
