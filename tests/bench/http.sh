#!/usr/bin/env bash
# HTTP 6970 against nginx serving the same bytes (issue 16). Not part of CI; run by hand on an
# otherwise idle machine:   bash tests/bench/http.sh [--devices N] [--seconds S]
# Installs its peers (nginx-light, wrk) with apt when missing; needs a release build.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
bash "$ROOT/scripts/install-deps.sh" >/dev/null
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y -qq --no-install-recommends nginx-light wrk >/dev/null
  $SUDO systemctl stop nginx 2>/dev/null || true # the package starts a system nginx; the benchmark runs its own
fi
[ -x "$ROOT/build/release/labcm" ] || (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)")
exec /usr/bin/python3 "$HERE/http_bench.py" "$@"
