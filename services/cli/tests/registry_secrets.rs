//! Named registry-credential sets (`imageRegistryCredentials.secrets`) from the command
//! line: `signet verify --policy … --registry-secret NAME=DOCKER-CONFIG` against a real
//! htpasswd registry, and `signet registry-credentials create | list | delete` against a
//! running verifier.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;
use signet_testkit::{push_random_image, KeyPolicy, Registry, RegistryOptions};
use signet_verifier::app;
use signet_verifier::service::CredentialsKey;
use signet_verify::crypto::SigningKey;
use signet_verify::registry::{Credentials, RegistryClient, RegistryConfig, Transport};
use support::start_verifier;

mod support;

const USER: &str = "puller";
const PASS: &str = "cli-Pa55-word";

/// Runs `signet` with an empty Docker config (the user's own stays out) and `stdin`.
fn signet(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(args)
        .env("DOCKER_CONFIG", home.join("empty-docker-config"))
        .env("XDG_CONFIG_HOME", home)
        .env_remove("SIGNET_SERVER")
        .env_remove("SIGNET_TOKEN")
        .env_remove("SIGNET_REGISTRY_USERNAME")
        .env_remove("SIGNET_REGISTRY_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run signet");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("signet output")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A policy whose rule reads `host`'s images with the named sets `secrets` (YAML flow
/// list items, `regcred`).
fn policy(dir: &Path, host: &str, pem: &str, secrets: &str) -> PathBuf {
    let path = dir.join("private.yaml");
    let credentials = format!("imageRegistryCredentials: {{secrets: [{secrets}]}}");
    let yaml = KeyPolicy::new("private", &format!("{host}/*"), pem)
        .rule("signed")
        .field(&credentials)
        .yaml();
    std::fs::write(&path, yaml).expect("write policy");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_reads_a_registry_with_the_named_set_given_as_a_docker_config() {
    let registry = Registry::start_with(RegistryOptions::basic_auth(USER, PASS))
        .await
        .expect("registry");
    push_random_image(&registry, "app", "v1")
        .await
        .expect("push");
    let host = registry.host();
    let image = registry.reference("app", "v1");
    let key = SigningKey::generate().expect("key");
    let signer = RegistryClient::new(RegistryConfig {
        default_transport: Transport::Http,
        credentials: HashMap::from([(
            host.clone(),
            Credentials::Basic {
                username: USER.into(),
                password: PASS.into(),
            },
        )]),
        ..RegistryConfig::default()
    })
    .expect("client");
    let parsed = signet_policy::image::ImageRef::parse(&image).expect("ref");
    signet_verify::signing::sign_image(&signer, &key, &parsed, &Default::default())
        .await
        .expect("sign");

    let dir = tempfile::tempdir().expect("tmp");
    let home = dir.path();
    let policy = policy(home, &host, &key.public_key_pem().expect("pem"), "regcred");
    let policy = policy.to_str().expect("utf-8 path");
    // `docker login` writes base64(user:password) in `auth`; other tools write the fields.
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASS}"));
    let by_auth = home.join("auth.json");
    std::fs::write(
        &by_auth,
        format!(r#"{{"auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#),
    )
    .expect("write config");
    let by_fields = home.join("fields.json");
    std::fs::write(
        &by_fields,
        format!(r#"{{"auths": {{"http://{host}/v2/": {{"username": "{USER}", "password": "{PASS}"}}}}}}"#),
    )
    .expect("write config");
    let verify = |extra: &[&str]| {
        // The image first: --policy takes every value up to the next option.
        let mut args = vec![
            "verify",
            &image,
            "--allow-http-registry",
            "--policy",
            policy,
        ];
        args.extend_from_slice(extra);
        signet(home, &args, "")
    };
    let not_found = "registry credentials secret \"regcred\" not found";

    for config in [&by_auth, &by_fields] {
        let flag = format!("regcred={}", config.display());
        let out = verify(&["--registry-secret", &flag, "-o", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["allowed"], true, "{v}");
        assert_eq!(v["verdicts"][0]["result"], "pass", "{v}");
        assert!(!text(&out).contains(PASS), "{}", text(&out));
    }

    // Without the set, the rule cannot decide (exit 2), naming the set; credentials given
    // for every registry do not stand in for it.
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(not_found), "{}", text(&out));
    let out = verify(&["--registry-username", USER, "--registry-password", PASS]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(not_found), "{}", text(&out));
    // A set holding other credentials for the registry: refused by the registry.
    let wrong = home.join("wrong.json");
    std::fs::write(
        &wrong,
        format!(r#"{{"auths": {{"{host}": {{"username": "{USER}", "password": "nope"}}}}}}"#),
    )
    .expect("write config");
    let out = verify(&["--registry-secret", &format!("regcred={}", wrong.display())]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("unauthorized: credentials were refused"),
        "{}",
        text(&out)
    );

    // Malformed options are refused before anything is fetched.
    let out = verify(&["--registry-secret", "regcred"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("is not NAME=FILE"), "{}", text(&out));
    let out = verify(&["--registry-secret", "RegCred=/tmp/x.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("is not a name policies can write"),
        "{}",
        text(&out)
    );
    let out = verify(&["--registry-secret", "regcred=/nonexistent/config.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("/nonexistent/config.json"),
        "{}",
        text(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registry_credentials_are_administered_into_named_sets() {
    let key =
        CredentialsKey::from_base64(&base64::engine::general_purpose::STANDARD.encode([3u8; 32]))
            .expect("key");
    let verifier = start_verifier(app::Secrets {
        jwt_key: None,
        credentials_key: Some(key.clone()),
    })
    .await;
    let (url, admin, store, dir) = (
        verifier.url.clone(),
        verifier.admin.clone(),
        verifier.store.clone(),
        &verifier.dir,
    );
    let home = dir.path().to_path_buf();
    let run = move |args: Vec<String>, stdin: &'static str| {
        let (home, url, admin) = (home.clone(), url.clone(), admin.clone());
        async move {
            tokio::task::spawn_blocking(move || {
                let mut all = vec!["--server", &url, "--token", &admin];
                all.extend(args.iter().map(String::as_str));
                signet(&home, &all, stdin)
            })
            .await
            .expect("join")
        }
    };
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let secret_pw = "stdin-Pa55\n";

    let out = run(
        v(&[
            "registry-credentials",
            "create",
            "--registry",
            "registry.example.com:5000",
            "--username",
            "ci",
            "--password-stdin",
            "--secret",
            "kyverno/regcred",
        ]),
        secret_pw,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "registry credentials for registry.example.com:5000 in secret kyverno/regcred stored"
    );
    let out = run(
        v(&[
            "registry-credentials",
            "create",
            "--registry",
            "ghcr.io",
            "--username",
            "bot",
            "--password-stdin",
        ]),
        "own-Pa55",
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Sealed for its set and registry; the trailing newline of stdin is not the password's.
    let sealed = store
        .list_named_credential_secrets()
        .await
        .expect("named")
        .remove(0);
    assert_eq!(
        key.open_named(
            "kyverno/regcred",
            "registry.example.com:5000",
            &sealed.secret_ciphertext
        )
        .expect("open"),
        "stdin-Pa55"
    );

    let out = run(v(&["registry-credentials", "list"]), "").await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["SECRET", "REGISTRY", "USERNAME"],
            vec!["ghcr.io", "bot"],
            vec!["kyverno/regcred", "registry.example.com:5000", "ci"],
        ],
        "{listed}"
    );
    assert!(!listed.contains("Pa55"), "{listed}");

    // A policy naming a held set and one the verifier does not hold: applied, with a
    // warning on stderr naming the missing one and its field.
    let pem = SigningKey::generate()
        .expect("key")
        .public_key_pem()
        .expect("pem");
    let file = policy(
        dir.path(),
        "registry.example.com:5000",
        &pem,
        "kyverno/regcred, other",
    );
    let out = run(
        v(&["policy", "apply", "-f", &file.display().to_string()]),
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "policy private created (version 1)"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with(
            "warning: spec.rules[0].verifyImages[0].imageRegistryCredentials.secrets[1]: \
             the verifier holds no registry credentials secret \"other\""
        ),
        "{stderr}"
    );

    // No password on stdin and no terminal: refused before anything is sent.
    let out = run(
        v(&[
            "registry-credentials",
            "create",
            "--registry",
            "quay.io",
            "--username",
            "u",
            "--secret",
            "regcred",
        ]),
        "",
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--password-stdin"), "{}", text(&out));

    let delete = |secret: Option<&'static str>| {
        let mut args = v(&[
            "registry-credentials",
            "delete",
            "--registry",
            "registry.example.com:5000",
        ]);
        if let Some(s) = secret {
            args.extend(v(&["--secret", s]));
        }
        run(args, "")
    };
    // Without --secret, the verifier's own credentials for the registry: there are none.
    let out = delete(None).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("(404)"), "{}", text(&out));
    let out = delete(Some("kyverno/regcred")).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(store
        .list_named_credentials()
        .await
        .expect("list")
        .is_empty());
    let out = delete(Some("kyverno/regcred")).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
