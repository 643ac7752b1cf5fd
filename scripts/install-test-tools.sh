#!/usr/bin/env bash
# Installs the real components Signet's tests run against (../shared/TESTING.md):
#   - docker-registry (CNCF Distribution) and htpasswd (apache2-utils), from the machine's
#     own apt sources;
#   - cosign 2.x, Debian trixie's package, fetched through a private apt configuration
#     under .cache/apt (the machine's apt sources are never changed), unpacked into
#     .cache/cosign and linked at .cache/bin/cosign.
# Idempotent: quiet when everything is present, apart from the versions printed at the end.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache"
APT_DIR="$CACHE/apt"
COSIGN_DIR="$CACHE/cosign"
COSIGN_BIN="$CACHE/bin/cosign"
COSIGN_SUITE="trixie"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

die() {
    echo "install-test-tools: $*" >&2
    exit 1
}

apt_updated=""
apt_install() {
    if [ -z "$apt_updated" ]; then
        $SUDO apt-get update -qq
        apt_updated=1
    fi
    $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- docker-registry and htpasswd from the machine's own sources --------------------------
missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-test-tools: installing ${missing[*]}" >&2
    apt_install "${missing[@]}"
fi

# --- cosign from Debian trixie, through a private apt configuration ------------------------
debian_mirror() {
    local uri=""
    if [ -r /etc/apt/sources.list.d/debian.sources ]; then
        uri="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
    fi
    if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
        # One-line format: "deb [options] URI suite components"; the first non-security entry.
        uri="$(sed -E 's/\[[^]]*\]//' /etc/apt/sources.list |
            awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }')"
    fi
    [ -n "$uri" ] || die "cannot find the Debian mirror (no URIs: line in /etc/apt/sources.list.d/debian.sources)"
    printf '%s\n' "${uri%/}"
}

cosign_works() {
    [ -x "$COSIGN_BIN" ] && "$COSIGN_BIN" version >/dev/null 2>&1
}

fetch_cosign() {
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    # debian-archive-keyring from bookworm's point releases carries the trixie keys
    # (also shipped alone as debian-archive-trixie-*.gpg); upgrade it when it does not.
    if [ ! -e /usr/share/keyrings/debian-archive-trixie-automatic.gpg ]; then
        echo "install-test-tools: upgrading debian-archive-keyring for the $COSIGN_SUITE key" >&2
        apt_install debian-archive-keyring
        [ -e /usr/share/keyrings/debian-archive-trixie-automatic.gpg ] ||
            die "debian-archive-keyring has no $COSIGN_SUITE key"
    fi

    local mirror arch
    mirror="$(debian_mirror)"
    arch="$(dpkg --print-architecture)"
    echo "install-test-tools: fetching cosign from $COSIGN_SUITE ($mirror)" >&2

    mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/preferences.d" \
        "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" "$CACHE/bin"
    cat >"$APT_DIR/sources.list.d/$COSIGN_SUITE.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $COSIGN_SUITE
Components: main
Architectures: $arch
Targets: Packages
Signed-By: $keyring
EOF
    local apt_opts=(
        -o Dir::Etc::SourceList=/dev/null
        -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d"
        -o Dir::Etc::Preferences=/dev/null
        -o "Dir::Etc::PreferencesParts=$APT_DIR/preferences.d"
        -o "Dir::State::Lists=$APT_DIR/lists"
        -o "Dir::Cache::Archives=$APT_DIR/archives"
        -o Dir::Cache::pkgcache=
        -o Dir::Cache::srcpkgcache=
        -o Acquire::Languages=none
    )
    if [ "$(id -u)" -eq 0 ]; then
        # The private folders are root's; apt's _apt sandbox user could not write there.
        apt_opts+=(-o APT::Sandbox::User=root)
    fi
    apt-get -qq "${apt_opts[@]}" update
    rm -f "$APT_DIR/archives"/cosign_*.deb
    # `apt-get download` writes into the current directory.
    (cd "$APT_DIR/archives" && apt-get -qq "${apt_opts[@]}" download "cosign/$COSIGN_SUITE" >/dev/null)

    local debs=("$APT_DIR/archives"/cosign_*.deb)
    [ -f "${debs[0]}" ] || die "apt-get download cosign/$COSIGN_SUITE produced no package"
    local deb="${debs[0]}" tmp
    tmp="$(mktemp -d "$CACHE/cosign.XXXXXX")"
    dpkg-deb -x "$deb" "$tmp"
    dpkg-deb -f "$deb" Version >"$tmp/VERSION"
    [ -x "$tmp/usr/bin/cosign" ] || die "$deb has no usr/bin/cosign"
    rm -rf "$COSIGN_DIR"
    mv "$tmp" "$COSIGN_DIR"
    ln -sfn ../cosign/usr/bin/cosign "$COSIGN_BIN"
    cosign_works || die "$COSIGN_BIN does not run"
    # The package and the index are not needed once the binary is in place.
    rm -rf "$APT_DIR/lists" "$APT_DIR/archives"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.install-test-tools.lock"
flock 9
if ! cosign_works; then
    fetch_cosign
fi
flock -u 9

# --- versions ----------------------------------------------------------------------------
cosign_go="$("$COSIGN_BIN" version 2>/dev/null | awk '/^GoVersion:/ { print $2 }')"
echo "cosign $(cat "$COSIGN_DIR/VERSION" 2>/dev/null || echo unknown) ($COSIGN_SUITE package, ${cosign_go:-go?}) at $COSIGN_BIN"
docker-registry --version
