//! `/v1/keys`, `/v1/trust-roots`, `/v1/registry-credentials`: the material policies name.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json as Out;
use serde::{Deserialize, Serialize};

use super::extract::{Caller, Json, Path, Query};
use super::AppState;
use crate::error::{ApiError, ErrorBody};

/// A named public key (PEM), as Kyverno reads one from a Secret.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    /// Namespace the policies name (`secret.namespace`).
    pub namespace: String,
    /// Name the policies name (`secret.name`).
    pub name: String,
    /// One or many PEM public keys.
    pub pem: String,
}

fn created(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// Store a public key under namespace/name.
#[utoipa::path(post, path = "/v1/keys", tag = "keys", request_body = KeyBody,
    responses((status = 201, body = KeyBody), (status = 200, body = KeyBody), (status = 400, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put(
    State(s): State<AppState>,
    Caller(c): Caller,
    Json(k): Json<KeyBody>,
) -> Result<(StatusCode, Out<KeyBody>), ApiError> {
    c.require_admin()?;
    let (_, was_created) = s.service.put_key(&k.namespace, &k.name, &k.pem).await?;
    Ok((created(was_created), Out(k)))
}

/// Every stored key.
#[utoipa::path(get, path = "/v1/keys", tag = "keys", responses((status = 200, body = Vec<KeyBody>)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> Result<Out<Vec<KeyBody>>, ApiError> {
    c.require_admin()?;
    let keys = s.service.store().list_keys().await?;
    Ok(Out(keys
        .into_iter()
        .map(|k| KeyBody {
            namespace: k.namespace,
            name: k.name,
            pem: k.pem,
        })
        .collect()))
}

/// One key.
#[utoipa::path(get, path = "/v1/keys/{namespace}/{name}", tag = "keys",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = KeyBody), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<Out<KeyBody>, ApiError> {
    c.require_admin()?;
    let k = s
        .service
        .store()
        .get_key(&namespace, &name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("key {namespace}/{name}")))?;
    Ok(Out(KeyBody {
        namespace: k.namespace,
        name: k.name,
        pem: k.pem,
    }))
}

/// Delete a key.
#[utoipa::path(delete, path = "/v1/keys/{namespace}/{name}", tag = "keys",
    params(("namespace" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path((namespace, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    c.require_admin()?;
    if !s.service.store().delete_key(&namespace, &name).await? {
        return Err(ApiError::NotFound(format!("key {namespace}/{name}")));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A named trust root.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrustRootBody {
    /// Name.
    pub name: String,
    /// A Sigstore `trusted_root.json` document.
    #[schema(value_type = Object)]
    pub trusted_root: serde_json::Value,
}

/// Store a trust root (Fulcio CAs, Rekor and CT log keys) from a `trusted_root.json`.
#[utoipa::path(post, path = "/v1/trust-roots", tag = "trust roots", request_body = TrustRootBody,
    responses((status = 201), (status = 200), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn put_root(
    State(s): State<AppState>,
    Caller(c): Caller,
    Json(r): Json<TrustRootBody>,
) -> Result<StatusCode, ApiError> {
    c.require_admin()?;
    let created_now = s
        .service
        .put_trust_root(&r.name, &r.trusted_root.to_string())
        .await?;
    Ok(created(created_now))
}

/// Every trust root.
#[utoipa::path(get, path = "/v1/trust-roots", tag = "trust roots", responses((status = 200, body = Vec<TrustRootBody>)), security(("bearer" = [])))]
pub async fn list_roots(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> Result<Out<Vec<TrustRootBody>>, ApiError> {
    c.require_admin()?;
    let roots = s.service.store().list_trust_roots().await?;
    Ok(Out(roots
        .into_iter()
        .map(|r| TrustRootBody {
            name: r.name,
            trusted_root: serde_json::from_str(&r.json).unwrap_or_default(),
        })
        .collect()))
}

/// One trust root.
#[utoipa::path(get, path = "/v1/trust-roots/{name}", tag = "trust roots", params(("name" = String, Path)),
    responses((status = 200, body = TrustRootBody), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_root(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(name): Path<String>,
) -> Result<Out<TrustRootBody>, ApiError> {
    c.require_admin()?;
    let r = s
        .service
        .store()
        .get_trust_root(&name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("trust root {name}")))?;
    Ok(Out(TrustRootBody {
        name: r.name,
        trusted_root: serde_json::from_str(&r.json).unwrap_or_default(),
    }))
}

/// Delete a trust root.
#[utoipa::path(delete, path = "/v1/trust-roots/{name}", tag = "trust roots", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_root(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    c.require_admin()?;
    s.service.delete_trust_root(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Registry credentials as sent; the password is sealed and never returned.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialBody {
    /// Registry host (`ghcr.io`, `registry.example.com:5000`).
    pub registry: String,
    /// User name.
    pub username: String,
    /// Password or token.
    pub password: String,
    /// The named set these credentials belong to: a name that policies write in
    /// `imageRegistryCredentials.secrets` (`regcred`, or `namespace/regcred`). Absent: the
    /// verifier's own credentials for the registry, used by rules that name no secrets.
    #[serde(default)]
    pub secret: Option<String>,
}

/// The password never reaches a log line, even through a `{:?}` of the body.
impl std::fmt::Debug for CredentialBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialBody")
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("secret", &self.secret)
            .finish()
    }
}

/// Stored credentials as listed: no secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialOut {
    /// Registry host.
    pub registry: String,
    /// User name.
    pub username: String,
    /// The named set they belong to; absent for the verifier's own credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Which credentials of a registry to delete.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CredentialQuery {
    /// The named set to delete the registry's credentials from; absent: the verifier's
    /// own credentials for the registry.
    pub secret: Option<String>,
}

/// Store credentials for a registry: the verifier's own, or (with `secret`) in a named
/// set that policies name in `imageRegistryCredentials.secrets`.
#[utoipa::path(post, path = "/v1/registry-credentials", tag = "registry credentials", request_body = CredentialBody,
    responses((status = 201, body = CredentialOut), (status = 200, body = CredentialOut), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
pub async fn put_credential(
    State(s): State<AppState>,
    Caller(c): Caller,
    Json(b): Json<CredentialBody>,
) -> Result<(StatusCode, Out<CredentialOut>), ApiError> {
    c.require_admin()?;
    let (service, password) = (&s.service, b.password.as_str());
    let was_created = match &b.secret {
        Some(set) => {
            service
                .put_named_credential(set, &b.registry, &b.username, password)
                .await?
        }
        None => {
            service
                .put_credential(&b.registry, &b.username, password)
                .await?
        }
    };
    Ok((
        created(was_created),
        Out(CredentialOut {
            registry: b.registry,
            username: b.username,
            secret: b.secret,
        }),
    ))
}

/// Stored credentials (registry, user and set only): the verifier's own, then those of
/// the named sets by set name.
#[utoipa::path(get, path = "/v1/registry-credentials", tag = "registry credentials",
    responses((status = 200, body = Vec<CredentialOut>)), security(("bearer" = [])))]
pub async fn list_credentials(
    State(s): State<AppState>,
    Caller(c): Caller,
) -> Result<Out<Vec<CredentialOut>>, ApiError> {
    c.require_admin()?;
    let store = s.service.store();
    let unnamed = store.list_credentials().await?.into_iter();
    let named = store.list_named_credentials().await?.into_iter();
    Ok(Out(unnamed
        .map(|c| CredentialOut {
            registry: c.registry,
            username: c.username,
            secret: None,
        })
        .chain(named.map(|c| CredentialOut {
            registry: c.registry,
            username: c.username,
            secret: Some(c.secret),
        }))
        .collect()))
}

/// Delete a registry's credentials: the verifier's own, or with `?secret=NAME` those in
/// that named set.
#[utoipa::path(delete, path = "/v1/registry-credentials/{registry}", tag = "registry credentials",
    params(("registry" = String, Path), CredentialQuery), responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn delete_credential(
    State(s): State<AppState>,
    Caller(c): Caller,
    Path(registry): Path<String>,
    Query(q): Query<CredentialQuery>,
) -> Result<StatusCode, ApiError> {
    c.require_admin()?;
    match &q.secret {
        Some(set) => s.service.delete_named_credential(set, &registry).await?,
        None => s.service.delete_credential(&registry).await?,
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_password_is_not_in_debug_output() {
        let body = super::CredentialBody {
            registry: "ghcr.io".into(),
            username: "bot".into(),
            password: "hunter2-secret".into(),
            secret: Some("regcred".into()),
        };
        let shown = format!("{body:?}");
        assert!(
            shown.contains("ghcr.io") && shown.contains("bot") && shown.contains("regcred"),
            "{shown}"
        );
        assert!(!shown.contains("hunter2-secret"), "{shown}");
    }
}
