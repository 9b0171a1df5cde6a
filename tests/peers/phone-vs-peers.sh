#!/bin/bash
# Boots simulated phones (labcm-phone) against a peer stack a lab might use instead of
# labcm -- dnsmasq for TFTP, Kamailio as the SIP registrar, a hand-written SEP file -- and
# against labcm, and prints which boot steps each stack passes. Loopback only; every
# process it starts is stopped by PID. Needs root for apt and TFTP port 69.
# Usage: tests/peers/phone-vs-peers.sh [build-dir]   (default build/release)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${1:-$ROOT/build/release}
PHONE=$BUILD/labcm-phone
LABCM=$BUILD/labcm
RUN=$(mktemp -d /tmp/labcm-peers.XXXXXX)
chmod 755 "$RUN" # dnsmasq drops root and must read its TFTP root
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$RUN"; }
trap cleanup EXIT

missing=""
for p in dnsmasq-base kamailio; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null
fi
if ss -ulnH 'sport = :69' | grep -q .; then echo "UDP port 69 is in use; dnsmasq's TFTP needs it" >&2; exit 2; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
KPORT=$(free_port); HPORT=$(free_port)

# --- the peer stack -----------------------------------------------------------------
mkdir -p "$RUN/tftp"
MAC=0011220B0001
cat > "$RUN/tftp/SEP$MAC.cnf.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<device>
  <deviceProtocol>SIP</deviceProtocol>
  <devicePool><callManagerGroup><members><member priority="0"><callManager>
    <ports><sipPort>$KPORT</sipPort></ports><processNodeName>127.0.0.1</processNodeName>
  </callManager></member></members></callManagerGroup></devicePool>
  <sipProfile>
    <sipLines><line button="1" lineIndex="1"><featureID>9</featureID><name>1001</name>
      <displayName>1001</displayName><proxy>USECALLMANAGER</proxy></line></sipLines>
    <sipStack><timerRegisterExpires>3600</timerRegisterExpires></sipStack>
  </sipProfile>
  <transportLayerProtocol>1</transportLayerProtocol>
</device>
XML
dnsmasq --keep-in-foreground --port=0 --enable-tftp --tftp-root="$RUN/tftp" --listen-address=127.0.0.1 \
  --bind-interfaces --pid-file="$RUN/dnsmasq.pid" --log-facility=- 2> "$RUN/dnsmasq.log" &
PIDS+=($!)
kamailio -f "$HERE/kamailio-registrar.cfg" -l "udp:127.0.0.1:$KPORT" -l "tcp:127.0.0.1:$KPORT" -P "$RUN/kam.pid" \
  -m 64 -M 8 -DD -E > "$RUN/kamailio.log" 2>&1 &
PIDS+=($!)
sleep 1.5

steps() { grep -oE 'step [0-9]+ [^ ]+: [a-z ]+' | sed -E 's/step ([0-9]+) ([^:]+): (ok|not found|error).*/\1 \2 \3/' ; }

echo "== peer: dnsmasq TFTP + Kamailio registrar (8845, HTTP $HPORT closed, so TFTP after HTTP) =="
set +e
"$PHONE" --tftp 127.0.0.1 --tftp-port 69 --http-port "$HPORT" --model 8845 --mac $MAC --timeout 30 > "$RUN/peer.out" 2> "$RUN/peer.err"
echo "exit $?: $(cat "$RUN/peer.out")"
grep -E 'step [0-9]+' "$RUN/peer.err" | sed -E 's/^SEP[0-9A-F]+ \[ *[0-9.]+ ms\] //'
echo "restart: Kamailio has no service-control NOTIFY; the phone cannot be restarted from the server"
set -e
kill "${PIDS[@]}" 2>/dev/null || true; PIDS=()

# --- labcm ----------------------------------------------------------------------------
D=$RUN/labcm
TP=$(free_port); SP=$(free_port)
"$LABCM" --data-dir "$D" setting set bind_address 127.0.0.1 >/dev/null
"$LABCM" --data-dir "$D" setting set http_port "$HPORT" >/dev/null
"$LABCM" --data-dir "$D" setting set tftp_port "$TP" >/dev/null
"$LABCM" --data-dir "$D" setting set sip_port "$SP" >/dev/null
"$LABCM" --data-dir "$D" device add $MAC --model 8845 --line 1001 >/dev/null
"$LABCM" --data-dir "$D" serve > "$RUN/labcm.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$D/control.sock" ] && break; sleep 0.1; done
echo
echo "== labcm (8845) with a restart from labcm =="
"$PHONE" --tftp 127.0.0.1 --tftp-port "$TP" --http-port "$HPORT" --model 8845 --mac $MAC --boots 2 --timeout 30 \
  > "$RUN/labcm.out" 2> "$RUN/labcm.err" &
P=$!
for _ in $(seq 50); do "$LABCM" --data-dir "$D" device show $MAC | grep -q 'registration: registered' && break; sleep 0.1; done
"$LABCM" --data-dir "$D" device restart $MAC
set +e
wait $P; echo "exit $?: $(cat "$RUN/labcm.out")"
set -e
grep -E 'step [0-9]+|service-control|unregistered' "$RUN/labcm.err" | sed -E 's/^SEP[0-9A-F]+ \[ *[0-9.]+ ms\] //'
"$LABCM" --data-dir "$D" device show $MAC | grep -E 'active load|inactive load|last reason'
