#!/usr/bin/env bash
# Installs everything labcm needs to build, run and test on Debian 12, from Debian's
# packages only. Idempotent: when every package is already installed it does nothing.
set -euo pipefail

PACKAGES=(
  # build
  cmake g++ make pkg-config
  # libraries (see README "Stack")
  libsofia-sip-ua-dev libboost1.81-dev libboost-json1.81-dev libsqlite3-dev
  libpugixml-dev libspdlog-dev libfmt-dev libcli11-dev doctest-dev libsodium-dev libzstd-dev libsystemd-dev libarchive-dev libpcap-dev
  # fuzz targets only: clang + libFuzzer
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
  # test clients and tools
  python3 sqlite3 libxml2-utils curl tftp-hpa atftp iproute2 procps sip-tester tshark
  # the admin page's browser test: real headless Chromium driven through WebDriver
  chromium chromium-driver python3-selenium
  # real DHCP clients for the DHCP server's namespace tests, and a third-party DHCP server
  # for labcm-phone's DHCP step (binaries only, no service)
  isc-dhcp-client busybox dnsmasq-base
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
