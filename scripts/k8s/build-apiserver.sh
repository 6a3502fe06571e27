#!/usr/bin/env bash
# Builds a real kube-apiserver (Kubernetes 1.20.2) offline from Debian bookworm's `kubernetes` source
# package, for envsync's Kubernetes integration tests (test/k8s/). Also makes sure etcd (Debian
# etcd-server) and kubectl (Debian kubernetes-client) are there.
#
# Idempotent: when the cached binary exists, prints its path and exits 0 at once.
# Output: the binary's path on stdout (last line); progress lines on stderr.
#
# Environment:
#   ENVSYNC_K8S_CACHE        cache dir (default ~/.cache/envsync-k8s, outside the repo)
#   ENVSYNC_K8S_KEEP_WORK=1  keep the build dir even on success
#   ENVSYNC_DEBIAN_MIRROR    Debian mirror for the deb-src entry (default: the machine's own)
#
# Cache layout: bin/kube-apiserver, bin/kubectl (Debian's 1.20 kubectl), VERSION, BUILD-INFO.
set -euo pipefail

CACHE="${ENVSYNC_K8S_CACHE:-$HOME/.cache/envsync-k8s}"
BIN="$CACHE/bin/kube-apiserver"
KUBECTL_BIN="$CACHE/bin/kubectl"
SRC_PKG=kubernetes
SUITE=bookworm
START=$(date +%s)

log() { echo "[k8s-build +$(( $(date +%s) - START ))s] $*" >&2; }
die() { echo "[k8s-build] ERROR: $*" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
    APT_UPDATED=1
  fi
}
apt_install() {
  [ "$(id -u)" = 0 ] || die "need root to apt-get install: $*"
  apt_update_once
  log "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >&2 || die "apt-get install $* failed"
}
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# --- runtime tools: etcd and kubectl ---------------------------------------------------------------
ensure_etcd() {
  command -v etcd >/dev/null 2>&1 || apt_install etcd-server
  command -v etcd >/dev/null 2>&1 || die "etcd not on PATH after installing etcd-server"
}

# kubectl: Debian's kubernetes-client (1.20.2, same version as the server). Some machine images
# already carry another package's /usr/bin/kubectl (Google Cloud SDK's `kubectl` package); installing
# kubernetes-client over it would fail on the file conflict (or clobber it), so in that case the
# Debian kubectl is unpacked into the cache instead of being installed system-wide. Either way a
# Debian 1.20 kubectl ends up at $CACHE/bin/kubectl, which the test harness prefers.
ensure_kubectl() {
  [ -x "$KUBECTL_BIN" ] && return 0
  mkdir -p "$CACHE/bin"
  if ! pkg_installed kubernetes-client; then
    local owner=""
    if [ -e /usr/bin/kubectl ] || [ -L /usr/bin/kubectl ]; then
      owner=$(dpkg -S /usr/bin/kubectl 2>/dev/null | cut -d: -f1 || true)
    fi
    if [ -z "$owner" ] && ! [ -e /usr/bin/kubectl ]; then
      apt_install kubernetes-client
    else
      log "/usr/bin/kubectl already belongs to package '${owner:-unknown}': unpacking Debian's kubernetes-client into the cache instead of installing it over that"
      apt_update_once
      local d; d=$(mktemp -d)
      chmod 755 "$d"
      (cd "$d" && apt-get -o APT::Sandbox::User=root download -qq kubernetes-client >&2) || die "apt-get download kubernetes-client failed"
      dpkg-deb -x "$d"/kubernetes-client_*.deb "$d/root" || die "dpkg-deb -x kubernetes-client failed"
      install -m 755 "$d/root/usr/bin/kubectl" "$KUBECTL_BIN.tmp"
      mv -f "$KUBECTL_BIN.tmp" "$KUBECTL_BIN"
      rm -rf "$d"
      log "kubectl: $("$KUBECTL_BIN" version --client --short 2>/dev/null || "$KUBECTL_BIN" version --client 2>&1 | head -1)"
      return 0
    fi
  fi
  local k; k=$(dpkg -L kubernetes-client | grep -E '/bin/kubectl$' | head -1)
  [ -n "$k" ] && [ -x "$k" ] || die "kubernetes-client is installed but has no kubectl binary"
  ln -sfn "$k" "$KUBECTL_BIN"
}

# Serialise concurrent runs (two test processes, CI + a developer shell...).
mkdir -p "$CACHE/bin"
exec 9>"$CACHE/.lock"
flock 9

# --- fast path ---------------------------------------------------------------------------------------
if [ -x "$BIN" ]; then
  ensure_etcd
  ensure_kubectl
  echo "$BIN"
  exit 0
fi

log "no cached kube-apiserver at $BIN: building it from Debian's '$SRC_PKG' source package (takes ~5-7 min on 2 cores)"

# --- build dependencies ------------------------------------------------------------------------------
need=()
command -v go >/dev/null 2>&1 || need+=(golang-go)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
for p in rsync jq make gcc libc6-dev dpkg-dev xz-utils openssl ca-certificates debian-archive-keyring; do
  pkg_installed "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi
ensure_etcd
ensure_kubectl
command -v go >/dev/null || die "go not on PATH after installing golang-go"
GO_VERSION=$(go version)
log "using $GO_VERSION"

# --- source download, through a private apt configuration ----------------------------------------------
# The machine's own sources (/etc/apt/sources.list*) and package lists (/var/lib/apt/lists) are not
# touched: a private SourceList/SourceParts with a single deb-src entry, and private list/cache dirs.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/envsync-k8s-build.XXXXXX")
chmod 755 "$WORK"
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "[k8s-build] build failed (exit $rc); build dir kept for inspection: $WORK" >&2
  elif [ "${ENVSYNC_K8S_KEEP_WORK:-0}" = 1 ]; then
    log "build dir kept: $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

MIRROR="${ENVSYNC_DEBIAN_MIRROR:-}"
if [ -z "$MIRROR" ]; then
  # The machine's own Debian mirror (deb822 or one-line format), else deb.debian.org.
  MIRROR=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' \
    | grep -E '/debian/?$' | head -1 || true)
  [ -n "$MIRROR" ] || MIRROR=$(grep -hsE '^deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' | grep -E '/debian/?$' | head -1 || true)
  [ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
fi
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KEYRING" ] || die "missing $KEYRING (package debian-archive-keyring)"

APTDIR="$WORK/apt"
mkdir -p "$APTDIR/sources.list.d" "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial"
: > "$APTDIR/sources.list"
cat > "$APTDIR/sources.list.d/envsync-k8s-src.sources" <<EOF
Types: deb-src
URIs: $MIRROR
Suites: $SUITE
Components: main
Signed-By: $KEYRING
EOF
APT_OPTS=(
  -o "Dir::Etc::SourceList=$APTDIR/sources.list"
  -o "Dir::Etc::SourceParts=$APTDIR/sources.list.d"
  -o "Dir::State::Lists=$APTDIR/lists"
  -o "Dir::Cache=$APTDIR/cache"
  -o "APT::Sandbox::User=root"
)
log "apt-get update (private deb-src list: $MIRROR $SUITE main)"
apt-get "${APT_OPTS[@]}" update -qq >&2 || die "apt-get update with the private deb-src list failed"
SRC_VERSION=$(apt-cache "${APT_OPTS[@]}" showsrc "$SRC_PKG" 2>/dev/null | awk '/^Version:/{print $2; exit}')
[ -n "$SRC_VERSION" ] || die "source package '$SRC_PKG' not found in $SUITE main ($MIRROR)"
log "downloading source package $SRC_PKG $SRC_VERSION"
mkdir -p "$WORK/src"
(cd "$WORK/src" && apt-get "${APT_OPTS[@]}" source --download-only -qq "$SRC_PKG=$SRC_VERSION" >&2) \
  || die "apt-get source --download-only $SRC_PKG=$SRC_VERSION failed"
DSC=$(ls "$WORK"/src/*.dsc 2>/dev/null | head -1)
[ -n "$DSC" ] || die "no .dsc downloaded into $WORK/src"
log "unpacking $(basename "$DSC") ($(du -sh "$WORK/src" | cut -f1))"
(cd "$WORK/src" && dpkg-source --no-check -x "$DSC" tree >&2) || die "dpkg-source -x $DSC failed"

export GOPATH="$WORK/gopath"
KROOT="$GOPATH/src/k8s.io/kubernetes"
mkdir -p "$(dirname "$KROOT")"
mv "$WORK/src/tree" "$KROOT"
[ -f "$KROOT/Makefile" ] && [ -d "$KROOT/vendor" ] || die "unpacked tree at $KROOT has no Makefile or vendor/ (unexpected source layout)"

# --- build -------------------------------------------------------------------------------------------------
# Offline, vendored. Kubernetes 1.20's build runs in GOPATH mode: hack/lib/init.sh exports
# GO111MODULE=off itself and the build goes through _output/local/go/src/k8s.io/kubernetes with the
# vendor/ tree (vendor/k8s.io/* are symlinks into staging/). So no -mod=vendor (a module-mode flag)
# is needed; GOPROXY=off guarantees nothing is fetched. Debian's Go 1.19 passes the build's
# minimum-version check (go1.15.0) and builds it unchanged.
export GOPROXY=off GOSUMDB=off GOTOOLCHAIN=local
export GOCACHE="$WORK/gocache"
export GO111MODULE=off
# No .git in a source package: give the version stamp explicitly (hack/lib/version.sh reads it).
UPSTREAM_VERSION=$(echo "$SRC_VERSION" | sed -E 's/^[0-9]+://; s/-[^-]*$//; s/.*really//')
MAJOR=$(echo "$UPSTREAM_VERSION" | cut -d. -f1)
MINOR=$(echo "$UPSTREAM_VERSION" | cut -d. -f2)
cat > "$WORK/version.env" <<EOF
KUBE_GIT_VERSION='v$UPSTREAM_VERSION'
KUBE_GIT_MAJOR='$MAJOR'
KUBE_GIT_MINOR='$MINOR'
KUBE_GIT_COMMIT=''
KUBE_GIT_TREE_STATE='archive'
EOF
export KUBE_GIT_VERSION_FILE="$WORK/version.env"

log "make WHAT=cmd/kube-apiserver (GOPATH=$GOPATH, GOPROXY=off, GO111MODULE=off)"
if ! (cd "$KROOT" && make WHAT=cmd/kube-apiserver >"$WORK/make.log" 2>&1); then
  echo "[k8s-build] make failed; last 60 lines of $WORK/make.log:" >&2
  tail -n 60 "$WORK/make.log" >&2
  die "make WHAT=cmd/kube-apiserver failed with $GO_VERSION (full log: $WORK/make.log)"
fi
OUT=$(ls "$KROOT"/_output/local/bin/*/*/kube-apiserver "$KROOT"/_output/bin/kube-apiserver 2>/dev/null | head -1 || true)
[ -n "$OUT" ] && [ -x "$OUT" ] || die "make succeeded but no kube-apiserver binary under $KROOT/_output"
VERSION=$("$OUT" --version 2>&1) || die "built binary does not run: $VERSION"
log "built $OUT ($VERSION)"

install -m 755 "$OUT" "$BIN.tmp"
mv -f "$BIN.tmp" "$BIN"
echo "$VERSION" > "$CACHE/VERSION"
cat > "$CACHE/BUILD-INFO" <<EOF
kube-apiserver: $VERSION
source: Debian $SUITE $SRC_PKG $SRC_VERSION ($MIRROR)
go: $GO_VERSION
built: $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - START ))s
EOF
log "cached $BIN ($(du -h "$BIN" | cut -f1)); total $(( $(date +%s) - START ))s"
echo "$BIN"
