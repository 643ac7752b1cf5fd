//! Test helpers for Signet's integration tests: a real CNCF Distribution registry
//! (`docker-registry`, plain HTTP, TLS with a test CA, htpasswd basic auth), images pushed
//! through the registry API, the real cosign CLI to sign, attest and verify them, and a TCP
//! proxy that can cut a test off from a real server (PostgreSQL) and restore it.
//!
//! The binaries come from `scripts/install-test-tools.sh` (see `../shared/TESTING.md`).
//! Every [`Registry`] owns a temporary folder (config, storage, logs, certificates) and its
//! child process, which is killed when the value is dropped; each listens on its own free
//! port, so tests can run in parallel.

mod ca;
mod cosign;
mod measure;
mod policy;
mod proxy;
mod push;
mod registry;

use std::path::PathBuf;

pub use cosign::{ensure_success, Cosign};
pub use measure::process_cpu_time;
pub use policy::{key_entry, provenance_by_key, KeyPolicy};
pub use proxy::TcpProxy;
pub use push::push_random_image;
pub use registry::{LoggedRequest, Registry, RegistryOptions};

/// The workspace root: two folders above this crate's manifest.
pub fn workspace_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// `text` with every line indented by `spaces` and ended by a newline: a PEM key or
/// certificate ready to sit in a YAML block scalar (`publicKeys: |-`) of a test policy.
pub fn indent(text: &str, spaces: usize) -> String {
    let pad = " ".repeat(spaces);
    text.lines().map(|l| format!("{pad}{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn indent_pads_every_line_and_ends_each() {
        assert_eq!(super::indent("a\nb", 2), "  a\n  b\n");
        assert_eq!(super::indent("", 4), "");
    }
}
