#!/usr/bin/python3
"""Calls through labcm against Kamailio as a stateful proxy (issue 21): the same phones, the
same sipp calls, the same run.

N devices with a line each (DN 1000+i, Cisco 8845) are imported into labcm; Kamailio 5.6
(in-memory usrloc, tm, record-routing: peers/kamailio-proxy.cfg) needs none. Each load runs
on a freshly started server, Kamailio first, then labcm, with identical sipp invocations
(only the server's port differs):
  1. the N phones register (peers/register-cisco.xml over UDP, closed loop): the first half,
     the callers, from the caller sipp's port; the second half, the callees, from the
     answering sipp's port, so that every callee's Contact is that one UAS;
  2. one sipp UAS (peers/call-answer.xml) answers every callee: 180, 200 (SDP), ACK, BYE, 200;
  3. one sipp UAC (peers/call-place.xml) places calls at --rate calls/s (open loop, at most
     --limit in progress): INVITE as the caller's device (its Contact names SEP<MAC>, its
     From its DN, as labcm requires of a registered phone) to a callee's DN (a fixed random
     pairing of callers and callees, calls.csv), 100/180/200, ACK and, after --hold-ms, BYE
     following the Record-Route, through the proxy both ways. A 180 passed after its 200 (a
     proxy with several workers, Kamailio, may reorder them) is ignored, as a phone ignores it.
The last load offers --overload-rate, more than either server (or sipp) carries on a small
machine: what each completes then.
Reported per load: calls/s completed (BYEs answered 200, first to last), failed
calls (with the status codes sipp met), sipp retransmissions (UAC + UAS), call setup latency
INVITE -> 200 p50/p99 (sipp: 1 ms resolution), server CPU per completed call (all its
processes and threads, from the first INVITE to the last BYE), PSS of all its processes
before (phones registered) and after the calls; labcm/Kamailio ratios of calls/s (higher is
better for labcm) and CPU per call (lower is better for labcm). labcm's own counters
(`labcm status`: calls attempted/answered/in progress, UDP datagrams dropped) and, when a call
failed, its refusal events follow the table.

LABCM_BUILD=<dir> measures <dir>/labcm (e.g. a copy, so that a rebuild does not change the
binary under a run). Loopback only; every process started here is stopped by PID. Not part of CI.
"""
import argparse
import collections
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from admin_scale import stop_process, LABCM, free_port, pct  # noqa: E402
from sip_bench import SCENARIO as REGISTER, Kamailio, LabcmSip, mac, settle, sipp, tree_cpu, tree_pss_mb, versions  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
KAM_CFG = os.path.join(HERE, "peers", "kamailio-proxy.cfg")
PLACE = os.path.join(HERE, "peers", "call-place.xml")
ANSWER = os.path.join(HERE, "peers", "call-answer.xml")
SIPP_COMMON = ["-i", "127.0.0.1", "-t", "u1", "-nostdin", "-buff_size", "4194304", "-trace_stat", "-fd", "3600",
               "-trace_err"]


def write_csvs(work, phones):
    """callers.csv and callees.csv (register-cisco.xml: DN;MAC), calls.csv (call-place.xml:
    caller DN;caller MAC;callee DN), every caller paired with one callee, at random but the
    same in every run."""
    half = phones // 2
    callers = list(range(1, half + 1))
    callees = list(range(half + 1, 2 * half + 1))
    paired = callees[:]
    random.Random(21).shuffle(paired)
    paths = {k: os.path.join(work, f"{k}.csv") for k in ("callers", "callees", "calls")}
    for name, rows in (("callers", [f"{1000 + i};{mac(i)}" for i in callers]),
                       ("callees", [f"{1000 + i};{mac(i)}" for i in callees]),
                       ("calls", [f"{1000 + i};{mac(i)};{1000 + j}" for i, j in zip(callers, paired)])):
        with open(paths[name], "w") as f:
            f.write("SEQUENTIAL\n" + "\n".join(rows) + "\n")
    return paths, half


def udp_bound(port):
    """Whether a local UDP socket is bound to `port` (/proc/net/udp)."""
    with open("/proc/net/udp") as f:
        return any(line.split()[1].endswith(f":{port:04X}") for line in f.readlines()[1:])


def stat(path):
    """The last line of a sipp -trace_stat file, by column name."""
    lines = open(path).read().strip().split("\n")
    head, last = lines[0].split(";"), lines[-1].split(";")
    return {name: last[i] for i, name in enumerate(head) if i < len(last)}


def codes(path):
    """What failed calls met, from a sipp -trace_err file: status codes ("403"), or "timeout",
    or "other" (unexpected requests, ...), with their counts."""
    out = collections.Counter()
    if not os.path.exists(path):
        return out
    for line in open(path, errors="replace"):
        if "Aborting call" in line or "unexpected" in line.lower():
            m = re.search(r"received 'SIP/2\.0 (\d{3})", line)
            out[m[1] if m else "other"] += 1
        elif "timeout" in line.lower() or "max retrans" in line.lower():
            out["timeout"] += 1
    return out


def calls(work, port, uac_port, uas_port, csv, count, rate, hold_ms, limit):
    """One call load: the answering sipp, then the calling sipp at `rate` (blocking)."""
    d = tempfile.mkdtemp(prefix="sipp-calls-", dir=work)
    budget = int(4 * count / rate + 60)  # room for a server (or sipp) that carries a quarter of the rate
    used0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    uas = subprocess.Popen(["sipp", "-sf", ANSWER, "-p", str(uas_port), *SIPP_COMMON, "-m", str(count), "-timeout",
                            f"{budget + 30}s", "-stf", "uas-stat.csv", "-error_file", "uas-err.log"],
                           cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):  # at most 10 s
            if udp_bound(uas_port):
                break
            time.sleep(0.05)
        else:
            sys.exit("the answering sipp did not start")
        subprocess.run(["sipp", f"127.0.0.1:{port}", "-sf", PLACE, "-inf", csv, "-p", str(uac_port), *SIPP_COMMON,
                        "-m", str(count), "-r", str(rate), "-rp", "1000", "-l", str(limit), "-d", str(hold_ms),
                        "-timeout", f"{budget}s", "-recv_timeout", "10000", "-stf", "stat.csv", "-error_file", "err.log",
                        "-trace_rtt", "-rtt_freq", "1"], cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=budget + 60)
        try:
            uas.wait(timeout=15)  # it ends by itself once it has answered `count` calls
        except subprocess.TimeoutExpired:
            pass
    finally:
        stop_process(uas, timeout=5)
    used1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    uac, ans = stat(os.path.join(d, "stat.csv")), stat(os.path.join(d, "uas-stat.csv"))
    setup, ended = [], []  # INVITE -> 200 ms; when each BYE's 200 came (ms from sipp's start)
    for name in os.listdir(d):
        if name.endswith("_rtt.csv"):
            for line in open(os.path.join(d, name)).read().split("\n")[1:]:
                parts = line.split(";")
                if len(parts) >= 3 and parts[0]:
                    if parts[2].strip() == "1":
                        setup.append(float(parts[1]))
                    elif parts[2].strip() == "2":
                        ended.append(float(parts[0]))
    ok = int(uac["SuccessfulCall(C)"])
    why = codes(os.path.join(d, "err.log"))
    return {"ok": ok, "failed": int(uac["FailedCall(C)"]), "uas_failed": int(ans["FailedCall(C)"]), "codes": why,
            "retrans": int(uac["Retransmissions(C)"]) + int(ans["Retransmissions(C)"]),
            # completed calls/s: from the first call ended to the last (the call's length drops out)
            "rate": (len(ended) - 1) / ((max(ended) - min(ended)) / 1000) if len(ended) > 1 and max(ended) > min(ended) else 0.0,
            "p50": pct(setup, 50), "p99": pct(setup, 99),
            "mean": sum(setup) / len(setup) if setup else float("nan"),
            "sipp_cpu": (used1.ru_utime + used1.ru_stime) - (used0.ru_utime + used0.ru_stime)}


def register(work, s, port, phones, csv, window):
    """The phones of `csv` register over UDP from `port` (their Contact)."""
    r = sipp(work, s.port, "u1", phones, 0, window, csv, REGISTER, ("-p", str(port)))
    if r["ok"] != phones:
        sys.exit(f"{type(s).__name__}: {r['ok']} of {phones} phones registered ({r['failed']} failed)")


def labcm_counters(s):
    out = s.lab.run("status")
    return {k: int(m[1]) if (m := re.search(rf"(?m)^{k}\s+(\d+)", out)) else -1
            for k in ("sip_calls_attempted", "sip_calls_answered", "sip_calls_active", "sip_udp_dropped")}


def labcm_refusals(s):
    """labcm's own word on the calls it did not carry: its call events other than the
    ordinary ones (ringing, answered, ended), by kind, from its recent events."""
    out = s.lab.run("events", "--limit", "10000")
    seen = collections.Counter()
    for line in out.split("\n"):
        if "call_attempt" not in line:
            continue
        if re.search(r": ringing [^:]*$|answered 2\d\d by|answered a call|ended after", line):
            continue
        text = line.split("call_attempt", 1)[1].split(None, 1)[-1]  # after the device column
        kind = re.sub(r"\b(SEP)?[0-9A-F]{12}\b|\b\d{4,}\b|\d+\.\d+\.\d+\.\d+(:\d+)?", "#", text)
        seen[kind.strip()[:160]] += 1
    return seen


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phones", type=int, default=10000, help="devices registered: half call, half answer")
    ap.add_argument("--rate", type=int, action="append", help="calls/s offered (repeatable)")
    ap.add_argument("--overload-rate", type=int, default=2000, help="calls/s offered beyond capacity (0: none)")
    ap.add_argument("--seconds", type=float, default=20, help="each load offers rate x seconds calls")
    ap.add_argument("--calls", type=int, default=0, help="calls per load instead of rate x seconds")
    ap.add_argument("--hold-ms", type=int, default=100, help="ACK to BYE (sipp -d)")
    ap.add_argument("--limit", type=int, default=10000, help="calls in progress at most (sipp -l)")
    ap.add_argument("--window", type=int, default=200, help="REGISTERs outstanding while the phones register")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (sipp traces, logs) and print it")
    args = ap.parse_args()
    rates = args.rate or [100, 200, 400]
    loads = [(f"offered {r:,} calls/s", r) for r in rates]
    if args.overload_rate:
        loads.append((f"overload: offered {args.overload_rate:,} calls/s", args.overload_rate))
    if not os.path.exists(LABCM):
        sys.exit(f"{LABCM} missing: build first, or LABCM_BUILD=<directory of a labcm binary>")
    work = tempfile.mkdtemp(prefix="labcm-bench-calls-")
    servers = []
    try:
        csvs, half = write_csvs(work, args.phones)
        uac_port, uas_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
        while uas_port == uac_port:
            uas_port = free_port(socket.SOCK_DGRAM)
        kam = Kamailio(work, KAM_CFG)
        lab = LabcmSip(work, 2 * half)
        servers = [kam, lab]
        print(f"# calls.sh {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {2 * half:,} phones registered "
              f"({half:,} calling, {half:,} answering), UDP, calls INVITE..ACK..{args.hold_ms} ms..BYE, "
              f"{'rate x ' + format(args.seconds, 'g') + ' s' if not args.calls else format(args.calls, ',')} calls per load, "
              "a fresh server per load")
        print(f"# {versions()}; binary {LABCM}; load average before: {open('/proc/loadavg').read().split()[0]}")
        print("| load | Kamailio calls/s | labcm calls/s | labcm/Kamailio calls/s (higher: labcm better) | failed K/l "
              "| retransmissions K/l | setup p50/p99 (mean) ms K | setup p50/p99 (mean) ms l | CPU us/call K | CPU us/call l "
              "| labcm/Kamailio CPU (lower: labcm better) | PSS MB before->after K | PSS MB before->after l |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        ok = True
        results, notes = [], []
        for title, rate in loads:
            count = args.calls or max(1, int(rate * args.seconds))
            row = []
            for s in servers:
                s.start()
                settle(s.proc.pid)
                register(work, s, uac_port, half, csvs["callers"], args.window)
                register(work, s, uas_port, half, csvs["callees"], args.window)
                settle(s.proc.pid)
                pss0 = tree_pss_mb(s.proc.pid)
                c0 = tree_cpu(s.proc.pid)
                r = calls(work, s.port, uac_port, uas_port, csvs["calls"], count, rate, args.hold_ms, args.limit)
                r["cpu_us"] = (tree_cpu(s.proc.pid) - c0) / max(1, r["ok"]) * 1e6
                r["pss0"], r["pss1"] = pss0, tree_pss_mb(s.proc.pid)
                r["pss"] = f"{pss0:.0f}->{r['pss1']:.0f}"
                if s is lab:
                    r["counters"] = labcm_counters(s)
                    r["refusals"] = labcm_refusals(s) if r["failed"] or r["uas_failed"] else collections.Counter()
                s.stop()
                row.append(r)
            k, l = row
            results.append((title, rate, count, k, l))

            def failed(r):
                why = ", ".join(f"{c} x{n}" for c, n in r["codes"].most_common())
                return f"{r['failed']}" + (f" ({why})" if why else "")
            ratio = l["rate"] / k["rate"] if k["rate"] else float("nan")
            cpu = l["cpu_us"] / k["cpu_us"] if k["cpu_us"] else float("nan")
            print(f"| {title} ({count:,} calls) | {k['rate']:,.0f} | {l['rate']:,.0f} | {ratio:.2f}x | {failed(k)}/{failed(l)} | "
                  f"{k['retrans']}/{l['retrans']} | {k['p50']:.0f}/{k['p99']:.0f} ({k['mean']:.1f}) | "
                  f"{l['p50']:.0f}/{l['p99']:.0f} ({l['mean']:.1f}) | "
                  f"{k['cpu_us']:.0f} | {l['cpu_us']:.0f} | {cpu:.2f}x | {k['pss']} | {l['pss']} |", flush=True)
            c = l["counters"]
            notes.append(f"- {title}: labcm attempted {c['sip_calls_attempted']:,}, answered {c['sip_calls_answered']:,}, "
                         f"{c['sip_calls_active']:,} still in progress after the last BYE, {c['sip_udp_dropped']:,} UDP "
                         f"datagrams dropped; callee sipp failed K/l {k['uas_failed']}/{l['uas_failed']}; sipp CPU (both) "
                         f"K/l {k['sipp_cpu']:.1f}/{l['sipp_cpu']:.1f} s")
            notes += [f"  - labcm event x{n}: {kind}" for kind, n in l["refusals"].most_common(5)]
            if len(results) <= len(rates):  # the overload load may fail calls
                ok = ok and l["failed"] == 0
        print()
        print("\n".join(notes))
        print("\nGoal (issue 21): calls/s >= 1.0x Kamailio:")
        for title, rate, count, k, l in results:
            both = k["rate"] >= 0.95 * rate and l["rate"] >= 0.95 * rate  # both carried what was offered
            met = l["failed"] <= k["failed"] and (l["rate"] >= k["rate"] or both)
            print(f"- {title}: {l['rate'] / k['rate'] if k['rate'] else float('nan'):.2f}x"
                  f"{' (both carried the offered rate: compare CPU per call)' if both else ''}, labcm failed {l['failed']} "
                  f"against {k['failed']}, CPU per call {l['cpu_us']:.0f} us against {k['cpu_us']:.0f} us: "
                  f"{'met' if met else 'missed'}")
        return 0 if ok else 1
    finally:
        for s in servers:
            s.stop()
        if args.keep:
            print(f"# work directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
