//! The `request` of an `admission.k8s.io/v1` AdmissionReview, read strictly: a field the API
//! server always sends must be there, and every field must have its type.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::extract::{extract_images, ContainerImage};
use crate::{Error, Operation, Result};

/// A group, version and kind (`kind` and `requestKind` of a request).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupVersionKind {
    /// API group; empty for the core group.
    pub group: String,
    /// API version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
}

/// A group, version and resource (`resource` and `requestResource` of a request).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupVersionResource {
    /// API group; empty for the core group.
    pub group: String,
    /// API version.
    pub version: String,
    /// Plural resource name, e.g. `deployments`.
    pub resource: String,
}

/// `userInfo`: who sent the request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    /// `username`.
    pub username: String,
    /// `uid`.
    pub uid: String,
    /// `groups`.
    pub groups: Vec<String>,
    /// `extra`.
    pub extra: BTreeMap<String, Vec<String>>,
}

/// An admission request.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmissionRequest {
    /// `uid`, echoed in the response.
    pub uid: String,
    /// `kind`: the kind of `object`.
    pub kind: GroupVersionKind,
    /// `resource`: the resource being requested.
    pub resource: GroupVersionResource,
    /// `subResource`; empty when the request is for the resource itself.
    pub sub_resource: String,
    /// `requestKind`, when the API server converted the request.
    pub request_kind: Option<GroupVersionKind>,
    /// `requestResource`.
    pub request_resource: Option<GroupVersionResource>,
    /// `requestSubResource`.
    pub request_sub_resource: String,
    /// `name`; empty on a CREATE with `generateName`.
    pub name: String,
    /// `namespace`; empty for cluster-scoped resources.
    pub namespace: String,
    /// `operation`.
    pub operation: Operation,
    /// `userInfo`.
    pub user_info: UserInfo,
    /// `object`: the new object (absent on DELETE).
    pub object: Option<Value>,
    /// `oldObject`: the existing object (UPDATE and DELETE).
    pub old_object: Option<Value>,
    /// `dryRun`.
    pub dry_run: bool,
    /// `options`: the operation's options (CreateOptions, …).
    pub options: Option<Value>,
}

impl AdmissionRequest {
    /// Reads the `request` object of an AdmissionReview.
    pub fn from_json(request: &Value) -> Result<Self> {
        let root = At::Root("request");
        let r = object(request, &root)?;
        let operation = required_str(r, &root, "operation")?;
        let operation = Operation::parse(&operation).ok_or_else(|| {
            invalid(
                &"request.operation",
                format!(
                    "{operation:?} is not an operation: expected CREATE, UPDATE, DELETE or CONNECT"
                ),
            )
        })?;
        Ok(AdmissionRequest {
            uid: required_str(r, &root, "uid")?,
            kind: required(r, &root, "kind", gvk)?,
            resource: required(r, &root, "resource", gvr)?,
            sub_resource: optional_str(r, &root, "subResource")?,
            request_kind: optional(r, &root, "requestKind", gvk)?,
            request_resource: optional(r, &root, "requestResource", gvr)?,
            request_sub_resource: optional_str(r, &root, "requestSubResource")?,
            name: optional_str(r, &root, "name")?,
            namespace: optional_str(r, &root, "namespace")?,
            operation,
            user_info: optional(r, &root, "userInfo", user_info)?.unwrap_or_default(),
            object: optional(r, &root, "object", |v, p| Ok(object(v, p)?.clone().into()))?,
            old_object: optional(r, &root, "oldObject", |v, p| {
                Ok(object(v, p)?.clone().into())
            })?,
            dry_run: optional(r, &root, "dryRun", |v, p| {
                v.as_bool().ok_or_else(|| invalid(p, "expected a boolean"))
            })?
            .unwrap_or(false),
            options: optional(r, &root, "options", |v, p| Ok(object(v, p)?.clone().into()))?,
        })
    }

    /// [`AdmissionRequest::from_json`] on a request the caller no longer needs: the
    /// objects are moved out of it rather than copied.
    pub fn from_value(mut request: Value) -> Result<Self> {
        let Some(r) = request.as_object_mut() else {
            return Self::from_json(&request);
        };
        let [object, old_object, options] = ["object", "oldObject", "options"].map(|k| r.remove(k));
        let mut parsed = Self::from_json(&request)?;
        parsed.object = owned_object(object, "request.object")?;
        parsed.old_object = owned_object(old_object, "request.oldObject")?;
        parsed.options = owned_object(options, "request.options")?;
        Ok(parsed)
    }

    /// Reads the `request` of an AdmissionReview from JSON bytes, as [`Self::from_json`]
    /// reads it, without first building a [`Value`] of the whole request: only the
    /// objects become `Value`s. A request that is not right is read again by
    /// `from_json`, whose error names the field.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        if let Some(request) = super::wire::read(bytes) {
            return Ok(request);
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::InvalidRequest(format!("not JSON: {e}")))?;
        Self::from_value(value)
    }

    /// Reads a whole AdmissionReview (`{"apiVersion": …, "request": {…}}`).
    pub fn from_review(review: &Value) -> Result<Self> {
        let review = object(review, &At::Root("AdmissionReview"))?;
        match review.get("request") {
            Some(r) => Self::from_json(r),
            None => Err(invalid(&"request", "required")),
        }
    }

    /// The object the request is about, as Kyverno matches it: `object`, or `oldObject` when
    /// there is no new object (DELETE).
    pub fn resource(&self) -> Option<&Value> {
        self.object.as_ref().or(self.old_object.as_ref())
    }

    /// The images to verify: those of the new `object`, by its `kind`. Kyverno extracts
    /// images from the new resource only, so a DELETE (or a CONNECT, or a `scale`
    /// subresource) has none, while `pods/ephemeralcontainers` carries the whole Pod.
    pub fn images(&self) -> Result<Vec<ContainerImage>> {
        let Some(object) = &self.object else {
            return Ok(Vec::new());
        };
        let kind = object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        extract_images(kind, object)
    }

    /// The kind of the top-level resource and the subresource, as Kyverno matches kinds.
    ///
    /// Kyverno asks API discovery for the kind of `resource`; for a subresource request
    /// `kind` can be another type (`pods/exec` is `PodExecOptions`, `deployments/scale` is
    /// `autoscaling/v1 Scale`). Without discovery, the well-known workload resources are
    /// mapped here; any other subresource request keeps `kind`.
    pub fn resource_kind(&self) -> (GroupVersionKind, &str) {
        if self.sub_resource.is_empty() {
            return (self.kind.clone(), "");
        }
        let known = WELL_KNOWN
            .iter()
            .find(|(g, r, _)| *g == self.resource.group && *r == self.resource.resource);
        let gvk = match known {
            Some((group, _, kind)) => GroupVersionKind {
                group: (*group).to_owned(),
                version: self.resource.version.clone(),
                kind: (*kind).to_owned(),
            },
            None => self.kind.clone(),
        };
        (gvk, &self.sub_resource)
    }

    /// A CREATE of a Pod named `name` in `namespace` running `images`: how an image is
    /// judged "as if it ran in a Pod" (`POST /v1/verify`, `signet verify --policy`).
    pub fn pod_create(namespace: &str, name: &str, images: &[impl AsRef<str>]) -> Self {
        let containers: Vec<Value> = images
            .iter()
            .enumerate()
            .map(|(i, image)| serde_json::json!({"name": format!("c{i}"), "image": image.as_ref()}))
            .collect();
        AdmissionRequest {
            uid: String::new(),
            kind: GroupVersionKind {
                group: String::new(),
                version: "v1".into(),
                kind: "Pod".into(),
            },
            resource: GroupVersionResource {
                group: String::new(),
                version: "v1".into(),
                resource: "pods".into(),
            },
            sub_resource: String::new(),
            request_kind: None,
            request_resource: None,
            request_sub_resource: String::new(),
            name: name.into(),
            namespace: namespace.into(),
            operation: Operation::Create,
            user_info: UserInfo::default(),
            object: Some(serde_json::json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"containers": containers},
            })),
            old_object: None,
            dry_run: false,
            options: None,
        }
    }
}

/// (group, plural resource, kind) of the resources whose subresources matter to image checks.
const WELL_KNOWN: &[(&str, &str, &str)] = &[
    ("", "pods", "Pod"),
    ("", "replicationcontrollers", "ReplicationController"),
    ("apps", "deployments", "Deployment"),
    ("apps", "replicasets", "ReplicaSet"),
    ("apps", "statefulsets", "StatefulSet"),
    ("apps", "daemonsets", "DaemonSet"),
    ("batch", "jobs", "Job"),
    ("batch", "cronjobs", "CronJob"),
];

/// Where a field is, written out only when an error names it: formatting the path of
/// every field read cost more than reading the fields.
enum At<'a> {
    Root(&'a str),
    Field(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Root(name) => f.write_str(name),
            At::Field(parent, key) => write!(f, "{parent}.{key}"),
            At::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn invalid(path: &dyn std::fmt::Display, message: impl std::fmt::Display) -> Error {
    Error::InvalidRequest(format!("{path}: {message}"))
}

/// An optional object field, taken by value.
fn owned_object(v: Option<Value>, path: &str) -> Result<Option<Value>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(invalid(&path, "expected an object")),
    }
}

fn object<'v>(v: &'v Value, path: &At<'_>) -> Result<&'v Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| invalid(path, "expected an object"))
}

/// A field that must be present (and not null).
fn required<T>(
    obj: &Map<String, Value>,
    parent: &At<'_>,
    key: &str,
    read: impl FnOnce(&Value, &At<'_>) -> Result<T>,
) -> Result<T> {
    optional(obj, parent, key, read)?.ok_or_else(|| invalid(&At::Field(parent, key), "required"))
}

/// A field that may be absent or null.
fn optional<T>(
    obj: &Map<String, Value>,
    parent: &At<'_>,
    key: &str,
    read: impl FnOnce(&Value, &At<'_>) -> Result<T>,
) -> Result<Option<T>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => read(v, &At::Field(parent, key)).map(Some),
    }
}

fn string(v: &Value, path: &At<'_>) -> Result<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| invalid(path, "expected a string"))
}

fn required_str(obj: &Map<String, Value>, parent: &At<'_>, key: &str) -> Result<String> {
    required(obj, parent, key, string)
}

fn optional_str(obj: &Map<String, Value>, parent: &At<'_>, key: &str) -> Result<String> {
    Ok(optional(obj, parent, key, string)?.unwrap_or_default())
}

fn string_list(v: &Value, path: &At<'_>) -> Result<Vec<String>> {
    let items = v
        .as_array()
        .ok_or_else(|| invalid(path, "expected a list"))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| string(item, &At::Index(path, i)))
        .collect()
}

fn gvk(v: &Value, path: &At<'_>) -> Result<GroupVersionKind> {
    let o = object(v, path)?;
    Ok(GroupVersionKind {
        group: optional_str(o, path, "group")?,
        version: required_str(o, path, "version")?,
        kind: required_str(o, path, "kind")?,
    })
}

fn gvr(v: &Value, path: &At<'_>) -> Result<GroupVersionResource> {
    let o = object(v, path)?;
    Ok(GroupVersionResource {
        group: optional_str(o, path, "group")?,
        version: required_str(o, path, "version")?,
        resource: required_str(o, path, "resource")?,
    })
}

fn user_info(v: &Value, path: &At<'_>) -> Result<UserInfo> {
    let o = object(v, path)?;
    let extra = optional(o, path, "extra", |v, p| {
        object(v, p)?
            .iter()
            .map(|(k, values)| Ok((k.clone(), string_list(values, &At::Field(p, k))?)))
            .collect::<Result<BTreeMap<_, _>>>()
    })?;
    Ok(UserInfo {
        username: optional_str(o, path, "username")?,
        uid: optional_str(o, path, "uid")?,
        groups: optional(o, path, "groups", string_list)?.unwrap_or_default(),
        extra: extra.unwrap_or_default(),
    })
}
