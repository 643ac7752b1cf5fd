#!/usr/bin/env bash
# The one test command (README.md). Installs what the tests need on a fresh machine,
# then runs formatting, lints and every test suite from one build.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Shared test data sits beside the checkout (../shared/testdata) unless told otherwise.
export SIGNET_TESTDATA="${SIGNET_TESTDATA:-$(cd .. && pwd)/shared/testdata}"
if [ ! -d "$SIGNET_TESTDATA" ]; then
    echo "test data not found at $SIGNET_TESTDATA (set SIGNET_TESTDATA)" >&2
    exit 2
fi

step() { printf '\n== %s\n' "$*"; }

step "test tools: docker-registry, htpasswd, cosign"
scripts/install-test-tools.sh
export COSIGN_BIN="$PWD/.cache/bin/cosign"

step "rustfmt and clippy components"
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo clippy: the relay with the kube feature (namespace watch, used in clusters)"
cargo clippy -p signet-relay --features kube --all-targets --locked -- -D warnings

step "cargo build --workspace --bins (the end-to-end suite runs the real binaries)"
cargo build --workspace --bins --locked

step "cargo test"
cargo test --workspace --locked --no-fail-fast

step "cargo test: the relay's namespace watch (feature kube)"
cargo test -p signet-relay --features kube --locked --lib

step "policy crate stays free of runtimes, transports, databases and signature crates"
if cargo tree -p signet-policy -e normal --prefix none | grep -E '^(tokio|axum|tonic|sqlx|redis|sigstore|hyper|reqwest|ring|aws-lc-rs) ' ; then
    echo "signet-policy depends on a forbidden crate" >&2
    exit 1
fi
echo "ok"
