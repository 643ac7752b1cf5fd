//! cosign's simple signing payload ("cosign container image signature"), the bytes a
//! `.sig` layer holds and its signature covers. The format is sigstore/sigstore's
//! `pkg/signature/payload` `Cosign.MarshalJSON`: Go's `json.Marshal` of
//! `{critical: {identity: {docker-reference}, image: {docker-manifest-digest}, type},
//! optional}`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::gojson;
use crate::{Error, Result};

/// The value of `critical.type` in a cosign signature payload.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// A simple signing payload.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference`: the repository the signer named (cosign writes
    /// the repository, e.g. `registry.example/app`, or the `--sign-container-identity`).
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`: `sha256:<hex>` of the signed manifest.
    pub manifest_digest: String,
    /// The `optional` map (cosign's `-a key=value` annotations); empty when `null`.
    pub annotations: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
struct Raw {
    critical: RawCritical,
    #[serde(default)]
    optional: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct RawCritical {
    #[serde(default)]
    identity: RawIdentity,
    #[serde(default)]
    image: RawImage,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize, Default)]
struct RawIdentity {
    #[serde(rename = "docker-reference", default)]
    docker_reference: String,
}

#[derive(Deserialize, Default)]
struct RawImage {
    #[serde(rename = "docker-manifest-digest", default)]
    docker_manifest_digest: String,
}

/// Whether `digest` is what go-containerregistry accepts in a digest reference, which
/// cosign requires of the payload: `sha256:` and 64 lowercase hex digits.
pub(crate) fn is_sha256_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

impl SimpleSigning {
    /// A payload for `docker_reference` (a repository) and `manifest_digest`, without
    /// annotations.
    pub fn new(docker_reference: impl Into<String>, manifest_digest: impl Into<String>) -> Self {
        SimpleSigning {
            docker_reference: docker_reference.into(),
            manifest_digest: manifest_digest.into(),
            annotations: BTreeMap::new(),
        }
    }

    /// Reads a payload, refusing any `critical.type` but cosign's and a missing or
    /// malformed digest or reference (cosign refuses those too).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let raw: Raw = serde_json::from_slice(bytes)
            .map_err(|e| Error::Malformed(format!("simple signing payload: {e}")))?;
        if raw.critical.kind != COSIGN_SIGNATURE_TYPE {
            return Err(Error::Malformed(format!(
                "simple signing payload: critical.type is {:?}, expected {COSIGN_SIGNATURE_TYPE:?}",
                raw.critical.kind
            )));
        }
        let digest = raw.critical.image.docker_manifest_digest;
        if digest.is_empty() {
            return Err(Error::Malformed(
                "simple signing payload: critical.image.docker-manifest-digest is missing".into(),
            ));
        }
        if !is_sha256_digest(&digest) {
            return Err(Error::Malformed(format!(
                "simple signing payload: critical.image.docker-manifest-digest {digest:?} is not sha256:<64 hex>"
            )));
        }
        let reference = raw.critical.identity.docker_reference;
        if reference.is_empty() {
            return Err(Error::Malformed(
                "simple signing payload: critical.identity.docker-reference is missing".into(),
            ));
        }
        Ok(SimpleSigning {
            docker_reference: reference,
            manifest_digest: digest,
            annotations: raw.optional.unwrap_or_default().into_iter().collect(),
        })
    }

    /// The payload bytes, identical to what cosign 2.x signs for `cosign sign` with the
    /// same reference, digest and `-a` annotations.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(br#"{"critical":{"identity":{"docker-reference":"#);
        gojson::write_str(&mut out, &self.docker_reference);
        out.extend_from_slice(br#"},"image":{"docker-manifest-digest":"#);
        gojson::write_str(&mut out, &self.manifest_digest);
        out.extend_from_slice(br#"},"type":"#);
        gojson::write_str(&mut out, COSIGN_SIGNATURE_TYPE);
        out.extend_from_slice(br#"},"optional":"#);
        if self.annotations.is_empty() {
            // cosign passes a nil map when no annotation is given: Go writes `null`.
            out.extend_from_slice(b"null");
        } else {
            let optional: Map<String, Value> = self
                .annotations
                .iter()
                .map(|(k, v)| (k.clone(), gojson::sort_keys(v.clone())))
                .collect();
            gojson::write(&mut out, &Value::Object(optional));
        }
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DIGEST: &str = "sha256:d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f";

    #[test]
    fn same_bytes_as_cosign() {
        // testdata/payload*.json are `cosign generate` (cosign 2.5) output for this image.
        let plain = SimpleSigning::new("example.com/test/image", DIGEST);
        assert_eq!(plain.to_bytes(), include_bytes!("testdata/payload.json"));
        let mut annotated = plain.clone();
        for (k, v) in [("b", "<x&y>"), ("a", "1"), ("u", "é")] {
            annotated.annotations.insert(k.into(), json!(v));
        }
        assert_eq!(
            annotated.to_bytes(),
            include_bytes!("testdata/payload_ann.json")
        );
        // Control characters as cosign wrote them for `-a k=$'\b\f\x01\x7f\t\\\u2028\u2029'`.
        let mut controls = plain.clone();
        controls.annotations.insert(
            "k".into(),
            json!("\u{8}\u{c}\u{1}\u{7f}\t\\\u{2028}\u{2029}"),
        );
        let bytes = controls.to_bytes();
        assert!(
            bytes.ends_with(b"\"optional\":{\"k\":\"\\b\\f\\u0001\x7f\\t\\\\\\u2028\\u2029\"}}")
        );
        for payload in [plain, annotated, controls] {
            assert_eq!(
                SimpleSigning::parse(&payload.to_bytes()).expect("parses"),
                payload
            );
        }
    }

    #[test]
    fn same_bytes_as_sigstore_payload_tests() {
        // The expected strings of sigstore/sigstore pkg/signature/payload/payload_test.go.
        let mut p = SimpleSigning::new("example.com/atomic/test/image", DIGEST);
        p.annotations.insert("creator".into(), json!("atomic"));
        p.annotations.insert("timestamp".into(), json!(1458239713));
        assert_eq!(
            String::from_utf8(p.to_bytes()).expect("utf8"),
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"example.com/atomic/test/image"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"cosign container image signature"}},"optional":{{"creator":"atomic","timestamp":1458239713}}}}"#
            )
        );
        let mut p = SimpleSigning::new("example.com/cosign/test/image", DIGEST);
        p.annotations.insert("creator".into(), json!("anyone"));
        p.annotations.insert(
            "some_struct".into(),
            json!({"foo": "bar", "false": true, "nothing": null}),
        );
        p.annotations
            .insert("CamelCase WithSpace".into(), json!(8.314));
        assert_eq!(
            String::from_utf8(p.to_bytes()).expect("utf8"),
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"example.com/cosign/test/image"}},"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"cosign container image signature"}},"optional":{{"CamelCase WithSpace":8.314,"creator":"anyone","some_struct":{{"false":true,"foo":"bar","nothing":null}}}}}}"#
            )
        );
    }

    #[test]
    fn parses_what_cosign_pushed() {
        let p = SimpleSigning::parse(include_bytes!("testdata/sig.layer")).expect("parses");
        assert_eq!(p.docker_reference, "127.0.0.1:5077/app");
        assert!(p.manifest_digest.starts_with("sha256:0dad0e6e"));
        assert_eq!(p.annotations.get("team"), Some(&json!("core")));
        assert_eq!(p.to_bytes(), include_bytes!("testdata/sig.layer"));
    }

    #[test]
    fn refuses_wrong_type_and_missing_fields() {
        let ok = SimpleSigning::new("example.com/app", DIGEST).to_bytes();
        let ok = String::from_utf8(ok).expect("utf8");
        let wrong_type = ok.replace(
            "cosign container image signature",
            "atomic container signature",
        );
        let err = SimpleSigning::parse(wrong_type.as_bytes()).expect_err("wrong type");
        assert!(err.to_string().contains("critical.type"), "{err}");
        let no_digest = ok.replace(r#""docker-manifest-digest":"#, r#""other":"#);
        let err = SimpleSigning::parse(no_digest.as_bytes()).expect_err("no digest");
        assert!(
            err.to_string()
                .contains("docker-manifest-digest is missing"),
            "{err}"
        );
        let bad_digest = ok.replace("sha256:d34d", "sha256:D34D");
        assert!(SimpleSigning::parse(bad_digest.as_bytes()).is_err());
        let no_reference = ok.replace("example.com/app", "");
        assert!(SimpleSigning::parse(no_reference.as_bytes()).is_err());
        for bad in [&b""[..], b"null", b"[]", b"{}", br#"{"critical":1}"#] {
            assert!(SimpleSigning::parse(bad).is_err());
        }
        let optional_list = ok.replace(r#""optional":null"#, r#""optional":[1]"#);
        assert!(SimpleSigning::parse(optional_list.as_bytes()).is_err());
    }
}
