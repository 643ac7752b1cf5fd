//! `admission.k8s.io/v1` AdmissionReview: the parts of the request the relay reads
//! and the response it writes. Only what the relay needs is parsed; the request
//! object is forwarded to the verifier as it came.

use base64::Engine as _;
use serde_json::{json, Map, Value};

/// The only AdmissionReview version the relay answers in.
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// Why a body could not be handled as an AdmissionReview.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON, or not an object of kind AdmissionReview: answered with HTTP 400.
    NotAdmissionReview(String),
    /// An AdmissionReview without a usable `request`: answered with a well-formed
    /// AdmissionReview that denies, echoing the uid when there is one.
    BadRequest {
        /// The request's uid, empty when unknown.
        uid: String,
        /// What is wrong.
        message: String,
    },
}

/// The parts of an AdmissionRequest the relay uses.
#[derive(Debug, Clone)]
pub struct Request {
    /// `request.uid`, echoed in the response.
    pub uid: String,
    /// `request.namespace`, empty for cluster-scoped objects.
    pub namespace: String,
    /// `request.operation` (CREATE, UPDATE, …).
    pub operation: String,
    /// `request.kind.kind`.
    pub kind: String,
    /// `request.dryRun`.
    pub dry_run: bool,
    /// Every container image in `request.object`, sorted and deduplicated.
    pub images: Vec<String>,
    /// `request` as JSON, sent to the verifier unchanged.
    pub raw: Vec<u8>,
}

/// Parses an AdmissionReview body.
pub fn parse(body: &[u8]) -> Result<Request, ParseError> {
    let review: Value = serde_json::from_slice(body)
        .map_err(|e| ParseError::NotAdmissionReview(format!("body is not JSON: {e}")))?;
    let Some(review) = review.as_object() else {
        return Err(ParseError::NotAdmissionReview(
            "body is not a JSON object".into(),
        ));
    };
    if review.get("kind").and_then(Value::as_str) != Some("AdmissionReview") {
        return Err(ParseError::NotAdmissionReview(
            "kind is not AdmissionReview".into(),
        ));
    }
    let request = review.get("request").and_then(Value::as_object);
    let uid = request
        .and_then(|r| r.get("uid"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let bad = |message: String| ParseError::BadRequest {
        uid: uid.clone(),
        message,
    };
    let api_version = review
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if api_version != API_VERSION {
        return Err(bad(format!(
            "unsupported apiVersion {api_version:?}; expected {API_VERSION}"
        )));
    }
    let Some(request) = request else {
        return Err(bad("AdmissionReview has no request".into()));
    };
    if uid.is_empty() {
        return Err(bad("request.uid is missing".into()));
    }
    let text = |key: &str| {
        request
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut images = Vec::new();
    if let Some(object) = request.get("object") {
        collect_images(object, &mut images);
    }
    images.sort();
    images.dedup();
    let raw = serde_json::to_vec(request).map_err(|e| bad(e.to_string()))?;
    Ok(Request {
        namespace: text("namespace"),
        operation: text("operation"),
        kind: request
            .get("kind")
            .and_then(|k| k.get("kind"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        dry_run: request
            .get("dryRun")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        uid,
        images,
        raw,
    })
}

/// Adds the `image` of every entry of `containers`, `initContainers` and
/// `ephemeralContainers` found anywhere in `value` (Pods, templates, CronJobs).
fn collect_images(value: &Value, images: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if matches!(
                    key.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                ) {
                    for c in child.as_array().into_iter().flatten() {
                        if let Some(image) = c.get("image").and_then(Value::as_str) {
                            images.push(image.to_string());
                        }
                    }
                }
                collect_images(child, images);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_images(v, images)),
        _ => {}
    }
}

/// An AdmissionResponse to be wrapped in an AdmissionReview.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// Echo of `request.uid`.
    pub uid: String,
    /// Whether the request is admitted.
    pub allowed: bool,
    /// `status.code` and `status.message`, for denials.
    pub status: Option<(u16, String)>,
    /// Warnings shown to the user.
    pub warnings: Vec<String>,
    /// RFC 6902 JSON Patch (raw JSON); sent base64 with `patchType: JSONPatch`.
    pub patch: Vec<u8>,
}

impl Response {
    /// A denial with HTTP-like `code` and `message`.
    pub fn deny(uid: &str, code: u16, message: String) -> Self {
        Response {
            uid: uid.to_string(),
            status: Some((code, message)),
            ..Default::default()
        }
    }

    /// The full AdmissionReview JSON document.
    pub fn to_review(&self) -> Value {
        let mut response = Map::new();
        response.insert("uid".into(), json!(self.uid));
        response.insert("allowed".into(), json!(self.allowed));
        if let Some((code, message)) = &self.status {
            response.insert("status".into(), json!({ "code": code, "message": message }));
        }
        if !self.warnings.is_empty() {
            response.insert("warnings".into(), json!(self.warnings));
        }
        if !self.patch.is_empty() {
            let patch = base64::engine::general_purpose::STANDARD.encode(&self.patch);
            response.insert("patchType".into(), json!("JSONPatch"));
            response.insert("patch".into(), json!(patch));
        }
        json!({ "apiVersion": API_VERSION, "kind": "AdmissionReview", "response": response })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_images_of_templates_and_rejects_non_reviews() {
        let body = json!({"apiVersion": API_VERSION, "kind": "AdmissionReview", "request": {
        "uid": "u1", "namespace": "ns", "operation": "CREATE", "kind": {"kind": "CronJob"},
        "object": {"spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"image": "b"}, {"image": "a"}], "initContainers": [{"image": "a"}]
        }}}}}}}});
        let r = parse(body.to_string().as_bytes()).expect("parses");
        assert_eq!(r.images, ["a", "b"]);
        assert_eq!((r.kind.as_str(), r.dry_run), ("CronJob", false));
        assert!(matches!(
            parse(b"[]"),
            Err(ParseError::NotAdmissionReview(_))
        ));
        let no_request = json!({"apiVersion": API_VERSION, "kind": "AdmissionReview"});
        assert!(matches!(
            parse(no_request.to_string().as_bytes()),
            Err(ParseError::BadRequest { .. })
        ));
    }
}
