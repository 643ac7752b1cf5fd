//! A small REST client: server URL and token from flags, the environment, or `signet login`.

use anyhow::Context;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::login;

/// A verifier's REST API.
#[derive(Debug)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    /// Resolves server and token: explicit flags/env first, then the stored login.
    pub fn new(server: Option<&str>, token: Option<&str>) -> anyhow::Result<Self> {
        let stored = login::load().ok();
        let base = server
            .map(str::to_owned)
            .or_else(|| stored.as_ref().map(|s| s.server.clone()))
            .context("no verifier: pass --server, set SIGNET_SERVER, or run `signet login`")?;
        let token = token
            .map(str::to_owned)
            .or_else(|| stored.as_ref().map(|s| s.token.clone()))
            .context("no token: pass --token, set SIGNET_TOKEN, or run `signet login`")?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()?;
        Ok(Client {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    /// Sends a request and returns the JSON answer (or `Null` for an empty body); an error
    /// answer becomes an error carrying the server's message and details.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        match body {
            Some(Body::Json(v)) => req = req.json(&v),
            Some(Body::Text(t)) => req = req.header("content-type", "application/yaml").body(t),
            None => {}
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = resp.status();
        let text = resp.text().await?;
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if !status.is_success() {
            let message = value["message"].as_str().unwrap_or("request failed");
            let details: Vec<&str> = value["details"]
                .as_array()
                .map(|d| d.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut msg = format!("{} ({})", message, status.as_u16());
            for d in details {
                msg.push_str("\n  ");
                msg.push_str(d);
            }
            anyhow::bail!(msg);
        }
        Ok((status, value))
    }
}

/// A request body.
#[derive(Debug)]
pub enum Body {
    /// JSON.
    Json(Value),
    /// YAML or JSON text (policy documents).
    Text(String),
}
