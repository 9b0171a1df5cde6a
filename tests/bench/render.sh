#!/usr/bin/env bash
# Render cost against the lab's size (issue 16): p50/p99 per file at 1k, 10k and 50k devices.
# No peer renders Cisco files; the goal is a SEP file in <= 1 ms p99 at 50,000 devices.
# Not part of CI; run by hand on an otherwise idle machine:
#
#   bash tests/bench/render.sh [N ...]        (default 1000 10000 50000)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
bash "$ROOT/scripts/install-deps.sh" >/dev/null
[ -f "$ROOT/build/release/CMakeCache.txt" ] || (cd "$ROOT" && cmake --preset release >/dev/null)
cmake --build "$ROOT/build/release" --target labcm_render_bench -j"$(nproc)" >/dev/null
SIZES=${*:-1000 10000 50000}
echo "# render.sh $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname): $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
echo "# labcm $(git -C "$ROOT" describe --always --dirty 2>/dev/null), sqlite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1), release build; times in microseconds"
echo "# devices   warm all  files  miss p50  miss p99  chg p50  chg p99   hit p50  hit p99  static p50 p99"
for n in $SIZES; do "$ROOT/build/release/tests/labcm_render_bench" --devices "$n"; done
