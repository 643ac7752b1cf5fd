//! Credentials from a Docker config file (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`), as `docker login` and `cosign login` write it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

use super::Credentials;
use crate::{Error, Result};

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
}

#[derive(Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    registrytoken: Option<String>,
}

/// The Docker config file that applies: `$DOCKER_CONFIG/config.json` or
/// `$HOME/.docker/config.json`.
pub fn default_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker/config.json"))
}

/// Reads the credentials of a Docker config file; a missing file means none.
/// Credential helpers (`credsStore`) are not run: Signet never executes programs named
/// by a config file.
pub fn load(path: &Path) -> Result<HashMap<String, Credentials>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(Error::Malformed(format!("{}: {e}", path.display()))),
    };
    parse(&text).map_err(|e| Error::Malformed(format!("{}: {e}", path.display())))
}

/// Reads the credentials of a Docker config file that must exist (one named on the
/// command line): a missing or unreadable file is an error.
pub fn read(path: &Path) -> Result<HashMap<String, Credentials>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Malformed(format!("{}: {e}", path.display())))?;
    parse(&text).map_err(|e| Error::Malformed(format!("{}: {e}", path.display())))
}

fn parse(text: &str) -> std::result::Result<HashMap<String, Credentials>, String> {
    let file: ConfigFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    for (key, entry) in file.auths {
        let host = host_of(&key);
        let creds = if let Some(token) = entry.registrytoken {
            Credentials::Bearer(token)
        } else if let (Some(username), Some(password)) = (entry.username, entry.password) {
            Credentials::Basic { username, password }
        } else if let Some(auth) = entry.auth.filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| format!("auths.{key:?}.auth is not base64"))?;
            let decoded = String::from_utf8(decoded)
                .map_err(|_| format!("auths.{key:?}.auth is not UTF-8"))?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or_else(|| format!("auths.{key:?}.auth is not user:password"))?;
            Credentials::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            }
        } else {
            continue;
        };
        out.insert(host, creds);
    }
    Ok(out)
}

/// `https://index.docker.io/v1/` → `docker.io`; `ghcr.io` → `ghcr.io`.
fn host_of(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = rest.split('/').next().unwrap_or(rest);
    match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_owned(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auth_username_password_and_tokens() {
        let text = r#"{"auths":{
            "https://index.docker.io/v1/":{"auth":"dXNlcjpwYTpzcw=="},
            "127.0.0.1:5000":{"username":"a","password":"b"},
            "ghcr.io":{"registrytoken":"t"},
            "empty.io":{}
        }}"#;
        let creds = parse(text).expect("valid");
        assert_eq!(
            creds.get("docker.io"),
            Some(&Credentials::Basic {
                username: "user".into(),
                password: "pa:ss".into()
            })
        );
        assert_eq!(
            creds.get("127.0.0.1:5000"),
            Some(&Credentials::Basic {
                username: "a".into(),
                password: "b".into()
            })
        );
        assert_eq!(creds.get("ghcr.io"), Some(&Credentials::Bearer("t".into())));
        assert!(!creds.contains_key("empty.io"));
    }

    #[test]
    fn bad_auth_is_an_error_and_debug_hides_secrets() {
        assert!(parse(r#"{"auths":{"x":{"auth":"!!"}}}"#).is_err());
        let c = Credentials::Basic {
            username: "u".into(),
            password: "secret".into(),
        };
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn missing_file_means_no_credentials() {
        let creds = load(Path::new("/nonexistent/signet/config.json")).expect("missing is fine");
        assert!(creds.is_empty());
        // Unless the file was asked for by name.
        let err = read(Path::new("/nonexistent/signet/config.json")).expect_err("missing");
        assert!(
            err.to_string()
                .starts_with("/nonexistent/signet/config.json: "),
            "{err}"
        );
    }
}
