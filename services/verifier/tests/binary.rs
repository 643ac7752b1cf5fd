//! The `signet-verifier` binary as an operator runs it: configuration by flags and by
//! environment, the bootstrap admin token (a 0600 file, or printed once), the embedded
//! store kept across a restart, key files, graceful stop on SIGTERM and `migrate`.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use support::postgres::PgDb;

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_signet-verifier");

/// A free loopback address (bound, read and released).
fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// The binary with no configuration inherited from the test's environment.
fn verifier() -> Command {
    let mut c = Command::new(BIN);
    for var in [
        "DATABASE_URL",
        "REDIS_URL",
        "SIGNET_HTTP_ADDR",
        "SIGNET_GRPC_ADDR",
        "SIGNET_DATA_DIR",
        "SIGNET_ADMIN_TOKEN_FILE",
        "SIGNET_JWT_KEY_FILE",
        "SIGNET_CREDENTIALS_KEY",
        "SIGNET_CREDENTIALS_KEY_FILE",
    ] {
        c.env_remove(var);
    }
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// A running verifier and its REST address.
struct Running {
    child: Child,
    http: SocketAddr,
}

impl Running {
    /// Starts `command` and waits until its REST API answers.
    async fn start(mut command: Command, http: SocketAddr) -> Running {
        let child = command.spawn().expect("start signet-verifier");
        let mut running = Running { child, http };
        for _ in 0..600 {
            if let Ok(r) = reqwest::get(format!("http://{http}/healthz")).await {
                if r.status() == StatusCode::OK {
                    return running;
                }
            }
            if let Ok(Some(status)) = running.child.try_wait() {
                let out = running.stop_output();
                panic!("signet-verifier exited with {status}: {out:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("signet-verifier did not answer on {http}");
    }

    async fn get(&self, path: &str, token: &str) -> StatusCode {
        reqwest::Client::new()
            .get(format!("http://{}{path}", self.http))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
            .status()
    }

    /// Stops it with SIGTERM, as Kubernetes does, and returns what it printed.
    fn stop(mut self) -> Output {
        let pid = self.child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(killed.success());
        let out = self.stop_output();
        assert!(out.status.success(), "a graceful stop exits 0: {out:?}");
        out
    }

    fn stop_output(&mut self) -> Output {
        let child = std::mem::replace(&mut self.child, Command::new("true").spawn().expect("true"));
        child.wait_with_output().expect("wait")
    }
}

/// The bootstrap token printed on stdout, if any.
fn printed_token(out: &Output) -> Option<String> {
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    lines.find(|l| l.starts_with("Bootstrap admin token"))?;
    lines.next().map(|t| t.trim().to_owned())
}

fn is_jwt(token: &str) -> bool {
    token.split('.').count() == 3 && !token.contains(char::is_whitespace)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_prints_the_token_once_and_a_restart_keeps_the_embedded_store() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let (http, grpc) = (free_addr(), free_addr());
    // Configured by flags.
    let mut first = verifier();
    first.args(["--data-dir", data.to_str().expect("path")]);
    first.args([
        "--http-addr",
        &http.to_string(),
        "--grpc-addr",
        &grpc.to_string(),
    ]);
    let running = Running::start(first, http).await;
    let out = running.stop();
    let token = printed_token(&out).expect("the first start prints the admin token");
    assert!(is_jwt(&token), "{token}");
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(!logs.contains(&token), "the token is never logged");

    // Configured by environment; same data dir: the admin made by the first start still
    // works, so none is printed again.
    let (http, grpc) = (free_addr(), free_addr());
    let mut second = verifier();
    second
        .env("SIGNET_DATA_DIR", &data)
        .env("SIGNET_HTTP_ADDR", http.to_string())
        .env("SIGNET_GRPC_ADDR", grpc.to_string());
    let running = Running::start(second, http).await;
    assert_eq!(running.get("/v1/policies", &token).await, StatusCode::OK);
    assert_eq!(
        running.get("/v1/policies", "not-a-token").await,
        StatusCode::UNAUTHORIZED
    );
    let out = running.stop();
    assert_eq!(printed_token(&out), None, "printed once: {out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_file_is_0600_and_key_files_are_used() {
    let dir = tempfile::tempdir().expect("dir");
    let token_file = dir.path().join("admin-token");
    // A file left readable by everyone is made private before the token goes in.
    std::fs::write(&token_file, "old\n").expect("old file");
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let jwt_key = dir.path().join("jwt.key");
    std::fs::write(&jwt_key, b"a key every replica mounts, 32 bytes or more").expect("jwt key");
    let credentials_key = dir.path().join("credentials.key");
    std::fs::write(
        &credentials_key,
        "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n",
    )
    .expect("credentials key");

    let (http, grpc) = (free_addr(), free_addr());
    let mut command = verifier();
    command.args([
        "--data-dir",
        dir.path().join("data").to_str().expect("path"),
    ]);
    command.args([
        "--http-addr",
        &http.to_string(),
        "--grpc-addr",
        &grpc.to_string(),
    ]);
    command.arg("--admin-token-file").arg(&token_file);
    command.env("SIGNET_JWT_KEY_FILE", &jwt_key);
    command.arg("--credentials-key-file").arg(&credentials_key);
    let running = Running::start(command, http).await;

    let mode = std::fs::metadata(&token_file)
        .expect("token file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let token = std::fs::read_to_string(&token_file).expect("token");
    let token = token.trim();
    assert!(is_jwt(token), "{token}");
    assert_eq!(running.get("/v1/clusters", token).await, StatusCode::OK);

    // The token is signed with the key from the file.
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims.clear();
    let key = std::fs::read(&jwt_key).expect("key");
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(&key),
        &validation,
    )
    .expect("signed with the file's key");

    // The credentials key from the file seals stored registry credentials.
    let stored = reqwest::Client::new()
        .post(format!("http://{http}/v1/registry-credentials"))
        .bearer_auth(token)
        .json(&serde_json::json!({"registry": "registry.example.com", "username": "u", "password": "p"}))
        .send()
        .await
        .expect("store credentials");
    assert!(stored.status().is_success(), "{:?}", stored.text().await);

    let out = running.stop();
    assert_eq!(
        printed_token(&out),
        None,
        "written to the file, not printed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_applies_the_schema_and_exits() {
    // Embedded store.
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let out = verifier()
        .args(["migrate", "--data-dir", data.to_str().expect("path")])
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    assert!(data.join(signet_verifier::store::SQLITE_FILE).is_file());

    // PostgreSQL.
    let db = PgDb::create().await;
    let out = verifier()
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    let store = signet_verifier::store::Store::open(Some(&db.url), Path::new("/nonexistent"))
        .await
        .expect("open the migrated database");
    let (rows, _) = store
        .query_decisions(&Default::default(), 0, None)
        .await
        .expect("the decisions table exists");
    assert!(rows.is_empty());
}
