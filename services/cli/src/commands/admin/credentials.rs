//! `signet registry-credentials create | list | delete`: the verifier's registry
//! credentials, its own or in named sets (`imageRegistryCredentials.secrets`).

use std::io::{IsTerminal, Read};

use anyhow::Context;
use reqwest::Method;
use serde_json::json;
use zeroize::Zeroizing;

use super::client::{Body, Client};
use super::resources::{s, table, urlencode};
use crate::cli::RegistryCredentialsCommand;

/// Runs one `signet registry-credentials` command.
pub async fn registry_credentials(
    c: &Client,
    command: RegistryCredentialsCommand,
) -> anyhow::Result<()> {
    match command {
        RegistryCredentialsCommand::Create {
            registry,
            username,
            password_stdin,
            secret,
        } => create(c, &registry, &username, password_stdin, secret.as_deref()).await,
        RegistryCredentialsCommand::List => list(c).await,
        RegistryCredentialsCommand::Delete { registry, secret } => {
            delete(c, &registry, secret.as_deref()).await
        }
    }
}

/// Where credentials are kept, for messages.
fn place(registry: &str, secret: Option<&str>) -> String {
    match secret {
        Some(set) => format!("registry credentials for {registry} in secret {set}"),
        None => format!("registry credentials for {registry}"),
    }
}

async fn create(
    c: &Client,
    registry: &str,
    username: &str,
    password_stdin: bool,
    secret: Option<&str>,
) -> anyhow::Result<()> {
    let password = password(password_stdin)?;
    let mut body = json!({"registry": registry, "username": username, "password": *password});
    if let Some(set) = secret {
        body["secret"] = json!(set);
    }
    c.call(
        Method::POST,
        "/v1/registry-credentials",
        Some(Body::Json(body)),
    )
    .await?;
    println!("{} stored", place(registry, secret));
    Ok(())
}

/// The password: standard input with `--password-stdin` (one trailing newline dropped,
/// as `docker login --password-stdin` does), else a prompt on the terminal.
fn password(from_stdin: bool) -> anyhow::Result<Zeroizing<String>> {
    let password = if from_stdin {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from standard input")?;
        let trimmed = text.strip_suffix('\n').unwrap_or(&text);
        Zeroizing::new(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
    } else {
        anyhow::ensure!(
            std::io::stdin().is_terminal(),
            "pass --password-stdin and the password on standard input (no terminal to ask on)"
        );
        Zeroizing::new(rpassword::prompt_password("Password: ")?)
    };
    anyhow::ensure!(!password.is_empty(), "the password is empty");
    Ok(password)
}

async fn list(c: &Client) -> anyhow::Result<()> {
    let (_, v) = c
        .call(Method::GET, "/v1/registry-credentials", None)
        .await?;
    let rows: Vec<Vec<String>> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| vec![s(&c["secret"]), s(&c["registry"]), s(&c["username"])])
        .collect();
    table(&["SECRET", "REGISTRY", "USERNAME"], &rows);
    Ok(())
}

async fn delete(c: &Client, registry: &str, secret: Option<&str>) -> anyhow::Result<()> {
    let mut path = format!("/v1/registry-credentials/{}", urlencode(registry));
    if let Some(set) = secret {
        path.push_str(&format!("?secret={}", urlencode(set)));
    }
    c.call(Method::DELETE, &path, None).await?;
    println!("{} deleted", place(registry, secret));
    Ok(())
}
