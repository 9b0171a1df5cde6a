#!/usr/bin/env bash
# Boot storm (issue 16): 10,000 simulated phones of mixed models booting against labcm, at
# 1,000 phones/s and all at once. Not part of CI (minutes of load); run by hand on an
# otherwise idle machine:   bash tests/bench/boot-storm.sh [--phones N] [--rates 1000,0]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
bash "$ROOT/scripts/install-deps.sh" >/dev/null
[ -x "$ROOT/build/release/labcm-phone" ] || (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)")
exec /usr/bin/python3 "$HERE/boot_storm.py" "$@"
