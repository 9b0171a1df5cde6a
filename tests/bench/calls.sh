#!/usr/bin/env bash
# Calls through labcm against Kamailio as a stateful proxy (issue 21). Not part of CI; run by
# hand on an otherwise idle machine:
#   bash tests/bench/calls.sh [--phones N] [--rate R]... [--overload-rate R] [--seconds S] [--hold-ms MS]
# LABCM_BUILD=<dir> measures <dir>/labcm instead of build/release/labcm (e.g. a copy).
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
if [ -z "${LABCM_BUILD:-}" ]; then
  [ -x "$ROOT/build/release/labcm" ] || (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)")
fi
exec /usr/bin/python3 "$HERE/calls_bench.py" "$@"
