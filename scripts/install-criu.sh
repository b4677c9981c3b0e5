#!/usr/bin/env bash
# Install a CRIU >= 4.2 that works on kernel 6.16+ on Debian 12 (bookworm).
# Why this way: bookworm's criu 3.17 fails on this kernel (vDSO bounds), trixie's
# 4.1.1 cannot dump TCP sockets on 6.16+, sid's 4.2.x works but needs sid's glibc,
# and adding sid to the system's apt sources would upgrade libc6 and half the
# system. So a *private* apt configuration downloads sid's criu and its runtime
# libraries (libc6 included), they are unpacked into a private prefix, and a
# wrapper runs the binary through that prefix's own dynamic loader. Nothing from
# sid is registered with dpkg. Idempotent: a second run only checks and exits.
set -euo pipefail

BASE=/opt/whiskrun/criu
PREFIX=$BASE/root                       # unpacked sid packages
APTDIR=$BASE/apt                        # private apt state, cache and sources
WRAPPER=/usr/local/sbin/criu            # before /usr/sbin on root's PATH; runc uses PATH
MIRROR=${CRIU_SID_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
ARCHLIB=x86_64-linux-gnu

say() { echo "criu: $*"; }
die() { echo "install-criu: $*" >&2; exit 1; }

# criu_ok CMD: true when CMD reports version >= 4.2 and `check` says Looks good.
criu_ok() {
  local v
  v=$("$1" --version 2>/dev/null | sed -n 's/^Version: *//p') || return 1
  dpkg --compare-versions "${v:-0}" ge 4.2 || return 1
  "$1" check 2>/dev/null | grep 'Looks good' >/dev/null  # no grep -q: SIGPIPE + pipefail
}

# Fast path (~0.1 s): the criu on PATH (normally our wrapper) already works.
if command -v criu >/dev/null && criu_ok criu; then
  echo "criu: $(criu --version | sed -n 's/^Version: *//p') at $(command -v criu) already works, nothing to do."; exit 0
fi

[ "$(id -u)" = 0 ] || die "must run as root (try: sudo $0)."
[ "$(dpkg --print-architecture)" = amd64 ] || die "only amd64 is supported (the prefix layout and loader path are amd64's)."

# Tools from bookworm that criu execs at dump/restore time (ip for network
# namespaces, iptables-restore for --tcp-established locking, tar for tmpfs).
missing=()
for p in debian-archive-keyring iproute2 iptables tar; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from bookworm ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; } ||
    die "apt-get install ${missing[*]} failed; run it by hand to see why (network to deb.debian.org? dpkg lock?)."
fi

# Private apt configuration: own sources/state/cache, nothing read from
# /etc/apt except the proxy setting (copied below) and the archive keyring.
mkdir -p "$APTDIR"/etc/apt/{apt.conf.d,preferences.d,sources.list.d,trusted.gpg.d} \
  "$APTDIR"/state/lists/partial "$APTDIR"/cache/archives/partial "$APTDIR"/debs
echo "deb [signed-by=$KEYRING] $MIRROR sid main" > "$APTDIR/etc/apt/sources.list"
: > "$APTDIR/status"                    # empty dpkg status: resolve as if nothing is installed
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

say "fetching Debian sid package lists from $MIRROR ..."
# apt-get update exits 0 on some fetch failures, so treat any W:/E: line as failure.
if ! apt-get update -q >"$BASE/apt-update.log" 2>&1 || grep -q '^[WE]:' "$BASE/apt-update.log"; then
  die "could not fetch sid's package lists from $MIRROR ($(grep -m1 '^[WE]:' "$BASE/apt-update.log" || echo 'see log')); check network access to the Debian registry or set CRIU_SID_MIRROR; full log: $BASE/apt-update.log."
fi
ver=$(apt-cache policy criu | sed -n 's/^ *Candidate: *//p')
dpkg --compare-versions "${ver:-0}" ge 4.2 || die "sid offers criu '${ver:-none}', not >= 4.2; use approach (a): build CRIU 4.2.x from source."

# criu plus the transitive closure of its Depends, as sid resolves them (no
# hard-coded names or versions; virtual packages, shown as <name>, dropped).
mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances criu | grep -E '^[a-z0-9]' | sort -u)
[[ " ${pkgs[*]} " == *" criu "* ]] || die "apt-cache could not resolve sid's criu dependencies (see $APT_CONFIG)."
say "downloading ${#pkgs[@]} sid packages (criu $ver and its runtime dependencies) ..."
rm -f "$APTDIR"/debs/*.deb
(cd "$APTDIR/debs" && apt-get download -q "${pkgs[@]}" >"$BASE/apt-download.log" 2>&1) ||
  die "downloading sid's criu packages failed; check network access to $MIRROR (log: $BASE/apt-download.log)."

# Unpack into a fresh directory, test it, then swap it in, so a working
# install is never left half-replaced.
say "unpacking into $PREFIX ..."
rm -rf "$PREFIX.new" "$PREFIX.old" && mkdir -p "$PREFIX.new"
for deb in "$APTDIR"/debs/*.deb; do dpkg-deb -x "$deb" "$PREFIX.new" || die "dpkg-deb -x $deb failed (disk full?)."; done
# sid is merged-/usr: the loader is usr/lib64/ld-linux-x86-64.so.2. Provide
# the classic lib/lib64 names too, for anything that still looks there.
for d in lib lib64; do [ -e "$PREFIX.new/$d" ] || ln -s "usr/$d" "$PREFIX.new/$d"; done
[ -x "$PREFIX.new/usr/lib64/ld-linux-x86-64.so.2" ] && [ -x "$PREFIX.new/usr/sbin/criu" ] ||
  die "the unpacked sid packages lack usr/sbin/criu or the dynamic loader; sid's layout changed, adjust this script."

# The wrapper. ld.so's --library-path (unlike LD_LIBRARY_PATH) is not
# inherited, so the tools criu execs (ip, iptables, tar, sh, action scripts)
# keep running with the system's own libc. exec keeps every fd open, which
# `criu swrk 3` (runc, docker) relies on.
write_wrapper() {  # $1 = prefix the wrapper points at, $2 = file to write
  cat > "$2" <<EOF
#!/bin/sh
# Written by scripts/install-criu.sh: Debian sid's criu run with sid's glibc.
P=$1
exec "\$P/usr/lib64/ld-linux-x86-64.so.2" --argv0 criu \\
  --library-path "\$P/usr/lib/$ARCHLIB:\$P/lib/$ARCHLIB" "\$P/usr/sbin/criu" "\$@"
EOF
  chmod 755 "$2"
}
write_wrapper "$PREFIX.new" "$BASE/criu-test"
criu_ok "$BASE/criu-test" || die "the unpacked criu $ver does not pass 'criu check' (run $BASE/criu-test check to see why)."
rm -f "$BASE/criu-test"
if [ -d "$PREFIX" ]; then mv "$PREFIX" "$PREFIX.old"; fi
mv "$PREFIX.new" "$PREFIX"
rm -rf "$PREFIX.old" "$APTDIR/state/lists" "$APTDIR/cache" "$APTDIR/debs"  # ~170 MB of apt lists/caches
mkdir -p "$(dirname "$WRAPPER")" && write_wrapper "$PREFIX" "$WRAPPER.tmp" && mv "$WRAPPER.tmp" "$WRAPPER"

# Final check, through the wrapper everyone will use.
out=$("$WRAPPER" check 2>&1) || true
grep -q 'Looks good' <<<"$out" || die "criu check through $WRAPPER failed: $(echo "$out" | tail -n1)"
[ "$(command -v criu)" = "$WRAPPER" ] ||
  echo "install-criu: warning: 'criu' on this PATH is $(command -v criu || echo nothing), not $WRAPPER; put /usr/local/sbin before /usr/sbin for runc/dockerd." >&2
say "installed criu $ver at $WRAPPER (prefix $PREFIX): Looks good."
