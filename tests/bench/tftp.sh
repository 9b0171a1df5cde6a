#!/usr/bin/env bash
# TFTP against atftpd, tftpd-hpa and dnsmasq (issue 16), all four in one network namespace this
# script creates (each server on its own address, port 69, on a veth pair inside it: local
# delivery, as loopback; tftpd-hpa will not bind a 127/8 address in a namespace with no other). Not part of CI; run by
# hand on an otherwise idle machine, as root:   bash tests/bench/tftp.sh [--runs N]
# atftpd and tftpd-hpa conflict as Debian packages, and each would start a system service on
# port 69: both are fetched with apt-get download and unpacked into $PEERS, never installed.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PEERS=${PEERS:-/var/cache/labcm-bench/peers}
bash "$ROOT/scripts/install-deps.sh" >/dev/null
if [ ! -x "$PEERS/usr/sbin/atftpd" ] || [ ! -x "$PEERS/usr/sbin/in.tftpd" ]; then
  apt-get install -y -qq --no-install-recommends libwrap0 libpcre2-8-0 dnsmasq-base atftp curl >/dev/null
  debs=$(mktemp -d)
  (cd "$debs" && apt-get download -qq atftpd tftpd-hpa 2>/dev/null)
  mkdir -p "$PEERS"
  for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$PEERS"; done
  mv "$debs"/*.deb "$PEERS/" # kept: the benchmark prints their versions
  rmdir "$debs"
fi
[ -x "$ROOT/build/release/labcm" ] || (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)")
NS=labcm-bench-tftp-$$
ip netns add "$NS"
# The namespace and anything left running in it (only what this run started) go at exit.
trap 'for p in $(ip netns pids "$NS" 2>/dev/null); do kill "$p" 2>/dev/null || true; done; ip netns del "$NS"' EXIT
ip -n "$NS" link set lo up
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
for i in 2 3 4 5; do ip -n "$NS" addr add "10.203.0.$i/24" dev v0; done
ip netns exec "$NS" /usr/bin/python3 "$HERE/tftp_bench.py" --peers "$PEERS" "$@"
