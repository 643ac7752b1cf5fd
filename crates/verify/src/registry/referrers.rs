//! OCI 1.1 referrers of a manifest: the referrers API (`GET /v2/<repo>/referrers/<digest>`)
//! where the registry has it, else the referrers tag schema (an OCI image index under the
//! tag `sha256-<hex>`), as the distribution spec and go-containerregistry fall back.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, ACCEPT, LINK};
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use super::client::{header, read_limited, Access, Request};
use super::RegistryClient;
use crate::{Error, Result};

/// Media type of an OCI image index, the form referrers are listed in.
pub const OCI_INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// At most this many pages of a paginated referrers answer are read.
const MAX_PAGES: usize = 8;

/// One descriptor of a referrers list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Descriptor {
    /// `mediaType` of the referring manifest.
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    /// Its digest, `sha256:<hex>`.
    pub digest: String,
    /// Its size in bytes.
    #[serde(default)]
    pub size: u64,
    /// `artifactType`, when the list carries it.
    #[serde(rename = "artifactType", default)]
    pub artifact_type: Option<String>,
    /// `annotations`.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// Where a referrers list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersSource {
    /// The registry's referrers API.
    Api,
    /// The referrers tag schema (`sha256-<hex>`), for registries without the API.
    TagSchema,
}

/// The referrers of one manifest.
#[derive(Debug, Clone)]
pub struct Referrers {
    /// Every descriptor listed.
    pub descriptors: Vec<Descriptor>,
    /// How the list was obtained.
    pub source: ReferrersSource,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

/// `sha256:<hex>` → `sha256-<hex>`, the referrers tag schema's tag.
pub fn referrers_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1)
}

fn parse_index(bytes: &[u8], what: &str) -> Result<Vec<Descriptor>> {
    let index: Index = serde_json::from_slice(bytes)
        .map_err(|e| Error::Malformed(format!("{what} is not an OCI image index: {e}")))?;
    Ok(index.manifests)
}

/// The path of the next page from a `Link: <path>; rel="next"` header, when on this host.
fn next_page(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        if !params.replace(' ', "").contains("rel=\"next\"") {
            return None;
        }
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        target.starts_with("/v2/").then(|| target.to_owned())
    })
}

impl RegistryClient {
    /// The referrers of `digest` in `host/repository`: from the referrers API, or, when the
    /// registry answers 404 there (no API), from the referrers tag schema. No referrers at
    /// all is an empty list, never an error.
    pub async fn referrers(&self, host: &str, repository: &str, digest: &str) -> Result<Referrers> {
        if !crate::digest::is_sha256_digest(digest) {
            return Err(Error::Malformed(format!(
                "{digest:?} is not a sha256 digest: referrers are listed by digest"
            )));
        }
        let mut path = format!("/v2/{repository}/referrers/{digest}");
        let mut descriptors = Vec::new();
        for page in 0..MAX_PAGES {
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT, header(OCI_INDEX_MEDIA_TYPE));
            let req = Request {
                method: Method::GET,
                host,
                repository,
                path: path.clone(),
                headers,
                body: None,
                access: Access::Pull,
            };
            let resp = self.send(req).await?;
            let what = format!("referrers of {host}/{repository}@{digest}");
            match resp.status() {
                StatusCode::OK => {}
                // No referrers API: the distribution spec's fallback is the tag schema.
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED if page == 0 => {
                    return self.referrers_by_tag(host, repository, digest).await;
                }
                s => {
                    return Err(Error::Registry {
                        registry: host.to_owned(),
                        reason: format!("listing the {what}: HTTP {}", s.as_u16()),
                    })
                }
            }
            let next = next_page(resp.headers());
            let cfg = self.config();
            let bytes = read_limited(
                resp,
                host,
                cfg.max_manifest_bytes,
                &what,
                cfg.request_timeout,
            )
            .await?;
            descriptors.extend(parse_index(&bytes, &what)?);
            match next {
                Some(p) => path = p,
                None => {
                    return Ok(Referrers {
                        descriptors,
                        source: ReferrersSource::Api,
                    })
                }
            }
        }
        Err(Error::Malformed(format!(
            "referrers of {host}/{repository}@{digest}: more than {MAX_PAGES} pages"
        )))
    }

    /// The referrers tag schema: the OCI image index under `sha256-<hex>`.
    async fn referrers_by_tag(
        &self,
        host: &str,
        repository: &str,
        digest: &str,
    ) -> Result<Referrers> {
        let tag = referrers_tag(digest);
        let descriptors = match self.manifest(host, repository, &tag).await? {
            None => Vec::new(),
            Some(m) => {
                let what = format!("the referrers tag {host}/{repository}:{tag}");
                if !m.media_type.is_empty() && m.media_type != OCI_INDEX_MEDIA_TYPE {
                    return Err(Error::Malformed(format!(
                        "{what} holds a {}, not an OCI image index",
                        m.media_type
                    )));
                }
                parse_index(&m.bytes, &what)?
            }
        };
        Ok(Referrers {
            descriptors,
            source: ReferrersSource::TagSchema,
        })
    }
}
