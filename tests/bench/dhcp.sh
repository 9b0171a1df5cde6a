#!/usr/bin/env bash
# DHCP server against Kea (issue 18). Not part of CI; run by hand, as root, on an otherwise idle
# machine:   bash tests/bench/dhcp.sh [--rate R]... [--held N] [--before DIR]
# Installs its peer (kea-dhcp4-server, and kea-admin for perfdhcp) with apt when missing; needs a
# release build. Makes two network namespaces of its own and removes them at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
bash "$ROOT/scripts/install-deps.sh" >/dev/null
if ! command -v kea-dhcp4 >/dev/null || ! command -v perfdhcp >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kea-dhcp4-server kea-admin >/dev/null
  $SUDO systemctl disable --now kea-dhcp4-server 2>/dev/null || true # the benchmark runs its own, in a namespace
fi
[ -x "$ROOT/build/release/labcm" ] || (cd "$ROOT" && cmake --preset release >/dev/null && cmake --build --preset release -j"$(nproc)")
exec /usr/bin/python3 "$HERE/dhcp_bench.py" "$@"
