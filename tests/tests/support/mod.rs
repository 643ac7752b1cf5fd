//! Real processes for the end-to-end tests: a fresh Postgres database, `signet-verifier`,
//! `signet-relay` (HTTPS with a test CA), the `signet` CLI, and AdmissionReview documents
//! shaped as the API server sends them.
//!
//! The binaries are the workspace's own, from the target folder
//! (`$CARGO_TARGET_DIR` or `<workspace>/target`, profile `debug`). When one is missing or
//! older than the sources it is built from, the tests build them with
//! `cargo build -p signet-verifier -p signet-relay -p signet`; `scripts/test.sh` builds
//! them beforehand with `cargo build --workspace --bins`, so that this never happens there.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::{json, Value};

pub fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// `../shared/testdata` beside the checkout, or `$SIGNET_TESTDATA`.
pub fn testdata() -> PathBuf {
    std::env::var_os("SIGNET_TESTDATA")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/testdata"))
}

/// Paths of the three workspace binaries.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub verifier: PathBuf,
    pub relay: PathBuf,
    pub signet: PathBuf,
}

/// The workspace binaries, built once when any is missing.
pub fn binaries() -> &'static Binaries {
    static BINARIES: OnceLock<Binaries> = OnceLock::new();
    BINARIES.get_or_init(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target"));
        let dir = target.join("debug");
        let bins = Binaries {
            verifier: dir.join("signet-verifier"),
            relay: dir.join("signet-relay"),
            signet: dir.join("signet"),
        };
        let sources = newest_source();
        let stale = [&bins.verifier, &bins.relay, &bins.signet].iter().any(|b| {
            std::fs::metadata(b)
                .and_then(|m| m.modified())
                .map(|built| sources.is_some_and(|s| s > built))
                .unwrap_or(true)
        });
        if stale {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .current_dir(workspace_root())
                .args([
                    "build",
                    "-p",
                    "signet-verifier",
                    "-p",
                    "signet-relay",
                    "-p",
                    "signet",
                ])
                .status()
                .expect("running cargo build for the end-to-end binaries");
            assert!(
                status.success(),
                "cargo build -p signet-verifier -p signet-relay -p signet failed; \
                 build them with `cargo build --workspace --bins` before the end-to-end tests"
            );
        }
        for b in [&bins.verifier, &bins.relay, &bins.signet] {
            assert!(
                b.is_file(),
                "{} not found: run `cargo build --workspace --bins` (target dir {})",
                b.display(),
                target.display()
            );
        }
        bins
    })
}

/// The newest modification time of the sources the three binaries are built from.
fn newest_source() -> Option<std::time::SystemTime> {
    fn walk(dir: &Path, newest: &mut Option<std::time::SystemTime>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, newest);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rs" | "toml" | "proto" | "sql")
            ) {
                if let Ok(modified) = entry.metadata().and_then(|m| m.modified()) {
                    *newest = (*newest).max(Some(modified));
                }
            }
        }
    }
    let root = workspace_root();
    let mut newest = None;
    for dir in [
        "services/verifier",
        "services/relay",
        "services/cli",
        "crates/policy/src",
        "crates/verify/src",
        "crates/proto",
        "proto",
        "migrations",
    ] {
        walk(&root.join(dir), &mut newest);
    }
    newest
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{}_{nanos}", std::process::id())
}

/// A fresh Postgres database, dropped at the end.
#[derive(Debug)]
pub struct Database {
    admin_url: String,
    name: String,
    pub url: String,
}

impl Database {
    /// `CREATE DATABASE signet_e2e_<random>` on `$DATABASE_URL` (default
    /// `postgres://postgres@127.0.0.1:5432/postgres`), through `psql`.
    pub fn create() -> anyhow::Result<Database> {
        let admin_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("signet_e2e_{}", unique_suffix());
        psql(&admin_url, &format!("CREATE DATABASE {name}"))?;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .context("database URL without a database name")?;
        let url = format!("{base}/{name}");
        Ok(Database {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn psql(url: &str, sql: &str) -> anyhow::Result<()> {
    let output = Command::new("psql")
        .args([url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .stdin(Stdio::null())
        .output()
        .context("running psql (PostgreSQL client)")?;
    signet_testkit::ensure_success(&output, &format!("psql -c {sql:?}"))
}

/// A child process killed when dropped; its output goes to a log file.
#[derive(Debug)]
pub struct Process {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Process {
    pub fn spawn(name: &str, mut command: Command, log: PathBuf) -> anyhow::Result<Process> {
        let out = std::fs::File::create(&log)?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        Ok(Process {
            name: name.into(),
            child: Some(child),
            log,
        })
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the process and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Errs with the log when the process has exited.
    pub fn ensure_running(&mut self) -> anyhow::Result<()> {
        if let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait()? {
                bail!("{} exited ({status}):\n{}", self.name, self.log_text());
            }
        }
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Does `binary --help` mention `flag`?
pub fn has_flag(binary: &Path, flag: &str) -> bool {
    Command::new(binary)
        .arg("--help")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(flag))
        .unwrap_or(false)
}

/// A running `signet-verifier` on Postgres (and Redis when it takes `--redis-url`).
#[derive(Debug)]
pub struct Verifier {
    pub process: Process,
    pub url: String,
    pub grpc_url: String,
    pub admin_token: String,
}

impl Verifier {
    pub async fn start(dir: &Path, database_url: &str) -> anyhow::Result<Verifier> {
        let bins = binaries();
        let (http, grpc) = (free_port(), free_port());
        let token_file = dir.join("admin-token");
        let mut command = Command::new(&bins.verifier);
        command
            .args(["--http-addr", &format!("127.0.0.1:{http}")])
            .args(["--grpc-addr", &format!("127.0.0.1:{grpc}")])
            .args(["--database-url", database_url])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .arg("--admin-token-file")
            .arg(&token_file)
            .arg("--allow-http-registry")
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env("RUST_LOG", "info");
        if has_flag(&bins.verifier, "--redis-url") {
            let redis = std::env::var("REDIS_URL")
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
            command.args(["--redis-url", &redis]);
        }
        // The walkthrough signs an image after it was denied: no failing verdict may
        // outlive the signature.
        if has_flag(&bins.verifier, "--cache-fail-ttl-seconds") {
            command.args(["--cache-fail-ttl-seconds", "0"]);
        }
        let mut process = Process::spawn("signet-verifier", command, dir.join("verifier.log"))?;
        let url = format!("http://127.0.0.1:{http}");
        let client = reqwest::Client::builder().no_proxy().build()?;
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            process.ensure_running()?;
            let ready = client
                .get(format!("{url}/readyz"))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ready && token_file.is_file() {
                break;
            }
            if Instant::now() > deadline {
                bail!("signet-verifier not ready in 90 s:\n{}", process.log_text());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let admin_token = std::fs::read_to_string(&token_file)?.trim().to_string();
        Ok(Verifier {
            process,
            url,
            grpc_url: format!("http://127.0.0.1:{grpc}"),
            admin_token,
        })
    }
}

/// The `signet` CLI with its own config home (for `signet login`).
#[derive(Debug, Clone)]
pub struct Cli {
    pub home: PathBuf,
    pub cwd: PathBuf,
}

impl Cli {
    pub fn command(&self) -> Command {
        let mut command = Command::new(&binaries().signet);
        command
            .current_dir(&self.cwd)
            .env("XDG_CONFIG_HOME", &self.home)
            .env("HOME", &self.home)
            .env_remove("SIGNET_SERVER")
            .env_remove("SIGNET_TOKEN")
            .stdin(Stdio::null());
        command
    }

    /// Runs `signet ARGS…` (off the async runtime).
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command();
        command.args(args);
        tokio::task::spawn_blocking(move || command.output().expect("running signet"))
            .await
            .expect("join")
    }

    /// Runs `signet ARGS…` and returns stdout; panics with the output unless it exited 0.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "signet {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A test CA and a server certificate for 127.0.0.1 and localhost, written as PEM files.
#[derive(Debug)]
pub struct Pki {
    pub ca_pem: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Pki {
    pub fn generate(dir: &Path) -> anyhow::Result<Pki> {
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.distinguished_name
            .push(DnType::CommonName, "signet-e2e relay CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key)?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "signet-relay");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let issuer = Issuer::new(ca, ca_key);
        let leaf = params.signed_by(&key, &issuer)?;
        let (cert, key_path) = (dir.join("tls.crt"), dir.join("tls.key"));
        std::fs::write(&cert, leaf.pem())?;
        std::fs::write(&key_path, key.serialize_pem())?;
        Ok(Pki {
            ca_pem: ca_cert.pem(),
            cert,
            key: key_path,
        })
    }
}

/// A running `signet-relay` and an HTTPS client that trusts its CA.
#[derive(Debug)]
pub struct Relay {
    pub process: Process,
    pub url: String,
    client: reqwest::Client,
}

impl Relay {
    pub async fn start(
        name: &str,
        dir: &Path,
        pki: &Pki,
        verifier_grpc: &str,
        token_file: &Path,
        labels_file: &Path,
        failure_policy: &str,
    ) -> anyhow::Result<Relay> {
        let port = free_port();
        let mut command = Command::new(&binaries().relay);
        command
            .args(["--verifier", verifier_grpc])
            .arg("--token-file")
            .arg(token_file)
            .arg("--tls-cert")
            .arg(&pki.cert)
            .arg("--tls-key")
            .arg(&pki.key)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--namespace-labels")
            .arg(labels_file)
            .env("RUST_LOG", "info");
        if has_flag(&binaries().relay, "--failure-policy") {
            command.args(["--failure-policy", failure_policy]);
        }
        if has_flag(&binaries().relay, "--timeout-seconds") {
            command.args(["--timeout-seconds", "9"]);
        }
        let mut process = Process::spawn(name, command, dir.join(format!("{name}.log")))?;
        let ca = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes())?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .tls_certs_only([ca])
            .timeout(Duration::from_secs(40))
            .build()?;
        let url = format!("https://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            process.ensure_running()?;
            let healthy = client
                .get(format!("{url}/healthz"))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if healthy {
                break;
            }
            if Instant::now() > deadline {
                bail!("{name} not healthy in 30 s:\n{}", process.log_text());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Relay {
            process,
            url,
            client,
        })
    }

    /// POSTs an AdmissionReview to `path` (`/mutate` or `/validate`) and returns the
    /// review's `response`, after checking the envelope and the echoed uid.
    pub async fn review(&self, path: &str, review: &Value) -> Value {
        let uid = review["request"]["uid"].clone();
        let answer = self
            .client
            .post(format!("{}{path}", self.url))
            .json(review)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        assert!(
            answer.status().is_success(),
            "POST {path}: {}",
            answer.status()
        );
        let body: Value = answer.json().await.expect("an AdmissionReview answer");
        assert_eq!(body["apiVersion"], "admission.k8s.io/v1", "{body}");
        assert_eq!(body["kind"], "AdmissionReview", "{body}");
        assert_eq!(body["response"]["uid"], uid, "{body}");
        body["response"].clone()
    }
}

/// An AdmissionReview for creating a Pod with `images` in `namespace`.
pub fn pod_review(namespace: &str, name: &str, images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    let object = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": containers},
    });
    review(namespace, name, ("", "v1", "Pod", "pods"), object)
}

/// An AdmissionReview for creating a Deployment whose pod template runs `images`.
pub fn deployment_review(namespace: &str, name: &str, images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    let object = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": containers},
            },
        },
    });
    review(
        namespace,
        name,
        ("apps", "v1", "Deployment", "deployments"),
        object,
    )
}

fn review(
    namespace: &str,
    name: &str,
    (group, version, kind, resource): (&str, &str, &str, &str),
    object: Value,
) -> Value {
    let gvk = json!({"group": group, "version": version, "kind": kind});
    let gvr = json!({"group": group, "version": version, "resource": resource});
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("e2e-{name}-{}", unique_suffix()),
            "kind": gvk,
            "resource": gvr,
            "requestKind": gvk,
            "requestResource": gvr,
            "name": name,
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {
                "username": "kubernetes-admin",
                "groups": ["system:masters", "system:authenticated"],
            },
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    })
}

/// The JSON Patch of an admission response, decoded.
pub fn patch_of(response: &Value) -> Vec<Value> {
    use base64::Engine as _;
    let Some(patch) = response["patch"].as_str() else {
        return Vec::new();
    };
    assert_eq!(response["patchType"], "JSONPatch", "{response}");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(patch)
        .expect("base64 patch");
    serde_json::from_slice(&bytes).expect("a JSON Patch")
}

/// `status.message` of a denial (empty when absent).
pub fn message_of(response: &Value) -> String {
    response["status"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The `warnings` of a response, joined.
pub fn warnings_of(response: &Value) -> String {
    response["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// A seed-guide policy as Signet is given it in the walkthrough: the guide's
/// registries replaced by the test registry (`replacements`), and every key attestor
/// told to accept signatures without a transparency-log entry
/// (`rekor: {url: https://rekor.sigstore.dev, ignoreTlog: true}`), because the images
/// are signed with `--tlog-upload=false`. Written as JSON beside `dir`.
pub fn seed_policy(
    dir: &Path,
    file: &str,
    replacements: &[(&str, String)],
    edit: impl FnOnce(&mut Value),
) -> PathBuf {
    let path = testdata().join("policies").join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut text = text;
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    let mut policy: Value = serde_yaml_ng::from_str(&text).expect("a policy document");
    add_ignore_tlog(&mut policy);
    edit(&mut policy);
    let name = policy["metadata"]["name"]
        .as_str()
        .expect("metadata.name")
        .to_string();
    let out = dir.join(format!("{name}.json"));
    std::fs::write(
        &out,
        serde_json::to_vec_pretty(&policy).expect("serialise policy"),
    )
    .expect("write policy");
    out
}

fn add_ignore_tlog(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(keys)) = map.get_mut("keys") {
                keys.entry("rekor").or_insert_with(
                    || json!({"url": "https://rekor.sigstore.dev", "ignoreTlog": true}),
                );
            }
            for v in map.values_mut() {
                add_ignore_tlog(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(add_ignore_tlog),
        _ => {}
    }
}
