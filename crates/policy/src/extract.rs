//! The container images of an admission object, located by JSON Pointer, as Kyverno's
//! standard image extractors find them (`pkg/utils/api/image.go`).
//!
//! Pod: `spec`; DaemonSet, Deployment, Job, ReplicaSet, ReplicationController and
//! StatefulSet: `spec.template.spec`; CronJob: `spec.jobTemplate.spec.template.spec`. In
//! each, `initContainers`, `containers` and `ephemeralContainers` (Kyverno reads all three
//! everywhere). Other kinds have no images (Signet refuses custom `imageExtractors`).

use serde_json::Value;

use crate::image::ImageRef;
use crate::{Error, Result};

/// The list a container belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerField {
    /// `containers`.
    Containers,
    /// `initContainers`.
    InitContainers,
    /// `ephemeralContainers`.
    EphemeralContainers,
}

impl ContainerField {
    /// The field name in a pod spec.
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerField::Containers => "containers",
            ContainerField::InitContainers => "initContainers",
            ContainerField::EphemeralContainers => "ephemeralContainers",
        }
    }
}

/// Kyverno's extractor order.
const FIELDS: [ContainerField; 3] = [
    ContainerField::InitContainers,
    ContainerField::Containers,
    ContainerField::EphemeralContainers,
];

/// One container image of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerImage {
    /// The image as written in the object.
    pub image: String,
    /// RFC 6901 JSON Pointer to the image field, e.g. `/spec/template/spec/containers/0/image`
    /// (the target of a digest patch).
    pub pointer: String,
    /// The container's name.
    pub container: String,
    /// The list the container is in.
    pub field: ContainerField,
}

impl ContainerImage {
    /// Parses the image; an unparsable image is an error the caller reports for this image.
    pub fn parse(&self) -> Result<ImageRef> {
        ImageRef::parse(&self.image)
    }
}

/// The path from the object to its pod spec, for the kinds that have one.
pub fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &["spec"],
        "DaemonSet"
        | "Deployment"
        | "Job"
        | "ReplicaSet"
        | "ReplicationController"
        | "StatefulSet" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    })
}

/// The images of `object` of kind `kind`: init containers, then containers, then ephemeral
/// containers, each in list order. A container without an image (or with a blank one) is
/// skipped, as Kyverno skips it; a missing pod spec or container list means no images.
/// Ill-typed fields are errors naming the field (`spec.containers[1].image: expected a
/// string`; Kyverno silently skips a non-string image, which the API server never sends).
/// Images are returned as written; parse them with [`ContainerImage::parse`].
pub fn extract_images(kind: &str, object: &Value) -> Result<Vec<ContainerImage>> {
    let Some(path) = pod_spec_path(kind) else {
        return Ok(Vec::new());
    };
    let mut spec = object;
    for (depth, key) in path.iter().enumerate() {
        let map = spec
            .as_object()
            .ok_or_else(|| ill_typed(&dotted(&path[..depth]), "expected an object"))?;
        match map.get(*key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(v) => spec = v,
        }
    }
    // Field paths name what is wrong in an error; they are built only for one.
    let spec_path = || dotted(path);
    let spec = spec
        .as_object()
        .ok_or_else(|| ill_typed(&spec_path(), "expected an object"))?;
    let pointer_base: String = path.iter().map(|k| format!("/{k}")).collect();
    let mut images = Vec::new();
    for field in FIELDS {
        let containers = match spec.get(field.as_str()) {
            None | Some(Value::Null) => continue,
            Some(Value::Array(items)) => items,
            Some(_) => {
                let list_path = format!("{}.{}", spec_path(), field.as_str());
                return Err(ill_typed(&list_path, "expected a list"));
            }
        };
        for (i, container) in containers.iter().enumerate() {
            let at = |what: &str| format!("{}.{}[{i}]{what}", spec_path(), field.as_str());
            let c = container
                .as_object()
                .ok_or_else(|| ill_typed(&at(""), "expected an object"))?;
            // Kyverno keys images by container name and fails without one.
            let name = match c.get("name") {
                Some(Value::String(n)) => n.clone(),
                None | Some(Value::Null) => return Err(ill_typed(&at(".name"), "required")),
                Some(_) => return Err(ill_typed(&at(".name"), "expected a string")),
            };
            let image = match c.get("image") {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) if s.trim().is_empty() => continue,
                Some(Value::String(s)) => s.clone(),
                Some(_) => return Err(ill_typed(&at(".image"), "expected a string")),
            };
            images.push(ContainerImage {
                image,
                pointer: format!("{pointer_base}/{}/{i}/image", field.as_str()),
                container: name,
                field,
            });
        }
    }
    Ok(images)
}

fn dotted(path: &[&str]) -> String {
    if path.is_empty() {
        "object".to_owned()
    } else {
        path.join(".")
    }
}

fn ill_typed(path: &str, message: &str) -> Error {
    Error::InvalidRequest(format!("{path}: {message}"))
}

#[cfg(test)]
mod tests;
