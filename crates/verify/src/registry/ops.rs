//! Registry operations: resolve a tag, read manifests and blobs (bounded, digest-checked),
//! push blobs and manifests.

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};

use super::client::{header, read_limited, Access, Request};
use super::RegistryClient;
use crate::digest::sha256_digest;
use crate::{Error, Result};

/// Manifest media types Signet reads: OCI and Docker, images and indexes.
pub const MANIFEST_MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// `Accept` of manifest requests: `MANIFEST_MEDIA_TYPES` joined, as one static value.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// A manifest as served, with the digest of its bytes.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The raw bytes (their digest is `digest`).
    pub bytes: Bytes,
    /// `Content-Type` as served.
    pub media_type: String,
    /// `sha256:<hex>` of `bytes`.
    pub digest: String,
}

impl RegistryClient {
    fn request<'a>(
        &self,
        method: Method,
        host: &'a str,
        repository: &'a str,
        path: String,
        access: Access,
    ) -> Request<'a> {
        Request {
            method,
            host,
            repository,
            path,
            headers: HeaderMap::new(),
            body: None,
            access,
        }
    }

    fn status_error(&self, host: &str, what: &str, status: StatusCode) -> Error {
        Error::Registry {
            registry: host.to_owned(),
            reason: format!("{what}: HTTP {}", status.as_u16()),
        }
    }

    /// Resolves a tag to the digest of its manifest. `HEAD` first; when the registry
    /// gives no `Docker-Content-Digest`, the manifest is fetched and hashed.
    pub async fn resolve_digest(&self, host: &str, repository: &str, tag: &str) -> Result<String> {
        let mut req = self.request(
            Method::HEAD,
            host,
            repository,
            format!("/v2/{repository}/manifests/{tag}"),
            Access::Pull,
        );
        req.headers
            .insert(ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
        let resp = self.send(req).await?;
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                return Err(Error::NotFound(format!("image {host}/{repository}:{tag}")))
            }
            s => return Err(self.status_error(host, "resolving the tag", s)),
        }
        let claimed = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .filter(|d| d.starts_with("sha256:") && d.len() == 71)
            .map(str::to_owned);
        if let Some(digest) = claimed {
            return Ok(digest);
        }
        let manifest = self
            .manifest(host, repository, tag)
            .await?
            .ok_or_else(|| Error::NotFound(format!("image {host}/{repository}:{tag}")))?;
        Ok(manifest.digest)
    }

    /// Fetches a manifest by tag or digest; `None` when the registry has none.
    /// By digest, the bytes must hash to that digest; by tag, to the digest the registry
    /// claims, when it claims one.
    pub async fn manifest(
        &self,
        host: &str,
        repository: &str,
        reference: &str,
    ) -> Result<Option<Manifest>> {
        let mut req = self.request(
            Method::GET,
            host,
            repository,
            format!("/v2/{repository}/manifests/{reference}"),
            Access::Pull,
        );
        req.headers
            .insert(ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
        let resp = self.send(req).await?;
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            s => return Err(self.status_error(host, "fetching a manifest", s)),
        }
        let media_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let claimed = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let what = if reference.contains(':') {
            format!("manifest {host}/{repository}@{reference}")
        } else {
            format!("manifest {host}/{repository}:{reference}")
        };
        let cfg = self.config();
        let bytes = read_limited(
            resp,
            host,
            cfg.max_manifest_bytes,
            &what,
            cfg.request_timeout,
        )
        .await?;
        let digest = sha256_digest(&bytes);
        let expected = if reference.contains(':') {
            Some(reference.to_owned())
        } else {
            claimed.filter(|c| c.starts_with("sha256:"))
        };
        if let Some(expected) = expected {
            if expected != digest {
                return Err(Error::DigestMismatch {
                    what,
                    expected,
                    actual: digest,
                });
            }
        }
        Ok(Some(Manifest {
            bytes,
            media_type,
            digest,
        }))
    }

    /// Fetches a blob, bounded by the configured limit, and checks its digest.
    pub async fn blob(&self, host: &str, repository: &str, digest: &str) -> Result<Bytes> {
        let req = self.request(
            Method::GET,
            host,
            repository,
            format!("/v2/{repository}/blobs/{digest}"),
            Access::Pull,
        );
        let resp = self.send(req).await?;
        let what = format!("blob {host}/{repository}@{digest}");
        if resp.status() != StatusCode::OK {
            return Err(self.status_error(host, &what, resp.status()));
        }
        let cfg = self.config();
        let bytes =
            read_limited(resp, host, cfg.max_blob_bytes, &what, cfg.request_timeout).await?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(Error::DigestMismatch {
                what,
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Uploads a blob (monolithic POST + PUT) unless the registry has it; returns its digest.
    pub async fn push_blob(&self, host: &str, repository: &str, data: Bytes) -> Result<String> {
        let digest = sha256_digest(&data);
        let head = self.request(
            Method::HEAD,
            host,
            repository,
            format!("/v2/{repository}/blobs/{digest}"),
            Access::Push,
        );
        if self.send(head).await?.status() == StatusCode::OK {
            return Ok(digest);
        }
        let start = self.request(
            Method::POST,
            host,
            repository,
            format!("/v2/{repository}/blobs/uploads/"),
            Access::Push,
        );
        let resp = self.send(start).await?;
        if resp.status() != StatusCode::ACCEPTED {
            return Err(self.status_error(host, "starting a blob upload", resp.status()));
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::Malformed(format!("{host}: blob upload without a Location")))?;
        // The location may be absolute, a path, or relative to the upload endpoint; only
        // its path and query are kept, so the upload goes to the same host and transport
        // as everything else. The digest joins whatever query the registry put there.
        let upload_base = format!("http://registry.invalid/v2/{repository}/blobs/uploads/");
        let mut url = reqwest::Url::parse(&upload_base)
            .and_then(|base| base.join(location))
            .map_err(|_| {
                Error::Malformed(format!(
                    "{host}: blob upload Location {location:?} is not a URL"
                ))
            })?;
        url.query_pairs_mut().append_pair("digest", &digest);
        let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
        let mut put = self.request(Method::PUT, host, repository, path, Access::Push);
        put.headers
            .insert(CONTENT_TYPE, header("application/octet-stream"));
        put.body = Some(data);
        let resp = self.send(put).await?;
        if resp.status() != StatusCode::CREATED {
            return Err(self.status_error(host, "uploading a blob", resp.status()));
        }
        Ok(digest)
    }

    /// Stores a manifest under a tag (or its digest); returns the manifest's digest.
    pub async fn push_manifest(
        &self,
        host: &str,
        repository: &str,
        reference: &str,
        media_type: &str,
        data: Bytes,
    ) -> Result<String> {
        let digest = sha256_digest(&data);
        let mut put = self.request(
            Method::PUT,
            host,
            repository,
            format!("/v2/{repository}/manifests/{reference}"),
            Access::Push,
        );
        put.headers.insert(CONTENT_TYPE, header(media_type));
        put.body = Some(data);
        let resp = self.send(put).await?;
        if resp.status() != StatusCode::CREATED {
            return Err(self.status_error(host, "storing a manifest", resp.status()));
        }
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_accept_lists_every_media_type() {
        assert_eq!(MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES.join(", "));
    }
}
