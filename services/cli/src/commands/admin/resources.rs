//! The administration commands.

use std::path::Path;

use anyhow::Context;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::client::{Body, Client};

/// Splits a YAML file into documents (JSON files are one document).
fn documents(text: &str) -> Vec<String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    docs.push(current);
    docs.into_iter()
        .filter(|d| {
            d.lines()
                .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .collect()
}

/// `signet policy apply -f FILE`
pub async fn apply(c: &Client, file: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    for (i, doc) in documents(&text).into_iter().enumerate() {
        let (status, v) = c
            .call(Method::POST, "/v1/policies", Some(Body::Text(doc)))
            .await
            .with_context(|| format!("{}: document {}", file.display(), i + 1))?;
        let verb = if status == StatusCode::CREATED {
            "created"
        } else {
            "configured"
        };
        println!(
            "policy {} {verb} (version {})",
            v["name"].as_str().unwrap_or("?"),
            v["version"]
        );
        for warning in v["warnings"].as_array().into_iter().flatten() {
            eprintln!("warning: {}", warning.as_str().unwrap_or_default());
        }
    }
    Ok(())
}

/// `signet policy get NAME`
pub async fn get_policy(c: &Client, name: &str) -> anyhow::Result<()> {
    let (_, v) = c
        .call(Method::GET, &format!("/v1/policies/{name}"), None)
        .await?;
    print!("{}", v["document"].as_str().unwrap_or_default());
    Ok(())
}

/// `signet policy list`
pub async fn list_policies(c: &Client) -> anyhow::Result<()> {
    let (_, v) = c.call(Method::GET, "/v1/policies", None).await?;
    let rows: Vec<Vec<String>> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            vec![
                s(&p["name"]),
                s(&p["kind"]),
                s(&p["validationFailureAction"]),
                p["version"].to_string(),
                p["rules"]
                    .as_array()
                    .map(|r| r.len())
                    .unwrap_or(0)
                    .to_string(),
            ]
        })
        .collect();
    table(&["NAME", "KIND", "ACTION", "VERSION", "RULES"], &rows);
    Ok(())
}

/// `signet policy delete NAME`
pub async fn delete_policy(c: &Client, name: &str) -> anyhow::Result<()> {
    c.call(Method::DELETE, &format!("/v1/policies/{name}"), None)
        .await?;
    println!("policy {name} deleted");
    Ok(())
}

/// `signet key create NAME -n NAMESPACE --from-file PEM`
pub async fn key_create(
    c: &Client,
    name: &str,
    namespace: &str,
    file: &Path,
) -> anyhow::Result<()> {
    let pem =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    c.call(
        Method::POST,
        "/v1/keys",
        Some(Body::Json(
            json!({"namespace": namespace, "name": name, "pem": pem}),
        )),
    )
    .await?;
    println!("key {namespace}/{name} stored");
    Ok(())
}

/// `signet cluster register NAME [--label k=v]…`: the token alone on the last line.
pub async fn cluster_register(c: &Client, name: &str, labels: &[String]) -> anyhow::Result<()> {
    let mut map = serde_json::Map::new();
    for l in labels {
        let (k, v) = l
            .split_once('=')
            .with_context(|| format!("--label {l:?} is not KEY=VALUE"))?;
        map.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    let (_, v) = c
        .call(
            Method::POST,
            "/v1/clusters",
            Some(Body::Json(json!({"name": name, "labels": map}))),
        )
        .await?;
    println!("cluster {name} registered; its relay's token (shown once):");
    println!("{}", s(&v["token"]["token"]));
    Ok(())
}

/// `signet cluster list`
pub async fn cluster_list(c: &Client) -> anyhow::Result<()> {
    let (_, v) = c.call(Method::GET, "/v1/clusters", None).await?;
    let rows: Vec<Vec<String>> = v
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            vec![
                s(&c["name"]),
                c["labels"].to_string(),
                c["lastSeen"].to_string(),
            ]
        })
        .collect();
    table(&["NAME", "LABELS", "LAST SEEN (ms)"], &rows);
    Ok(())
}

/// `signet token revoke ID`
pub async fn revoke(c: &Client, id: &str) -> anyhow::Result<()> {
    c.call(Method::DELETE, &format!("/v1/tokens/{id}"), None)
        .await?;
    println!("token {id} revoked");
    Ok(())
}

/// A JSON value as table text: strings bare, null empty.
pub(super) fn s(v: &Value) -> String {
    v.as_str().map(str::to_owned).unwrap_or_else(|| {
        if v.is_null() {
            String::new()
        } else {
            v.to_string()
        }
    })
}

/// Percent-encodes a query parameter value.
pub(super) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Prints rows under a header, columns padded to their widest cell.
pub(super) fn table(header: &[&str], rows: &[Vec<String>]) {
    let cols = header.len();
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].len())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == cols {
                    (*c).to_owned()
                } else {
                    format!("{c:w$}", w = widths[i])
                }
            })
            .collect();
        println!("{}", parts.join("  "));
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}
