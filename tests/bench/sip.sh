#!/usr/bin/env bash
# SIP registrar against Kamailio (issue 17). Not part of CI; run by hand on an otherwise idle
# machine:   bash tests/bench/sip.sh [--phones N] [--udp-rate R]... [--tcp-rate R]...
# Installs its peers (kamailio, sipp) with apt when missing; needs a release build.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
bash "$ROOT/scripts/install-deps.sh" >/dev/null
if ! command -v kamailio >/dev/null || ! command -v sipp >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kamailio sip-tester >/dev/null
  $SUDO systemctl disable --now kamailio 2>/dev/null || true # the package may start a system kamailio; the benchmark runs its own
fi
[ -x "$ROOT/build/release/labcm" ] || (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)")
exec /usr/bin/python3 "$HERE/sip_bench.py" "$@"
