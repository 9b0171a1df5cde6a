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
from admin_scale import PHONE, Labcm, cpu_seconds  # noqa: E402
from http_bench import versions  # noqa: E402

MODELS = ["8845", "7821", "7975", "7970"]


def thread_cpu(pid):
    """CPU seconds by thread name (labcm names its threads: labcm-sip, labcm-http, ...)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            out[name] = out.get(name, 0) + cpu_seconds(f"{pid}/task/{tid}")
        except OSError:  # the thread ended
            pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phones", type=int, default=10000)
    ap.add_argument("--rates", default="1000,0", help="phones started per second; 0 = all at once")
    ap.add_argument("--timeout", type=int, default=300)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="labcm-bench-storm-")
    lab = None
    ok = True
    by_thread = []
    steps = []  # where the time went: each boot step's p50/p99 ms
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
            counters0 = json.loads(lab.run("--json", "status"))["result"]
            threads0 = thread_cpu(lab.proc.pid)
            usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout + 60)
            usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            server = cpu_seconds(lab.proc.pid) - before
            threads = {k: v - threads0.get(k, 0) for k, v in thread_cpu(lab.proc.pid).items()}
            busiest = sorted(threads.items(), key=lambda kv: -kv[1])
            by_thread.append((rate, ", ".join(f"{k} {v:.1f}" for k, v in busiest if v >= 0.05)))
            sim = (usage1.ru_utime + usage1.ru_stime) - (usage0.ru_utime + usage0.ru_stime)
            line = next((l for l in out.stdout.splitlines() if l.startswith("{")), None)
            if not line:
                print(f"| {rate:g}/s | labcm-phone gave no report: {out.stderr[-300:]} |")
                ok = False
                continue
            r = json.loads(line)
            status = json.loads(lab.run("--json", "status"))["result"]
            counters = {k: status.get(k, 0) - counters0.get(k, 0) for k in ("http_busy", "tftp_refused", "tftp_failed")}
            steps.append((rate, "; ".join(f"{k} {v['p50']:.0f}/{v['p99']:.0f}" for k, v in r["steps_ms"].items())
                          + f"; busy retries {r['busy_retries']}; labcm answered busy: "
                          + ", ".join(f"{k} {v}" for k, v in counters.items())))
            b = r["boot_to_registered_ms"]
            fails = ", ".join(f"{k}: {v}" for k, v in list(r["failures"].items())[:3]) or "-"
            label = "all at once" if rate == 0 else f"{rate:,.0f}/s"
            print(f"| {label} | {r['registered']} | {r['failed']} | {r['seconds']:.1f} | {b['p50']:.0f} | {b['p99']:.0f} | "
                  f"{b['max']:.0f} | {server:.1f} | {sim:.1f} | {fails} |", flush=True)
            ok = ok and r["failed"] == 0
        print("\nEach boot step, p50/p99 ms (as labcm-phone measures them):")
        for rate, text in steps:
            print(f"- {'all at once' if rate == 0 else f'{rate:,.0f}/s'}: {text}")
        print("\nlabcm CPU seconds by thread (labcm = the io thread: TFTP, DHCP, renders, admin):")
        for rate, text in by_thread:
            print(f"- {'all at once' if rate == 0 else f'{rate:,.0f}/s'}: {text}")
        return 0 if ok else 1
    finally:
        if lab:
            lab.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
