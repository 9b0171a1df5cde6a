#!/usr/bin/env bash
# The admin page at scale (issue 7): 10,000 devices, the list API and the page against nginx
# serving the same bytes, and the live stream under 1,000 registration changes per second.
# Not part of CI (minutes of load); run by hand on an otherwise idle machine:
#
#   bash tests/bench/admin-scale.sh [--devices N] [--seconds S] [--keepalive K]
#
# Installs its peer (nginx-light) with apt when missing; needs a release build.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
bash "$ROOT/scripts/install-deps.sh" >/dev/null
if ! command -v nginx >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
  # the package starts a system nginx on port 80: stop it, the benchmark runs its own
  $SUDO systemctl stop nginx 2>/dev/null || true
fi
[ -x "$ROOT/build/release/labcm" ] || (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)")
exec /usr/bin/python3 "$HERE/admin_scale.py" "$@"
