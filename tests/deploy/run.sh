#!/usr/bin/env bash
# The container test (issue 9): builds deploy/Dockerfile with podman, runs the image with
# host networking on free loopback ports, then fetches a rendered SEP file over HTTP and
# TFTP, registers one sipp phone, reads its state from the admin API, checks the health
# check, and stops the container (SIGTERM: clean within 10 s). It also brings the compose
# file up through podman's Docker-compatible socket when docker-compose is installed.
#
#   sudo bash tests/deploy/run.sh          (root: rootful podman; ~5 min cold, ~1 min warm)
#
# Not in CI: a cold run installs podman, makes the debian:bookworm-slim base image locally
# with debootstrap (nothing is pulled from a registry) and builds the image.
# Machine notes this script handles (a VM without CAP_SYS_RESOURCE and with a hybrid cgroup
# layout): podman's default rlimits cannot be set there, so containers.conf sets them to the
# host's; crun refuses hybrid cgroups, so the runtime is runc.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${LABCM_DEPLOY_WORK:-/var/tmp/labcm-deploy-test}
IMAGE=localhost/labcm:test
NAME=labcm-deploy-test-$$
BASE=docker.io/library/debian:bookworm-slim
PASSWORD=deploy-test-pw
PKGS=(podman buildah runc conmon catatonit uidmap slirp4netns containernetworking-plugins netavark
      aardvark-dns golang-github-containers-common debootstrap docker-compose sip-tester tftp-hpa curl)

log() { printf '[deploy-test] %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (rootful podman)"
mkdir -p "$WORK"

setup() {
  local missing=() p
  for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$WORK/apt.log" 2>&1 ||
      { tail -20 "$WORK/apt.log"; die "apt-get install"; }
  fi
  local nofile nproc pidmax
  nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
  nproc=$(ulimit -Hu); pidmax=$(cat /proc/sys/kernel/pid_max)
  { [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pidmax" ]; } && nproc=$pidmax
  if ! grep -qs 'labcm-deploy-test' /etc/containers/containers.conf; then
    mkdir -p /etc/containers/registries.conf.d
    [ -f /etc/containers/containers.conf ] && cp /etc/containers/containers.conf "$WORK/containers.conf.before"
    printf '# labcm-deploy-test\n[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n\n[engine]\nruntime = "runc"\n' \
      "$nofile" "$nofile" "$nproc" "$nproc" >/etc/containers/containers.conf
    printf 'unqualified-search-registries = ["docker.io"]\n' >/etc/containers/registries.conf.d/50-labcm.conf
  fi
}

mirror() { # the host's Debian mirror (deb822 or one-line sources)
  local f=/etc/apt/sources.list.d/debian.sources
  if [ -f "$f" ]; then awk '/^URIs:/ {print $2; exit}' "$f"
  else awk '$1=="deb" && $3 !~ /-security/ {print $2; exit}' /etc/apt/sources.list; fi
}

base_image() {
  podman image exists "$BASE" && return 0
  local root="$WORK/rootfs" m; m=$(mirror); [ -n "$m" ] || die "no Debian mirror in the host's apt sources"
  log "making $BASE with debootstrap from $m (about a minute)"
  rm -rf --one-file-system "$root"
  debootstrap --variant=minbase bookworm "$root" "$m" >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log"; die debootstrap; }
  rm -f "$root/etc/apt/sources.list" "$root/etc/resolv.conf" "$root/etc/hostname"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$m" >"$root/etc/apt/sources.list.d/debian.sources"
  printf 'exit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/{doc,man,locale}/*
  tar --numeric-owner -C "$root" -cf "$WORK/rootfs.tar" .
  rm -rf --one-file-system "$root"
  podman import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["bash"]' \
    --quiet "$WORK/rootfs.tar" "$BASE" >/dev/null
}

free_port() { # $1 = tcp|udp: a port nothing listens on at 127.0.0.1
  /usr/bin/python3 -c "import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=='udp' else socket.SOCK_STREAM); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" "$1"
}

cleanup() {
  podman rm -f "$NAME" >/dev/null 2>&1 || true
  podman volume rm -f "$NAME" >/dev/null 2>&1 || true
  [ -n "${SIPP_PID:-}" ] && kill "$SIPP_PID" 2>/dev/null || true
  [ -n "${SVC_PID:-}" ] && kill "$SVC_PID" 2>/dev/null || true
}
trap cleanup EXIT

setup
base_image
t0=$SECONDS
log "building $IMAGE from deploy/Dockerfile"
podman build --pull=never --network host -f "$ROOT/deploy/Dockerfile" -t "$IMAGE" "$ROOT" >"$WORK/build.log" 2>&1 ||
  { tail -30 "$WORK/build.log"; die "podman build"; }
log "built in $((SECONDS - t0)) s; image $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

HTTP=$(free_port tcp); SIP=$(free_port tcp); ADMIN=$(free_port tcp); TFTP=$(free_port udp)
log "running $NAME: HTTP $HTTP, TFTP $TFTP, SIP $SIP, admin $ADMIN on 127.0.0.1 (host network)"
podman run -d --name "$NAME" --network host --cap-drop ALL --cap-add NET_BIND_SERVICE -v "$NAME:/var/lib/labcm" \
  -e LABCM_ADMIN_PASSWORD=$PASSWORD -e LABCM_DEMO=1 \
  -e LABCM_SETTING_bind_address=127.0.0.1 -e LABCM_SETTING_admin_bind=127.0.0.1 -e LABCM_SETTING_admin_port="$ADMIN" \
  -e LABCM_SETTING_http_port="$HTTP" -e LABCM_SETTING_tftp_port="$TFTP" -e LABCM_SETTING_sip_port="$SIP" \
  "$IMAGE" >/dev/null
for _ in $(seq 100); do podman exec "$NAME" labcm health >/dev/null 2>&1 && break; sleep 0.1; done
podman exec "$NAME" labcm health >/dev/null || { podman logs "$NAME"; die "not healthy"; }
podman exec "$NAME" id | grep -q 'uid=10001(labcm)' || die "the container does not run as user labcm"
log "healthy; runs as $(podman exec "$NAME" id -un)"

# The demo 8845's config over HTTP and TFTP, the same bytes.
curl -sf "http://127.0.0.1:$HTTP/SEP001122AABB01.cnf.xml" -o "$WORK/http.xml" || die "HTTP fetch"
grep -q '<processNodeName>127.0.0.1</processNodeName>' "$WORK/http.xml" || die "the SEP file does not name the registrar"
( cd "$WORK" && rm -f tftp.xml && tftp 127.0.0.1 "$TFTP" -m octet -c get SEP001122AABB01.cnf.xml tftp.xml ) || die "TFTP fetch"
cmp -s "$WORK/http.xml" "$WORK/tftp.xml" || die "HTTP and TFTP served different files"
log "SEP001122AABB01.cnf.xml over HTTP and TFTP: $(wc -c <"$WORK/http.xml") bytes, identical"

# One sipp phone registers (the integration tests' scenario), as SEP001122AABB01.
sipp "127.0.0.1:$SIP" -sf "$ROOT/tests/integration/sipp/register_only.xml" -m 1 -t t1 -i 127.0.0.1 -p "$(free_port tcp)" \
  -key mac 001122AABB01 -timeout 30s -timeout_error >"$WORK/sipp.log" 2>&1 || { tail -20 "$WORK/sipp.log"; die "sipp"; }
cookie=$(curl -sf -c - -H 'Content-Type: application/json' -d "{\"password\":\"$PASSWORD\"}" "http://127.0.0.1:$ADMIN/api/login" |
  awk '$6=="labcm_session" {print "labcm_session=" $7}')
[ -n "$cookie" ] || die "admin login"
state=$(curl -sf -H "Cookie: $cookie" "http://127.0.0.1:$ADMIN/api/devices/SEP001122AABB01" |
  /usr/bin/python3 -c "import json,sys; r=json.load(sys.stdin)['result']['registration']; print(r['state'], r['active_load'])")
[[ "$state" == "registered sip8845_65."* ]] || die "the admin API shows '$state'"
log "admin API: SEP001122AABB01 $state"

# SIGTERM: clean within 10 s.
t=$SECONDS
podman stop -t 15 "$NAME" >/dev/null
[ $((SECONDS - t)) -le 10 ] || die "stopping took $((SECONDS - t)) s"
podman logs "$NAME" 2>&1 | grep -q 'labcm stopped cleanly' || { podman logs "$NAME" | tail; die "no clean stop"; }
[ "$(podman inspect --format '{{.State.ExitCode}}' "$NAME")" = 0 ] || die "exit code"
log "stopped cleanly in $((SECONDS - t)) s"

# The data volume outlives the container: a backup from a new container of the same image.
podman run --rm -v "$NAME:/var/lib/labcm" "$IMAGE" backup /var/lib/labcm/backup.db | grep -q '3 devices' || die "backup in the volume"

# docker compose through podman's socket: `up` builds (from the layer cache) and starts the
# service as the compose file says, on free ports (an override file), then `down -v`.
if command -v docker-compose >/dev/null; then
  sock=$WORK/podman.sock
  rm -f "$sock"
  podman system service --time 0 "unix://$sock" >"$WORK/podman-service.log" 2>&1 & SVC_PID=$!
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || { cat "$WORK/podman-service.log"; die "podman's API socket did not appear"; }
  export DOCKER_HOST=unix://$sock COMPOSE_PROJECT_NAME=labcmtest$$ LABCM_ADMIN_PASSWORD=$PASSWORD
  HTTP=$(free_port tcp); ADMIN=$(free_port tcp); SIP=$(free_port tcp); TFTP=$(free_port udp)
  printf 'services:\n  labcm:\n    environment:\n' >"$WORK/compose.override.yml"
  for kv in bind_address=127.0.0.1 admin_bind=127.0.0.1 admin_port=$ADMIN http_port=$HTTP tftp_port=$TFTP sip_port=$SIP; do
    printf '      LABCM_SETTING_%s: "%s"\n' "${kv%%=*}" "${kv#*=}" >>"$WORK/compose.override.yml"
  done
  compose() { docker-compose -f "$ROOT/deploy/docker-compose.yml" -f "$WORK/compose.override.yml" "$@"; }
  compose config -q || die "compose config"
  compose up -d --build >"$WORK/compose.log" 2>&1 || { tail -20 "$WORK/compose.log"; die "compose up"; }
  cid=$(compose ps -q labcm)
  for _ in $(seq 100); do podman exec "$cid" labcm health >/dev/null 2>&1 && break; sleep 0.1; done
  if ! curl -sf "http://127.0.0.1:$HTTP/SEP001122AABB02.cnf.xml" | grep -q '<processNodeName>'; then
    compose logs --no-color | tail
    compose down -v >/dev/null 2>&1
    die "compose: no SEP file"
  fi
  compose down -v >>"$WORK/compose.log" 2>&1 || die "compose down"
  log "docker compose up: healthy, serving SEP001122AABB02.cnf.xml from the demo volume; down -v"
fi
log "PASSED in $((SECONDS - t0)) s"
