//! `signet` administering a running verifier over REST: login, keys, policies, clusters,
//! tokens, reports; exit codes and the token alone on the last line.

use std::path::Path;
use std::process::{Command, Output};

use signet_verifier::app::Secrets;
use support::start_verifier;

mod support;

fn signet(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(args)
        .env("XDG_CONFIG_HOME", home)
        .env_remove("SIGNET_SERVER")
        .env_remove("SIGNET_TOKEN")
        .output()
        .expect("run signet")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM
5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==
-----END PUBLIC KEY-----
";

#[tokio::test(flavor = "multi_thread")]
async fn administer_a_verifier() {
    let verifier = start_verifier(Secrets::default()).await;
    let (url, admin, dir) = (verifier.url.clone(), verifier.admin.clone(), &verifier.dir);
    let home = dir.path();
    let d = dir.path().to_path_buf();
    let run = move |args: Vec<String>| {
        let d = d.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                signet(&d, &args)
            })
            .await
            .expect("join")
        }
    };
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // Without a login, administration says how to configure it.
    let out = run(v(&["policy", "list"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("signet login"), "{:?}", text(&out));

    let out = run(v(&["login", "--server", &url, "--token", &admin])).await;
    assert!(out.status.success(), "{:?}", text(&out));
    let stored = home.join("signet/login.json");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&stored)
            .expect("login file")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    std::fs::write(home.join("k.pub"), KEY).expect("key");
    let out = run(v(&[
        "key",
        "create",
        "cosign-pub-key",
        "-n",
        "kyverno",
        "--from-file",
        &home.join("k.pub").display().to_string(),
    ]))
    .await;
    assert!(out.status.success(), "{:?}", text(&out));

    let seed = |f: &str| {
        std::env::var_os("SIGNET_TESTDATA")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
            })
            .join("policies")
            .join(f)
            .display()
            .to_string()
    };
    let out = run(v(&[
        "policy",
        "apply",
        "-f",
        &seed("verify-all-registries.yaml"),
    ]))
    .await;
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(
        text(&out)
            .0
            .contains("policy verify-all-registries created (version 1)"),
        "{:?}",
        text(&out)
    );
    let out = run(v(&[
        "policy",
        "apply",
        "-f",
        &seed("verify-all-registries.yaml"),
    ]))
    .await;
    assert!(
        text(&out).0.contains("configured (version 2)"),
        "{:?}",
        text(&out)
    );
    let out = run(v(&[
        "policy",
        "apply",
        "-f",
        &seed("verify-image-signatures.yaml"),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(2), "the truncated key is refused");
    assert!(
        text(&out)
            .1
            .contains("spec.rules[0].verifyImages[0].attestors[0].entries[0].keys.publicKeys"),
        "{:?}",
        text(&out)
    );
    let out = run(v(&["policy", "list"])).await;
    let (stdout, _) = text(&out);
    assert!(
        stdout
            .lines()
            .next()
            .unwrap_or_default()
            .starts_with("NAME"),
        "{stdout}"
    );
    assert!(
        stdout.contains("verify-all-registries") && stdout.contains("Enforce"),
        "{stdout}"
    );
    let out = run(v(&["policy", "get", "verify-all-registries"])).await;
    let original = std::fs::read_to_string(seed("verify-all-registries.yaml")).expect("seed");
    assert_eq!(text(&out).0, original, "the document comes back verbatim");

    let out = run(v(&[
        "cluster", "register", "prod-eu", "--label", "env=prod",
    ]))
    .await;
    assert!(out.status.success(), "{:?}", text(&out));
    let (stdout, _) = text(&out);
    let token = stdout.lines().last().unwrap_or_default().trim().to_owned();
    assert_eq!(
        token.split('.').count(),
        3,
        "a JWT alone on the last line: {stdout}"
    );

    // The cluster token reads its own reports; an admin revokes it; it stops working.
    let out = run(v(&[
        "--server", &url, "--token", &token, "reports", "-o", "json",
    ]))
    .await;
    assert!(out.status.success(), "{:?}", text(&out));
    assert_eq!(text(&out).0.trim(), "[]");
    let out = run(v(&["--token", &admin, "cluster", "list"])).await;
    assert!(text(&out).0.contains("prod-eu"), "{:?}", text(&out));
    let tokens: serde_json::Value = reqwest::Client::new()
        .get(format!("{url}/v1/tokens?cluster=prod-eu"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("tokens")
        .json()
        .await
        .expect("json");
    let id = tokens[0]["id"].as_str().expect("id").to_owned();
    let out = run(v(&["token", "revoke", &id])).await;
    assert!(out.status.success(), "{:?}", text(&out));
    let out = run(v(&["--server", &url, "--token", &token, "reports"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("revoked"), "{:?}", text(&out));

    let out = run(v(&["policy", "delete", "verify-all-registries"])).await;
    assert!(out.status.success(), "{:?}", text(&out));
    let out = run(v(&["policy", "get", "verify-all-registries"])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("404"), "{:?}", text(&out));
}
