#!/usr/bin/env bash
# One idempotent host setup for whiskrun on Debian 12, as root:
# Docker engine (started by hand: no systemd here), CRIU >= 4.2, the
# debootstrap base image, the runtime images and the Python environment.
# A second run checks each step and skips what is done, in a few seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${WHISKRUN_VENV:-$ROOT/.venv}
BASE_IMAGE=whiskrun/base:bookworm
DOCKERD_LOG=/var/log/whiskrun-dockerd.log
STEPS=6
step=0

say() { printf '\033[1m==> [%s/%s] %s\033[0m\n' "$step" "$STEPS" "$*"; }
next() { step=$((step + 1)); say "$@"; }
fail() { printf 'setup failed: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "whiskrun's setup installs Docker and CRIU and must run as root; run it again as root (for example with sudo)."

apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "    installing ${missing[*]} from Debian ..."
    apt-get update -q >/tmp/whiskrun-apt.log 2>&1 \
        || fail "apt-get update could not reach Debian's package registry (see /tmp/whiskrun-apt.log); check the network or the apt proxy, then run the setup again."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/whiskrun-apt.log 2>&1 \
        || fail "apt-get could not install ${missing[*]} (see /tmp/whiskrun-apt.log); fix what it reports, then run the setup again."
}

next "Debian packages: docker.io, debootstrap"
apt_install docker.io debootstrap ca-certificates iptables

next "Docker engine (experimental mode, for checkpoint/restore)"
if docker info >/dev/null 2>&1; then
    [ "$(docker info -f '{{.ExperimentalBuild}}' 2>/dev/null)" = true ] \
        || echo "    warning: dockerd runs without --experimental; checkpoint/restore will be off. Restart it with --experimental to enable it."
    echo "    already running"
else
    echo "    starting dockerd --experimental (log: $DOCKERD_LOG)"
    # runc finds criu on PATH: the private CRIU 4.2 wrapper must come first.
    PATH=/usr/local/sbin:/usr/local/bin:$PATH setsid nohup dockerd --experimental \
        >"$DOCKERD_LOG" 2>&1 </dev/null &
    for _ in $(seq 100); do
        docker info >/dev/null 2>&1 && break
        sleep 0.3
    done
    docker info >/dev/null 2>&1 \
        || fail "dockerd did not start within 30 seconds; read $DOCKERD_LOG for the reason, fix it, then run the setup again."
fi

next "CRIU 4.2 or newer (checkpoint/restore)"
bash "$ROOT/scripts/install-criu.sh"

next "Base image $BASE_IMAGE (debootstrap, no registry needed)"
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    echo "    already built"
else
    rootfs=$(mktemp -d /tmp/whiskrun-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    echo "    debootstrap --variant=minbase bookworm (about 30 s) ..."
    # One line per stage (retrieving, extracting, configuring, ...), not per package.
    debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian 2>&1 \
        | awk '/^I: / { stage = $2; if (stage != last) { print "      " stage " ..."; fflush(); last = stage } }
               /^E: / { print "      " $0; fflush() }' || true
    [ -x "$rootfs/bin/sh" ] \
        || fail "debootstrap could not build the base system (no network to Debian's registry?); check the network, then run the setup again."
    tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
fi

next "Runtime images"
bash "$ROOT/scripts/build-images.sh" || fail "building the runtime images failed; the lines above say which image and why."

next "Python environment $VENV"
stamp="$VENV/.whiskrun-setup"
wanted=$(sha256sum "$ROOT/setup.cfg" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    echo "    up to date"
else
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" \
        || fail "python3 could not make a virtual environment in $VENV; install python3-venv, then run the setup again."
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1 || true
    "$VENV/bin/pip" install -q -e "$ROOT[test]" \
        || fail "pip could not install whiskrun's Python packages from PyPI; check the network, then run the setup again."
    echo "$wanted" >"$stamp"
fi
echo "whiskrun setup: done."
