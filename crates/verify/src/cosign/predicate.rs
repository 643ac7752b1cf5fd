//! The predicates `cosign attest --type T --predicate FILE` puts in its statements
//! (cosign 2.x `pkg/cosign/attestation/attestation.go`, `options/predicate.go`), so that
//! `signet attest` writes the same statement.
//!
//! cosign decodes some predicates into Go structs and writes them again: unknown fields are
//! dropped, missing ones written as Go zero values, fields in struct order, times
//! re-formatted. Those structs (in-toto-golang v0.9 SLSA v0.2 / v1 provenance and Link,
//! cosign's vuln predicate) are mirrored here as field tables.

use serde_json::{Map, Value};

use super::gojson::sort_keys;
use super::gostruct::Kind::*;
use super::gostruct::{f, go_struct, o, parse_json, Field};
use super::gotime::now_rfc3339;
use crate::{Error, Result};

/// Predicate type of `--type custom` (cosign's `CosignCustomProvenanceV01`).
pub const CUSTOM_PREDICATE_TYPE: &str = "https://cosign.sigstore.dev/attestation/v1";
/// Predicate type of `--type vuln`.
pub const VULN_PREDICATE_TYPE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

/// The predicate type URI cosign uses for `--type type_name`: its short names, or a URI
/// (anything containing `://`) as is; `None` for anything else.
pub fn predicate_type_uri(type_name: &str) -> Option<String> {
    let uri = match type_name {
        "custom" => CUSTOM_PREDICATE_TYPE,
        "slsaprovenance" | "slsaprovenance02" => "https://slsa.dev/provenance/v0.2",
        "slsaprovenance1" => "https://slsa.dev/provenance/v1",
        "spdx" | "spdxjson" => "https://spdx.dev/Document",
        "cyclonedx" => "https://cyclonedx.org/bom",
        "link" => "https://in-toto.io/Link/v1",
        "vuln" => VULN_PREDICATE_TYPE,
        "openvex" => "https://openvex.dev/ns",
        uri if uri.contains("://") => uri,
        _ => return None,
    };
    Some(uri.to_string())
}

/// The predicate cosign puts in the statement for `--type type_name` and the predicate
/// file `raw` (`custom` stamps the current time).
pub fn predicate_for(type_name: &str, raw: &[u8]) -> Result<Value> {
    predicate_for_at(type_name, raw, &now_rfc3339())
}

/// [`predicate_for`] with the `Timestamp` of a `custom` predicate given (RFC 3339).
pub fn predicate_for_at(type_name: &str, raw: &[u8], timestamp: &str) -> Result<Value> {
    match type_name {
        "slsaprovenance" | "slsaprovenance02" => go_struct(
            raw,
            SLSA02,
            &["builder", "buildType"],
            "provenance predicate",
        ),
        "slsaprovenance1" => go_struct(
            raw,
            SLSA1,
            &["buildDefinition", "runDetails"],
            "provenance predicate",
        ),
        "link" => {
            let required: Vec<&str> = LINK.iter().map(|f| f.name).collect();
            go_struct(raw, LINK, &required, "link statement")
        }
        "vuln" => go_struct(raw, VULN, &[], "vuln predicate"),
        // cosign keeps these as the file's text, not as JSON.
        "spdx" => Ok(Value::String(String::from_utf8_lossy(raw).into_owned())),
        "custom" => {
            let mut predicate = Map::new();
            predicate.insert(
                "Data".into(),
                Value::String(String::from_utf8_lossy(raw).into_owned()),
            );
            predicate.insert("Timestamp".into(), Value::String(timestamp.to_string()));
            Ok(Value::Object(predicate))
        }
        "spdxjson" | "cyclonedx" | "openvex" => Ok(sort_keys(parse_json(raw, type_name)?)),
        uri if uri.contains("://") => match parse_json(raw, type_name)? {
            // cosign decodes a custom-URI predicate into a Go map.
            value @ (Value::Object(_) | Value::Null) => Ok(sort_keys(value)),
            _ => Err(Error::Malformed(format!(
                "invalid JSON payload for predicate type {uri}: not a JSON object"
            ))),
        },
        other => Err(Error::Malformed(format!(
            "invalid predicate type {other:?}: expected slsaprovenance, slsaprovenance02, \
             slsaprovenance1, link, spdx, spdxjson, cyclonedx, vuln, openvex, custom or a URI"
        ))),
    }
}

// in-toto-golang v0.9.0 slsa_provenance/v0.2.
const SLSA02: &[Field] = &[
    f("builder", Struct(&[f("id", Str)])),
    f("buildType", Str),
    o(
        "invocation",
        Struct(&[
            o(
                "configSource",
                Struct(&[o("uri", Str), o("digest", StrMap), o("entryPoint", Str)]),
            ),
            o("parameters", Any),
            o("environment", Any),
        ]),
    ),
    o("buildConfig", Any),
    o(
        "metadata",
        StructPtr(&[
            o("buildInvocationID", Str),
            o("buildStartedOn", TimePtr),
            o("buildFinishedOn", TimePtr),
            f(
                "completeness",
                Struct(&[
                    f("parameters", Bool),
                    f("environment", Bool),
                    f("materials", Bool),
                ]),
            ),
            f("reproducible", Bool),
        ]),
    ),
    o(
        "materials",
        StructList(&[o("uri", Str), o("digest", StrMap)]),
    ),
];

// in-toto-golang v0.9.0 slsa_provenance/v1 ResourceDescriptor.
const RESOURCE: &[Field] = &[
    o("uri", Str),
    o("digest", StrMap),
    o("name", Str),
    o("downloadLocation", Str),
    o("mediaType", Str),
    o("content", Bytes),
    o("annotations", AnyMap),
];

// in-toto-golang v0.9.0 slsa_provenance/v1.
const SLSA1: &[Field] = &[
    f(
        "buildDefinition",
        Struct(&[
            f("buildType", Str),
            f("externalParameters", Any),
            o("internalParameters", Any),
            o("resolvedDependencies", StructList(RESOURCE)),
        ]),
    ),
    f(
        "runDetails",
        Struct(&[
            f(
                "builder",
                Struct(&[
                    f("id", Str),
                    o("version", StrMap),
                    o("builderDependencies", StructList(RESOURCE)),
                ]),
            ),
            o(
                "metadata",
                Struct(&[
                    o("invocationID", Str),
                    o("startedOn", TimePtr),
                    o("finishedOn", TimePtr),
                ]),
            ),
            o("byproducts", StructList(RESOURCE)),
        ]),
    ),
];

// in-toto-golang v0.9.0 Link.
const LINK: &[Field] = &[
    f("_type", Str),
    f("name", Str),
    f("materials", AnyMap),
    f("products", AnyMap),
    f("byproducts", AnyMap),
    f("command", StrList),
    f("environment", AnyMap),
];

// cosign CosignVulnPredicate.
const VULN: &[Field] = &[
    f(
        "invocation",
        Struct(&[
            f("parameters", Any),
            f("uri", Str),
            f("event_id", Str),
            f("builder.id", Str),
        ]),
    ),
    f(
        "scanner",
        Struct(&[
            f("uri", Str),
            f("version", Str),
            f("db", Struct(&[f("uri", Str), f("version", Str)])),
            f("result", Any),
        ]),
    ),
    f(
        "metadata",
        Struct(&[f("scanStartedOn", Time), f("scanFinishedOn", Time)]),
    ),
];
