//! in-toto statements, the payload of cosign attestations.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::gojson;
use crate::{Error, Result};

/// `_type` of in-toto statements v0.1, what `cosign attest` writes.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// `_type` of in-toto statements v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";

/// An in-toto statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// `_type`: [`STATEMENT_V01`] or [`STATEMENT_V1`].
    pub statement_type: String,
    /// `predicateType`, a URI.
    pub predicate_type: String,
    /// `subject`.
    pub subjects: Vec<Subject>,
    /// `predicate`, as it was in the payload (member order kept).
    pub predicate: Value,
}

/// One subject of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Subject {
    /// `name` (cosign writes the image's repository).
    #[serde(default)]
    pub name: String,
    /// `digest`: algorithm → lowercase hex.
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    #[serde(rename = "predicateType", default)]
    predicate_type: String,
    #[serde(default)]
    subject: Option<Vec<Subject>>,
    #[serde(default)]
    predicate: Value,
}

impl Statement {
    /// Reads a statement, accepting in-toto Statement v0.1 and v1 only.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let raw: RawStatement = serde_json::from_slice(bytes)
            .map_err(|e| Error::Malformed(format!("in-toto statement: {e}")))?;
        if raw.statement_type != STATEMENT_V01 && raw.statement_type != STATEMENT_V1 {
            return Err(Error::Malformed(format!(
                "in-toto statement: unsupported _type {:?} (expected {STATEMENT_V01} or {STATEMENT_V1})",
                raw.statement_type
            )));
        }
        if raw.predicate_type.is_empty() {
            return Err(Error::Malformed(
                "in-toto statement: predicateType is missing".into(),
            ));
        }
        Ok(Statement {
            statement_type: raw.statement_type,
            predicate_type: raw.predicate_type,
            subjects: raw.subject.unwrap_or_default(),
            predicate: raw.predicate,
        })
    }

    /// The statement `cosign attest` makes for an image: type v0.1, one subject named
    /// `subject_name` (cosign uses the repository, e.g. `registry.example/app`) with the
    /// image's `digest` (`sha256:<hex>`, or bare hex taken as sha256), and `predicate` as
    /// [`super::predicate_for`] builds it.
    pub fn new(predicate_type: &str, subject_name: &str, digest: &str, predicate: Value) -> Self {
        let (algorithm, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
        Statement {
            statement_type: STATEMENT_V01.to_string(),
            predicate_type: predicate_type.to_string(),
            subjects: vec![Subject {
                name: subject_name.to_string(),
                digest: BTreeMap::from([(algorithm.to_string(), hex.to_string())]),
            }],
            predicate,
        }
    }

    /// Whether a subject carries `digest` (`algorithm:hex`, e.g. `sha256:<hex>`).
    pub fn covers_digest(&self, digest: &str) -> bool {
        let Some((algorithm, hex)) = digest.split_once(':') else {
            return false;
        };
        !hex.is_empty()
            && self.subjects.iter().any(|s| {
                s.digest
                    .get(algorithm)
                    .is_some_and(|value| value.eq_ignore_ascii_case(hex))
            })
    }

    /// The statement's JSON as cosign writes it (Go's `json.Marshal` of in-toto-golang's
    /// `Statement`): `_type`, `predicateType`, `subject`, `predicate`, with the predicate's
    /// members in the order held.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(br#"{"_type":"#);
        gojson::write_str(&mut out, &self.statement_type);
        out.extend_from_slice(br#","predicateType":"#);
        gojson::write_str(&mut out, &self.predicate_type);
        out.extend_from_slice(br#","subject":["#);
        for (i, subject) in self.subjects.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"name":"#);
            gojson::write_str(&mut out, &subject.name);
            out.extend_from_slice(br#","digest":{"#);
            for (j, (algorithm, hex)) in subject.digest.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                gojson::write_str(&mut out, algorithm);
                out.push(b':');
                gojson::write_str(&mut out, hex);
            }
            out.extend_from_slice(b"}}");
        }
        out.extend_from_slice(br#"],"predicate":"#);
        gojson::write(&mut out, &self.predicate);
        out.push(b'}');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "d34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33fd34db33f";

    #[test]
    fn parses_v01_and_v1() {
        let cosign =
            Statement::parse(include_bytes!("testdata/stmt_slsaprovenance.json")).expect("v0.1");
        assert_eq!(cosign.statement_type, STATEMENT_V01);
        assert_eq!(cosign.predicate_type, "https://slsa.dev/provenance/v0.2");
        assert_eq!(cosign.subjects[0].name, "example.com/test/image");
        assert_eq!(
            cosign.predicate["builder"]["id"],
            "https://github.com/actions/runner"
        );
        assert_eq!(
            cosign.to_bytes(),
            include_bytes!("testdata/stmt_slsaprovenance.json")
        );

        let v1 = format!(
            r#"{{"_type":"{STATEMENT_V1}","subject":[{{"name":"app","digest":{{"sha256":"{HEX}","sha512":"00"}},"uri":"x"}}],"predicateType":"https://example.com/p","predicate":{{"k":1}}}}"#
        );
        let v1 = Statement::parse(v1.as_bytes()).expect("v1");
        assert_eq!(v1.statement_type, STATEMENT_V1);
        assert_eq!(v1.subjects[0].digest.len(), 2);
        assert_eq!(v1.predicate, serde_json::json!({"k": 1}));
    }

    #[test]
    fn refuses_unknown_statement_types() {
        for t in [
            "https://in-toto.io/Statement/v0.2",
            "",
            "https://example.com/Statement/v1",
        ] {
            let text =
                format!(r#"{{"_type":"{t}","predicateType":"p","subject":[],"predicate":{{}}}}"#);
            let err = Statement::parse(text.as_bytes()).expect_err("unknown type");
            assert!(err.to_string().contains("unsupported _type"), "{err}");
        }
        assert!(Statement::parse(br#"{"predicateType":"p"}"#).is_err());
        assert!(Statement::parse(format!(r#"{{"_type":"{STATEMENT_V01}"}}"#).as_bytes()).is_err());
        assert!(Statement::parse(b"not json").is_err());
    }

    #[test]
    fn covers_digest() {
        let s = Statement::new(
            "https://example.com/p",
            "app",
            &format!("sha256:{HEX}"),
            Value::Null,
        );
        assert!(s.covers_digest(&format!("sha256:{HEX}")));
        assert!(s.covers_digest(&format!("sha256:{}", HEX.to_uppercase())));
        assert!(!s.covers_digest(&format!("sha512:{HEX}")));
        assert!(!s.covers_digest(&format!("sha256:{}", &HEX[1..])));
        assert!(!s.covers_digest(HEX));
        assert!(!s.covers_digest("sha256:"));
        let bare = Statement::new("p", "app", HEX, Value::Null);
        assert_eq!(bare.subjects, s.subjects);
        let empty = Statement {
            subjects: vec![],
            ..s
        };
        assert!(!empty.covers_digest(&format!("sha256:{HEX}")));
    }
}
