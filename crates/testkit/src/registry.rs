//! A real CNCF Distribution registry (`docker-registry serve`) in a temporary folder.

use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use base64::Engine as _;
use serde_json::json;
use tempfile::TempDir;

/// User agent of the readiness probes; their lines are left out of [`Registry::requests`].
const PROBE_USER_AGENT: &str = "signet-testkit-probe";
/// User agent of the testkit's own requests (image pushes).
pub(crate) const USER_AGENT: &str = "signet-testkit";
const START_TIMEOUT: Duration = Duration::from_secs(20);
const START_ATTEMPTS: usize = 5;

/// How to run a test registry. The default is plain HTTP without authentication.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Serve HTTPS with a certificate issued by a fresh test CA
    /// ([`Registry::ca_cert_pem_path`]).
    pub tls: bool,
    /// Require HTTP basic authentication (htpasswd, bcrypt) with this user and password.
    pub basic_auth: Option<(String, String)>,
}

impl RegistryOptions {
    /// HTTPS with a test CA, no authentication.
    pub fn tls() -> Self {
        Self {
            tls: true,
            basic_auth: None,
        }
    }

    /// Plain HTTP with basic authentication.
    pub fn basic_auth(user: &str, password: &str) -> Self {
        Self {
            tls: false,
            basic_auth: Some((user.to_owned(), password.to_owned())),
        }
    }
}

/// The registry's garbage-collector target unless the environment sets `GOGC` (see
/// [`Registry::launch`]).
const REGISTRY_GOGC: &str = "400";

/// One line of the registry's access log: a request it served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// `GET`, `HEAD`, `PUT`, …
    pub method: String,
    /// The request path without its query, e.g. `/v2/app/manifests/sha256-….sig`.
    pub path: String,
    /// The query string (without `?`), when the request had one.
    pub query: Option<String>,
    /// The HTTP status the registry answered with.
    pub status: u16,
    /// The client's User-Agent header (empty when it sent none).
    pub user_agent: String,
}

/// A running `docker-registry` on `127.0.0.1:<free port>`, killed on drop.
#[derive(Debug)]
pub struct Registry {
    dir: TempDir,
    binary: PathBuf,
    port: u16,
    tls: bool,
    basic_auth: Option<(String, String)>,
    ca_cert: Option<PathBuf>,
    /// DOCKER_CONFIG folder: credentials for this registry, or an empty config.
    docker_config: PathBuf,
    child: Option<Child>,
}

impl Registry {
    /// Starts a plain-HTTP registry without authentication.
    pub async fn start() -> anyhow::Result<Registry> {
        Self::start_with(RegistryOptions::default()).await
    }

    /// Starts a registry as `opts` say.
    pub async fn start_with(opts: RegistryOptions) -> anyhow::Result<Registry> {
        let binary = registry_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("signet-registry-")
            .tempdir()
            .context("creating the registry's temporary folder")?;
        fs::create_dir_all(dir.path().join("storage"))?;
        let docker_config = dir.path().join("docker");
        fs::create_dir_all(&docker_config)?;

        let ca_cert = if opts.tls {
            let pki = crate::ca::generate()?;
            let certs = dir.path().join("certs");
            fs::create_dir_all(&certs)?;
            fs::write(certs.join("ca.pem"), &pki.ca_cert_pem)?;
            fs::write(certs.join("server.pem"), &pki.server_cert_pem)?;
            fs::write(certs.join("server.key"), &pki.server_key_pem)?;
            Some(certs.join("ca.pem"))
        } else {
            None
        };
        if let Some((user, password)) = &opts.basic_auth {
            write_htpasswd(&dir.path().join("htpasswd"), user, password)?;
        }

        let mut registry = Registry {
            dir,
            binary,
            port: 0,
            tls: opts.tls,
            basic_auth: opts.basic_auth,
            ca_cert,
            docker_config,
            child: None,
        };
        // The free port is only known free until it is released for the registry to bind:
        // another process may take it in between, so a start that loses that race retries.
        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            registry.port = free_port()?;
            registry.write_config()?;
            match registry.launch().await {
                Ok(()) => return Ok(registry),
                Err(StartError::AddressInUse(message)) => {
                    registry.stop();
                    last_error = Some(anyhow!(message));
                }
                Err(StartError::Other(error)) => {
                    registry.stop();
                    return Err(error);
                }
            }
        }
        Err(last_error
            .unwrap_or_else(|| anyhow!("no attempt made"))
            .context(format!(
                "docker-registry found no free port in {START_ATTEMPTS} attempts"
            )))
    }

    /// `127.0.0.1:PORT`, the registry part of image references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The port the registry listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.host())
    }

    /// Whether the registry serves HTTPS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// `HOST/REPOSITORY@sha256:…` for a digest, `HOST/REPOSITORY:TAG` otherwise.
    pub fn reference(&self, repository: &str, tag_or_digest: &str) -> String {
        if tag_or_digest.contains(':') {
            format!("{}/{repository}@{tag_or_digest}", self.host())
        } else {
            format!("{}/{repository}:{tag_or_digest}", self.host())
        }
    }

    /// The test CA's certificate (PEM) when the registry serves HTTPS.
    pub fn ca_cert_pem_path(&self) -> Option<&Path> {
        self.ca_cert.as_deref()
    }

    /// The user and password the registry requires, if any.
    pub fn basic_auth(&self) -> Option<(&str, &str)> {
        self.basic_auth
            .as_ref()
            .map(|(user, password)| (user.as_str(), password.as_str()))
    }

    /// A `DOCKER_CONFIG` folder whose `config.json` holds this registry's credentials,
    /// when it requires authentication.
    pub fn docker_config_dir(&self) -> Option<&Path> {
        self.basic_auth
            .as_ref()
            .map(|_| self.docker_config.as_path())
    }

    /// The `DOCKER_CONFIG` folder for clients of this registry: credentials when it needs
    /// them, otherwise an empty config (keeps the user's own Docker config out of tests).
    pub(crate) fn client_docker_config(&self) -> &Path {
        &self.docker_config
    }

    /// The registry's filesystem storage root.
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The registry's temporary folder (config, logs, storage, certificates).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An HTTP client that trusts the registry's test CA (no credentials: see
    /// [`Registry::authorize`]).
    pub fn http_client(&self) -> anyhow::Result<reqwest::Client> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .user_agent(USER_AGENT)
            .timeout(Duration::from_secs(30));
        if let Some(ca) = &self.ca_cert {
            let pem = fs::read(ca)?;
            builder = builder.add_root_certificate(reqwest::Certificate::from_pem(&pem)?);
        }
        Ok(builder.build()?)
    }

    /// Adds the registry's basic-auth credentials to a request, when it has any.
    pub fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.basic_auth {
            Some((user, password)) => request.basic_auth(user, Some(password)),
            None => request,
        }
    }

    /// Every request the registry served so far (across restarts), oldest first, parsed
    /// from its access log. The testkit's readiness probes are left out.
    ///
    /// A line is written when the registry finishes a request, so a client may see the
    /// response a moment before its line exists: see [`Registry::wait_for_request`].
    pub fn requests(&self) -> Vec<LoggedRequest> {
        let bytes = fs::read(self.access_log()).unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(parse_access_line)
            .filter(|request| !request.user_agent.starts_with(PROBE_USER_AGENT))
            .collect()
    }

    /// Waits until the access log has a request that satisfies `matches`.
    pub async fn wait_for_request(
        &self,
        matches: impl Fn(&LoggedRequest) -> bool,
        timeout: Duration,
    ) -> anyhow::Result<LoggedRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = self.requests().into_iter().find(|r| matches(r)) {
                return Ok(found);
            }
            if Instant::now() >= deadline {
                bail!(
                    "no matching request in the access log after {timeout:?}; served: {:#?}",
                    self.requests()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The registry's own log (stderr, JSON lines), for diagnostics.
    pub fn error_log(&self) -> String {
        String::from_utf8_lossy(&fs::read(self.error_log_path()).unwrap_or_default()).into_owned()
    }

    /// Whether the registry process is running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Kills the registry process; storage, port and logs are kept for [`Registry::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the registry again on the same port with the same storage.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.launch().await {
                Ok(()) => return Ok(()),
                // The port may still be held for a moment; anyone else holding it is fatal.
                Err(StartError::AddressInUse(message)) => {
                    self.stop();
                    if Instant::now() >= deadline {
                        bail!("restarting the registry on port {}: {message}", self.port);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(StartError::Other(error)) => {
                    self.stop();
                    return Err(error);
                }
            }
        }
    }

    fn access_log(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }

    fn error_log_path(&self) -> PathBuf {
        self.dir.path().join("registry.log")
    }

    fn write_config(&self) -> anyhow::Result<()> {
        let dir = self.dir.path();
        let mut http = json!({
            "addr": self.host(),
            "secret": hex::encode(rand::random::<[u8; 16]>()),
        });
        if self.tls {
            http["tls"] = json!({
                "certificate": dir.join("certs/server.pem"),
                "key": dir.join("certs/server.key"),
            });
        }
        let mut config = json!({
            "version": "0.1",
            // One Apache combined-format line per request on stdout; JSON app logs on stderr.
            "log": { "level": "info", "formatter": "json", "accesslog": { "disabled": false } },
            "storage": {
                "filesystem": { "rootdirectory": dir.join("storage") },
                "delete": { "enabled": true },
                "maintenance": { "uploadpurging": { "enabled": false } },
            },
            "http": http,
        });
        if self.basic_auth.is_some() {
            config["auth"] = json!({
                "htpasswd": { "realm": "signet-test", "path": dir.join("htpasswd") },
            });
        }
        // YAML is a superset of JSON: the registry reads this as its YAML config.
        fs::write(dir.join("config.yml"), serde_json::to_vec_pretty(&config)?)?;

        let auths = match &self.basic_auth {
            Some((user, password)) => {
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                json!({ (self.host()): { "auth": token } })
            }
            None => json!({}),
        };
        fs::write(
            self.docker_config.join("config.json"),
            serde_json::to_vec_pretty(&json!({ "auths": auths }))?,
        )?;
        Ok(())
    }

    /// Spawns the process and waits until it answers on its port.
    async fn launch(&mut self) -> Result<(), StartError> {
        let error_log_offset = file_len(&self.error_log_path());
        let access_log_offset = file_len(&self.access_log());
        let open_log = |path: PathBuf| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("opening {}", path.display()))
        };
        let stdout = open_log(self.access_log())?;
        let stderr = open_log(self.error_log_path())?;
        let mut command = Command::new(&self.binary);
        command
            .arg("serve")
            .arg(self.dir.path().join("config.yml"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        // REGISTRY_* variables override the config file.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("REGISTRY_") {
                command.env_remove(&name);
            }
        }
        // Debian's build allocates about 0.5 MB per request, even for `GET /v2/`, so at Go's
        // default (GOGC=100, a 4 MB heap goal) it collects every few requests and spends
        // ~2 ms of CPU per request, half of it in the collector, on the two cores the tests
        // share with it. A quarter as many collections nearly halve that (2.1 → 1.2 ms per
        // `GET /v2/` here) and keep its heap under 40 MB. An explicit GOGC wins.
        if std::env::var_os("GOGC").is_none() {
            command.env("GOGC", REGISTRY_GOGC);
        }
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        self.child = Some(child);

        let client = self.http_client()?;
        let probe_url = format!("{}/v2/", self.base_url());
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = &mut self.child {
                if let Some(status) = child.try_wait().context("waiting for docker-registry")? {
                    let log = read_from(&self.error_log_path(), error_log_offset);
                    let message = format!("docker-registry exited with {status}: {log}");
                    return Err(if log.contains("address already in use") {
                        StartError::AddressInUse(message)
                    } else {
                        StartError::Other(anyhow!(message))
                    });
                }
            }
            let probe = client
                .get(&probe_url)
                .header(reqwest::header::USER_AGENT, PROBE_USER_AGENT)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            // Any answer will do (200, or 401 with auth), as long as it was this process
            // that logged it, not another server that took the port.
            if probe.is_ok()
                && read_from(&self.access_log(), access_log_offset).contains(PROBE_USER_AGENT)
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StartError::Other(anyhow!(
                    "docker-registry did not answer on {probe_url} within {START_TIMEOUT:?} \
                     (last probe: {probe:?}); its log: {}",
                    read_from(&self.error_log_path(), error_log_offset)
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Debug)]
enum StartError {
    AddressInUse(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for StartError {
    fn from(error: anyhow::Error) -> Self {
        StartError::Other(error)
    }
}

fn registry_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("DOCKER_REGISTRY_BIN").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    crate::cosign::find_on_path(OsStr::new("docker-registry")).ok_or_else(|| {
        anyhow!(
            "docker-registry not found on PATH (or $DOCKER_REGISTRY_BIN): \
             run scripts/install-test-tools.sh"
        )
    })
}

fn write_htpasswd(path: &Path, user: &str, password: &str) -> anyhow::Result<()> {
    let htpasswd = std::env::var_os("HTPASSWD_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| crate::cosign::find_on_path(OsStr::new("htpasswd")))
        .ok_or_else(|| {
            anyhow!("htpasswd not found on PATH: run scripts/install-test-tools.sh (apache2-utils)")
        })?;
    // bcrypt at the lowest cost: the registry checks the hash on every request.
    let output = Command::new(&htpasswd)
        .args(["-n", "-b", "-B", "-C", "4", user, password])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", htpasswd.display()))?;
    crate::cosign::ensure_success(&output, "htpasswd")?;
    fs::write(path, &output.stdout)?;
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn read_from(path: &Path, offset: u64) -> String {
    let bytes = fs::read(path).unwrap_or_default();
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// Parses one Apache combined-format line, as the registry's access log writes them:
/// `127.0.0.1 - - [27/Nov/2026:04:36:30 +0000] "GET /v2/ HTTP/1.1" 200 2 "" "curl/7.88.1"`.
fn parse_access_line(line: &str) -> Option<LoggedRequest> {
    let (_, rest) = line.split_once("] \"")?;
    let (request_line, rest) = rest.split_once("\" ")?;
    let mut parts = request_line.split(' ');
    let method = parts.next()?.to_owned();
    let uri = parts.next()?;
    let mut fields = rest.split(' ');
    let status = fields.next()?.parse().ok()?;
    let (path, query) = match uri.split_once('?') {
        Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
        None => (uri.to_owned(), None),
    };
    // The last quoted field is the user agent; quotes inside it are escaped as \".
    let user_agent = rest
        .trim_end()
        .strip_suffix('"')
        .and_then(|s| {
            s.char_indices()
                .rev()
                .find(|&(i, c)| c == '"' && !s[..i].ends_with('\\'))
                .map(|(i, _)| s[i + 1..].to_owned())
        })
        .unwrap_or_default();
    Some(LoggedRequest {
        method,
        path,
        query,
        status,
        user_agent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_combined_log_lines() {
        let line = r#"127.0.0.1 - - [27/Nov/2026:04:36:30 +0000] "GET /v2/app/manifests/sha256-abc.sig HTTP/1.1" 404 104 "" "cosign/devel (linux; amd64) go-containerregistry""#;
        assert_eq!(
            parse_access_line(line),
            Some(LoggedRequest {
                method: "GET".into(),
                path: "/v2/app/manifests/sha256-abc.sig".into(),
                query: None,
                status: 404,
                user_agent: "cosign/devel (linux; amd64) go-containerregistry".into(),
            })
        );
        let line = r#"127.0.0.1 - - [27/Nov/2026:04:37:37 +0000] "PUT /v2/app/blobs/uploads/1f?_state=x&digest=sha256%3Aab HTTP/2.0" 201 0 "" "signet-testkit""#;
        let request = parse_access_line(line).expect("parses");
        assert_eq!(request.method, "PUT");
        assert_eq!(request.path, "/v2/app/blobs/uploads/1f");
        assert_eq!(
            request.query.as_deref(),
            Some("_state=x&digest=sha256%3Aab")
        );
        assert_eq!(request.status, 201);
        assert_eq!(request.user_agent, "signet-testkit");
        assert_eq!(parse_access_line("not a log line"), None);
    }
}
