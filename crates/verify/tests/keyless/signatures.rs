//! Keyless image signatures: subject, issuer and extension matching, and roots.

use crate::fixture::{Fixture, Log, GITHUB, WORKFLOW};
use crate::pki::LeafSpec;
use crate::support::*;
use crate::yaml::{assert_fail, assert_pass, Opts};

#[tokio::test(flavor = "multi_thread")]
async fn keyless_identities_match_as_kyverno_matches_them() {
    let f = Fixture::new().await;
    let leaf = f.leaf("leaf", &LeafSpec::github(WORKFLOW), true);
    let (image, _) = f
        .signed_image("app", "signed", &leaf, Log::SecondsAgo(60))
        .await;

    // cosign accepts the signature, SCT included, and refuses another identity.
    let out = f.cosign_verify(&image, WORKFLOW, GITHUB, false);
    assert!(
        out.status.success(),
        "cosign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = f.cosign_verify(&image, "https://github.com/evil/x", GITHUB, false);
    assert!(!out.status.success(), "cosign refuses another identity");

    let verifier = f.bare_verifier();
    let pass: &[(&str, &[&str])] = &[
        (
            "exact subject and issuer",
            &[
                &format!("subject: \"{WORKFLOW}\""),
                &format!("issuer: \"{GITHUB}\""),
            ],
        ),
        (
            "wildcard subject",
            &[
                "subject: \"https://github.com/company/workflows/*\"",
                "issuer: \"https://token.actions.*\"",
            ],
        ),
        (
            "subjectRegExp",
            &["subjectRegExp: 'company/workflows/\\.github/workflows/[a-z]+\\.yml@refs/heads/'"],
        ),
        (
            "issuerRegExp",
            &["issuerRegExp: '^https://token\\.actions\\.githubusercontent\\.com$'"],
        ),
        ("no identity at all", &[]),
        (
            "additionalExtensions",
            &[
                "subject: \"https://github.com/company/*\"",
                "additionalExtensions:",
                "  githubWorkflowTrigger: push",
                "  githubWorkflowRepository: \"company/*\"",
                "  githubWorkflowRef: refs/heads/main",
                "  sourceRepositoryURI: https://github.com/company/app",
                "  issuer: \"https://token.actions.githubusercontent.com\"",
            ],
        ),
    ];
    for (what, lines) in pass {
        let p = f.signature_policy(&f.keyless(16, lines, &Opts::default()));
        assert_pass(&verify(&verifier, first_entry(&p), &image).await, what);
    }
    let fail: &[(&str, &[&str], &str)] = &[
        (
            "another subject",
            &["subject: \"https://github.com/evil/*\""],
            &format!(
                "certificate identity {WORKFLOW} does not match subject https://github.com/evil/*"
            ),
        ),
        (
            "another subjectRegExp",
            &["subjectRegExp: '^https://gitlab\\.com/'"],
            "does not match subjectRegExp",
        ),
        (
            "another issuer",
            &[
                &format!("subject: \"{WORKFLOW}\""),
                "issuer: https://accounts.google.com",
            ],
            &format!(
                "certificate issuer {GITHUB} does not match issuer https://accounts.google.com"
            ),
        ),
        (
            "another issuerRegExp",
            &["issuerRegExp: 'google'"],
            "does not match issuerRegExp google",
        ),
        (
            "another extension value",
            &[
                "additionalExtensions:",
                "  githubWorkflowTrigger: pull_request",
            ],
            "certificate extension githubWorkflowTrigger is push, expected pull_request",
        ),
        (
            "an absent extension",
            &["additionalExtensions:", "  buildTrigger: push"],
            "certificate extension buildTrigger is absent",
        ),
    ];
    for (what, lines, expect) in fail {
        let p = f.signature_policy(&f.keyless(16, lines, &Opts::default()));
        assert_fail(
            &verify(&verifier, first_entry(&p), &image).await,
            what,
            expect,
        );
    }

    // Another root: the chain does not verify; cosign agrees.
    let opts = Opts {
        roots: Some(f.other_root.pem()),
        ..Opts::default()
    };
    let p = f.signature_policy(&f.keyless(16, &[], &opts));
    let v = verify(&verifier, first_entry(&p), &image).await;
    assert_fail(&v, "another root", "does not chain to a trusted root");

    // The intermediate as the policy's root is a trust anchor, as in a Go cert pool.
    let opts = Opts {
        roots: Some(f.fulcio.pem()),
        ..Opts::default()
    };
    let p = f.signature_policy(&f.keyless(16, &[], &opts));
    assert_pass(
        &verify(&verifier, first_entry(&p), &image).await,
        "intermediate as root",
    );

    // An email identity.
    let email = LeafSpec {
        san: "email:release@company.example".into(),
        ..LeafSpec::github(WORKFLOW)
    };
    let leaf = f.leaf("email", &email, true);
    let (image, _) = f
        .signed_image("app", "email", &leaf, Log::SecondsAgo(60))
        .await;
    let p = f.signature_policy(&f.keyless(
        16,
        &[
            "subject: \"*@company.example\"",
            &format!("issuer: {GITHUB}"),
        ],
        &Opts::default(),
    ));
    assert_pass(
        &verify(&verifier, first_entry(&p), &image).await,
        "email subject",
    );
    let out = f.cosign_verify(&image, "release@company.example", GITHUB, false);
    assert!(
        out.status.success(),
        "cosign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
