//! The fast way in for an admission request arriving as JSON bytes: serde reads the
//! fields straight into their types, and only the objects (`object`, `oldObject`,
//! `options`) become [`Value`]s. Building a `Value` of the whole request and then walking
//! it was most of a warm Review's parse.
//!
//! This path accepts a request only when it is well-formed in every way the strict reader
//! ([`AdmissionRequest::from_json`]) checks, and reads it to the same result. Anything it
//! refuses (a missing or mistyped field, a duplicate key) goes to the strict reader,
//! which accepts what it accepts and names the field path of what it does not.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::request::{AdmissionRequest, GroupVersionKind, GroupVersionResource, UserInfo};
use crate::Operation;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    uid: Option<String>,
    kind: Option<Obj<Gvk>>,
    resource: Option<Obj<Gvr>>,
    sub_resource: Option<String>,
    request_kind: Option<Obj<Gvk>>,
    request_resource: Option<Obj<Gvr>>,
    request_sub_resource: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    operation: Option<String>,
    user_info: Option<Obj<User>>,
    object: Option<Value>,
    old_object: Option<Value>,
    dry_run: Option<bool>,
    options: Option<Value>,
}

#[derive(Deserialize)]
struct Gvk {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Gvr {
    group: Option<String>,
    version: Option<String>,
    resource: Option<String>,
}

#[derive(Deserialize)]
struct User {
    username: Option<String>,
    uid: Option<String>,
    groups: Option<Vec<String>>,
    extra: Option<BTreeMap<String, Vec<String>>>,
}

/// The request read from `bytes`, or `None` when the strict reader must look at it.
pub(super) fn read(bytes: &[u8]) -> Option<AdmissionRequest> {
    let Obj(r) = serde_json::from_slice::<Obj<Request>>(bytes).ok()?;
    Some(AdmissionRequest {
        uid: r.uid?,
        kind: r.kind?.0.into_gvk()?,
        resource: r.resource?.0.into_gvr()?,
        sub_resource: r.sub_resource.unwrap_or_default(),
        request_kind: match r.request_kind {
            Some(k) => Some(k.0.into_gvk()?),
            None => None,
        },
        request_resource: match r.request_resource {
            Some(r) => Some(r.0.into_gvr()?),
            None => None,
        },
        request_sub_resource: r.request_sub_resource.unwrap_or_default(),
        name: r.name.unwrap_or_default(),
        namespace: r.namespace.unwrap_or_default(),
        operation: Operation::parse(&r.operation?)?,
        user_info: r.user_info.map(|u| u.0.into_info()).unwrap_or_default(),
        object: object(r.object)?,
        old_object: object(r.old_object)?,
        dry_run: r.dry_run.unwrap_or(false),
        options: object(r.options)?,
    })
}

/// An optional object field: `Some(None)` when absent or null, `None` when not an object.
fn object(v: Option<Value>) -> Option<Option<Value>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(v @ Value::Object(_)) => Some(Some(v)),
        Some(_) => None,
    }
}

impl Gvk {
    fn into_gvk(self) -> Option<GroupVersionKind> {
        Some(GroupVersionKind {
            group: self.group.unwrap_or_default(),
            version: self.version?,
            kind: self.kind?,
        })
    }
}

impl Gvr {
    fn into_gvr(self) -> Option<GroupVersionResource> {
        Some(GroupVersionResource {
            group: self.group.unwrap_or_default(),
            version: self.version?,
            resource: self.resource?,
        })
    }
}

impl User {
    fn into_info(self) -> UserInfo {
        UserInfo {
            username: self.username.unwrap_or_default(),
            uid: self.uid.unwrap_or_default(),
            groups: self.groups.unwrap_or_default(),
            extra: self.extra.unwrap_or_default(),
        }
    }
}

/// A struct read from a JSON object only: serde's derived structs also accept an array of
/// their fields in order, which the strict reader refuses ("expected an object").
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Only<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Only<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        d.deserialize_map(Only(PhantomData))
    }
}
