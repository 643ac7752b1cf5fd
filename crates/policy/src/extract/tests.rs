use serde_json::{json, Value};

use super::{extract_images, ContainerField, ContainerImage};
use crate::Error;

/// Wraps a pod spec in an object of `kind`, at the place Kyverno reads it from.
fn object(kind: &str, pod_spec: Value) -> Value {
    let spec = match kind {
        "Pod" => pod_spec,
        "CronJob" => json!({"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}),
        _ => json!({"template": {"spec": pod_spec}}),
    };
    json!({"kind": kind, "metadata": {"name": "x"}, "spec": spec})
}

fn full_spec() -> Value {
    json!({
        "initContainers": [{"name": "init", "image": "busybox"}],
        "containers": [
            {"name": "app", "image": "ghcr.io/org/app:v1"},
            {"name": "sidecar", "image": "envoy@sha256:abc"}
        ],
        "ephemeralContainers": [{"name": "debug", "image": "nicolaka/netshoot"}]
    })
}

#[test]
fn extracts_every_container_list_for_every_kind() {
    let kinds = [
        ("Pod", "/spec"),
        ("Deployment", "/spec/template/spec"),
        ("ReplicaSet", "/spec/template/spec"),
        ("StatefulSet", "/spec/template/spec"),
        ("DaemonSet", "/spec/template/spec"),
        ("Job", "/spec/template/spec"),
        ("ReplicationController", "/spec/template/spec"),
        ("CronJob", "/spec/jobTemplate/spec/template/spec"),
    ];
    for (kind, base) in kinds {
        let images = extract_images(kind, &object(kind, full_spec())).expect("extracts");
        let expected = [
            (
                "busybox",
                "initContainers/0",
                "init",
                ContainerField::InitContainers,
            ),
            (
                "ghcr.io/org/app:v1",
                "containers/0",
                "app",
                ContainerField::Containers,
            ),
            // Returned as written even though it does not parse: the caller reports it.
            (
                "envoy@sha256:abc",
                "containers/1",
                "sidecar",
                ContainerField::Containers,
            ),
            (
                "nicolaka/netshoot",
                "ephemeralContainers/0",
                "debug",
                ContainerField::EphemeralContainers,
            ),
        ];
        let expected: Vec<ContainerImage> = expected
            .iter()
            .map(|(image, at, name, field)| ContainerImage {
                image: image.to_string(),
                pointer: format!("{base}/{at}/image"),
                container: name.to_string(),
                field: *field,
            })
            .collect();
        assert_eq!(images, expected, "{kind}");
        // Each pointer resolves to the image in the object.
        let obj = object(kind, full_spec());
        for img in &images {
            assert_eq!(
                obj.pointer(&img.pointer),
                Some(&json!(img.image)),
                "{kind} {}",
                img.pointer
            );
        }
    }
}

#[test]
fn parses_lazily() {
    let images = extract_images("Pod", &object("Pod", full_spec())).expect("extracts");
    assert_eq!(
        images[1].parse().expect("valid image").to_string(),
        "ghcr.io/org/app:v1"
    );
    assert!(matches!(
        images[2].parse(),
        Err(Error::InvalidImageReference { .. })
    ));
}

#[test]
fn nothing_to_extract() {
    let cases = [
        (
            "Service",
            json!({"kind": "Service", "spec": {"containers": [{"name": "a", "image": "x"}]}}),
        ),
        ("TaskRun", object("Pod", full_spec())),
        ("Pod", json!({"kind": "Pod"})),
        ("Pod", json!({"kind": "Pod", "spec": null})),
        ("Pod", json!({"kind": "Pod", "spec": {}})),
        (
            "Deployment",
            json!({"kind": "Deployment", "spec": {"replicas": 1}}),
        ),
        (
            "CronJob",
            json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {}}}}),
        ),
        ("Pod", object("Pod", json!({"containers": []}))),
        ("Pod", object("Pod", json!({"containers": [{"name": "a"}]}))),
        (
            "Pod",
            object("Pod", json!({"containers": [{"name": "a", "image": "  "}]})),
        ),
        (
            "Pod",
            object("Pod", json!({"containers": [{"name": "a", "image": null}]})),
        ),
    ];
    for (kind, obj) in cases {
        assert_eq!(
            extract_images(kind, &obj).expect("no error"),
            Vec::new(),
            "{kind} {obj}"
        );
    }
}

#[test]
fn ill_typed_fields_are_named() {
    let cases = [
        ("Pod", json!("not an object"), "object: expected an object"),
        ("Pod", json!({"spec": "x"}), "spec: expected an object"),
        (
            "Deployment",
            json!({"spec": {"template": []}}),
            "spec.template: expected an object",
        ),
        (
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": 3}}}}}),
            "spec.jobTemplate.spec.template.spec: expected an object",
        ),
        (
            "Pod",
            object("Pod", json!({"containers": {"a": {}}})),
            "spec.containers: expected a list",
        ),
        (
            "Job",
            object("Job", json!({"initContainers": "x"})),
            "spec.template.spec.initContainers: expected a list",
        ),
        (
            "Pod",
            object("Pod", json!({"containers": ["nginx"]})),
            "spec.containers[0]: expected an object",
        ),
        (
            "Pod",
            object("Pod", json!({"containers": [{"image": "nginx"}]})),
            "spec.containers[0].name: required",
        ),
        (
            "Pod",
            object(
                "Pod",
                json!({"ephemeralContainers": [{"name": 1, "image": "x"}]}),
            ),
            "spec.ephemeralContainers[0].name: expected a string",
        ),
        (
            "StatefulSet",
            object(
                "StatefulSet",
                json!({"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": 7}]}),
            ),
            "spec.template.spec.containers[1].image: expected a string",
        ),
    ];
    for (kind, obj, message) in cases {
        match extract_images(kind, &obj) {
            Err(Error::InvalidRequest(m)) => assert_eq!(m, message, "{kind} {obj}"),
            other => panic!("{kind} {obj}: expected an error, got {other:?}"),
        }
    }
}
