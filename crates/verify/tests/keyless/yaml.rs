//! Policy text for the keyless tests (keyless attestor entries naming the fixture's
//! private root, Rekor key and CT log key), and verdict assertions.

use signet_policy::Policy;
use signet_verify::VerdictResult;

use crate::fixture::Fixture;
use crate::support::*;

impl Fixture {
    /// A `keyless:` attestor entry at `indent` with `lines` (identity fields), the private
    /// root as `roots` unless `roots` is given, the local Rekor and CT keys, and options.
    pub fn keyless(&self, indent: usize, lines: &[&str], opts: &Opts) -> String {
        let pad = " ".repeat(indent);
        let roots = opts.roots.clone().unwrap_or_else(|| self.root.pem());
        let mut out = format!("{pad}- keyless:\n");
        for l in lines {
            out.push_str(&format!("{pad}    {l}\n"));
        }
        out.push_str(&format!(
            "{pad}    roots: |-\n{}\n",
            indent_pem(&roots, indent + 6)
        ));
        out.push_str(&self.rekor_ctlog(indent + 4, opts));
        out
    }

    /// `rekor:` and `ctlog:` blocks at `indent`.
    pub fn rekor_ctlog(&self, indent: usize, opts: &Opts) -> String {
        let pad = " ".repeat(indent);
        format!(
            "{pad}rekor:\n{pad}  url: https://rekor.local\n{pad}  ignoreTlog: {}\n{pad}  pubkey: |-\n{}\n{pad}ctlog:\n{pad}  ignoreSCT: {}\n{pad}  pubkey: |-\n{}\n",
            opts.ignore_tlog,
            indent_pem(&self.rekor.public_pem(), indent + 4),
            opts.ignore_sct,
            indent_pem(&self.ct.public_pem(), indent + 4),
        )
    }

    /// A policy with one signature entry whose attestors are `entries` (indented 16).
    pub fn signature_policy(&self, entries: &str) -> Policy {
        let host = self.env.host();
        policy(&cluster_policy(&format!(
            "        - imageReferences:\n            - \"{host}/*\"\n          attestors:\n            - entries:\n{entries}"
        )))
    }
}

/// Options of a keyless entry.
#[derive(Default, Clone)]
pub struct Opts {
    pub ignore_tlog: bool,
    pub ignore_sct: bool,
    pub roots: Option<String>,
}

fn indent_pem(pem: &str, n: usize) -> String {
    indent(pem, n)
}

/// Asserts a pass.
pub fn assert_pass(v: &signet_verify::EntryVerdict, what: &str) {
    assert_eq!(v.result, VerdictResult::Pass, "{what}: {}", v.message);
}

/// Asserts a failure whose message contains `expect`.
pub fn assert_fail(v: &signet_verify::EntryVerdict, what: &str, expect: &str) {
    assert_eq!(v.result, VerdictResult::Fail, "{what}: {}", v.message);
    assert!(
        v.message.contains(expect),
        "{what}: expected {expect:?} in: {}",
        v.message
    );
}
