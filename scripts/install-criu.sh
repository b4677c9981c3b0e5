#!/usr/bin/env bash
# Build and install CRIU >= 4.2 for whiskrun on Debian 12 (bookworm), as root.
#
# Why from source: bookworm's criu 3.17 fails on this kernel (vDSO bounds),
# trixie's 4.1.1 cannot dump TCP sockets on 6.16+, and sid's 4.2 binary needs
# sid's glibc. Built here against bookworm's libraries, it also gets
# RUNDIR=/dev/shm/criu: CRIU keeps its kernel-feature cache (criu.kdat) only
# on a tmpfs under its build-time RUNDIR, and /run is not a tmpfs on these
# machines, so a stock build re-probes the kernel (~25 ms, iptables children,
# throw-away netns) on every restore. /dev/shm is emptied by every reboot, so
# the cache cannot outlive the boot it describes, and a rebuild changes the
# cache's magic, so a new binary never trusts an old file.
#
# whiskrun's own patches (scripts/criu-patches/*.patch, applied in order) are
# part of the build: 0001 adds --mmap-page-image, with which clones of one
# snapshot share its memory copy-on-write (docs/snapshots.md). The stamp
# records their checksum, so a changed patch rebuilds CRIU.
#
# The source comes from Debian sid's source package through a private apt
# configuration (nothing from sid is installed or registered with dpkg); apt
# checks the tarball against the signed index. Idempotent: a second run only
# checks the stamp and `criu check`, and exits.
set -euo pipefail

BASE=/opt/whiskrun/criu
APTDIR=$BASE/apt                         # private apt state for sid's sources
BUILD=$BASE/build
INSTALLED=$BASE/bin/criu
STAMP=$BASE/BUILD
LINK=/usr/local/sbin/criu                # before /usr/sbin on root's PATH; runc uses PATH
RUNDIR=/dev/shm/criu                     # where CRIU keeps criu.kdat (must be a tmpfs)
MIRROR=${CRIU_SID_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
BUILD_DEPS=(build-essential patch pkg-config libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev
            protobuf-compiler python3-protobuf libnl-3-dev libnet1-dev libcap-dev libaio-dev
            libgnutls28-dev libbsd-dev uuid-dev libnftables-dev)
# Tools CRIU execs at dump/restore time (ip for network namespaces,
# iptables-restore for network locks, tar for tmpfs contents).
RUNTIME_TOOLS=(debian-archive-keyring iproute2 iptables tar xz-utils)
PATCHES=$(cd "$(dirname "$0")" && pwd)/criu-patches
patch_sum=$(cat "$PATCHES"/*.patch 2>/dev/null | sha256sum | cut -c1-16)
WANTED="criu-build rundir=$RUNDIR patches=$patch_sum v2"

say() { echo "criu: $*"; }
die() { echo "install-criu: $*" >&2; exit 1; }

criu_ok() {  # $1 = binary: version >= 4.2, whiskrun's options, and `criu check` says Looks good
  local v
  v=$("$1" --version 2>/dev/null | sed -n 's/^Version: *//p') || return 1
  dpkg --compare-versions "${v:-0}" ge 4.2 || return 1
  "$1" --help 2>&1 | grep -e '--mmap-page-image' >/dev/null || return 1
  "$1" check 2>/dev/null | grep 'Looks good' >/dev/null  # no grep -q: SIGPIPE + pipefail
}

mkdir -p -m 700 "$RUNDIR"
if [ -f "$STAMP" ] && [ "$(head -n1 "$STAMP")" = "$WANTED" ] && [ -x "$INSTALLED" ] &&
   [ "$(readlink "$LINK" 2>/dev/null)" = "$INSTALLED" ] && criu_ok "$INSTALLED"; then
  say "$("$INSTALLED" --version | sed -n 's/^Version: *//p') (built here, kdat cache in $RUNDIR) already works, nothing to do."
  exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root (try: sudo $0)."
[ "$(dpkg --print-architecture)" = amd64 ] || die "only amd64 is supported."

missing=()
for p in "${RUNTIME_TOOLS[@]}" "${BUILD_DEPS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${#missing[@]} packages from bookworm to build CRIU (${missing[*]:0:4} ...) ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/whiskrun-criu-apt.log 2>&1 ||
    { apt-get update -qq >>/tmp/whiskrun-criu-apt.log 2>&1 &&
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >>/tmp/whiskrun-criu-apt.log 2>&1; } ||
    die "apt-get install of CRIU's build dependencies failed (see /tmp/whiskrun-criu-apt.log)."
fi

# A private apt configuration that knows only sid's source index.
mkdir -p "$APTDIR"/etc/apt/{apt.conf.d,preferences.d,sources.list.d,trusted.gpg.d} \
  "$APTDIR"/state/lists/partial "$APTDIR"/cache/archives/partial
echo "deb-src [signed-by=$KEYRING] $MIRROR sid main" > "$APTDIR/etc/apt/sources.list"
: > "$APTDIR/status"
proxy=$(apt-config dump Acquire::http::Proxy 2>/dev/null | sed -n 's/^Acquire::http::Proxy "\(.*\)";$/\1/p')
cat > "$APTDIR/apt.conf" <<EOF
Dir::Etc "$APTDIR/etc/apt"; Dir::State "$APTDIR/state"; Dir::Cache "$APTDIR/cache";
Dir::State::status "$APTDIR/status";
APT::Architecture "amd64"; APT::Architectures { "amd64"; }; APT::Sandbox::User "root";
Acquire::Languages "none";
// The registry this machine reaches is a dated snapshot: sid's Release is
// "expired" there. The signature is still checked against the keyring.
Acquire::Check-Valid-Until "false"; Acquire::Check-Date "false";
${proxy:+Acquire::http::Proxy "$proxy";}
EOF
export APT_CONFIG=$APTDIR/apt.conf
say "fetching Debian sid's source index from $MIRROR ..."
if ! apt-get update -q >"$BASE/apt-update.log" 2>&1 || grep -q '^[WE]:' "$BASE/apt-update.log"; then
  die "could not fetch sid's source index ($(grep -m1 '^[WE]:' "$BASE/apt-update.log" || echo 'see log')); check access to the Debian registry or set CRIU_SID_MIRROR; log: $BASE/apt-update.log."
fi
version=$(apt-cache showsrc criu 2>/dev/null | sed -n 's/^Version: *//p' | sort -V | tail -n1)
upstream=${version%-*}; upstream=${upstream#*:}
dpkg --compare-versions "${upstream:-0}" ge 4.2 || die "sid's criu source is '${version:-none}', not >= 4.2."

rm -rf "$BUILD" && mkdir -p "$BUILD"
say "downloading criu $version's source ..."
# Only the upstream tarball is needed; apt checks it against the signed index
# (the Debian patch tarball may be missing from a dated mirror: not needed).
(cd "$BUILD" && apt-get source --download-only -q "criu=$version" >"$BASE/apt-source.log" 2>&1) || true
tarball=$BUILD/criu_${upstream}.orig.tar.xz
dsc=$(ls "$BUILD"/criu_*.dsc 2>/dev/null | head -n1)
[ -f "$tarball" ] && [ -n "$dsc" ] || die "could not download criu_${upstream}.orig.tar.xz (log: $BASE/apt-source.log)."
want_sha=$(awk '/^Checksums-Sha256:/ {on=1; next} on && /^ / {print $1, $3} on && !/^ / {on=0}' "$dsc" |
           awk -v f="criu_${upstream}.orig.tar.xz" '$2 == f {print $1}')
[ "$(sha256sum "$tarball" | cut -d' ' -f1)" = "$want_sha" ] || die "criu's tarball does not match the checksum in its .dsc."

say "building criu $upstream with RUNDIR=$RUNDIR (about 30 s) ..."
tar -C "$BUILD" -xf "$tarball"
src=$BUILD/criu-$upstream
for p in "$PATCHES"/*.patch; do
  [ -f "$p" ] || continue
  patch -d "$src" -p1 --forward --quiet < "$p" >"$BASE/patch.log" 2>&1 ||
    die "whiskrun's CRIU patch $(basename "$p") does not apply to criu $upstream: $(head -n 3 "$BASE/patch.log" | tr '\n' ' ')"
done
make -C "$src" -j"$(nproc)" criu RUNDIR="$RUNDIR" >"$BASE/build.log" 2>&1 ||
  die "building CRIU failed; the end of $BASE/build.log says why: $(tail -n 3 "$BASE/build.log" | tr '\n' ' ')"
criu_ok "$src/criu/criu" || die "the CRIU just built does not pass 'criu check' (run $src/criu/criu check to see why)."

mkdir -p "$BASE/bin"
install -m 755 "$src/criu/criu" "$INSTALLED.new" && mv "$INSTALLED.new" "$INSTALLED"
mkdir -p "$(dirname "$LINK")" && ln -sfn "$INSTALLED" "$LINK"
printf '%s\ncriu %s from Debian source %s, built %s\n' "$WANTED" "$upstream" "$version" "$(date -u +%FT%TZ)" > "$STAMP"
rm -rf "$BUILD" "$APTDIR/state/lists" "$APTDIR/cache" "$BASE/root" "$BASE/debs"  # sources and the old sid prefix
criu_ok "$LINK" || die "criu check through $LINK failed."
[ "$(command -v criu)" = "$LINK" ] ||
  echo "install-criu: warning: 'criu' on this PATH is $(command -v criu || echo nothing), not $LINK; put /usr/local/sbin before /usr/sbin for runc/dockerd." >&2
say "installed criu $upstream at $INSTALLED ($LINK), kdat cache in $RUNDIR: Looks good."
