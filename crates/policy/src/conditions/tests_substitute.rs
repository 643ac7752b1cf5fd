//! Substitution and template-check tests (cases from Kyverno's `vars_test.go` where it
//! has them).

use serde_json::{json, Value};

use super::*;

fn data() -> Value {
    json!({
        "builder": {"id": "https://github.com/actions/runner"},
        "metadata": {
            "name": "temp",
            "scanFinishedOn": "2024-01-01T00:00:00Z",
            "annotations": {"test": "name", "target": "nested_target", "targetnew": "target"},
            "nil": null
        },
        "n": 1.0,
        "big": 1e21,
        "obj": {"b": 1, "a": "<x>"},
        "list": ["x", 2],
        "variableWithVariables": "{{ DO_NOT_SUBSTITUTE_ME {{OR_ME}} }}",
        "foo": "bar",
        "foo2": "bar2",
        "variablesNested": "{{foo2}}",
        "templated": {"k": "{{ foo }}"},
        "selfref": "{{ selfref }}"
    })
}

fn sub(v: Value) -> Value {
    substitute(&v, &data()).unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn sub_err(v: Value) -> String {
    match substitute(&v, &data()) {
        Ok(r) => panic!("{v} should fail, got {r}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn whole_string_keeps_the_json_type() {
    assert_eq!(sub(json!("{{ n }}")), json!(1.0));
    assert_eq!(sub(json!("{{obj}}")), json!({"a": "<x>", "b": 1}));
    assert_eq!(sub(json!("{{ list }}")), json!(["x", 2]));
    assert_eq!(
        sub(json!("{{ builder.id }}")),
        json!("https://github.com/actions/runner")
    );
    assert_eq!(sub(json!("{{ metadata.nil }}")), json!(null));
    assert_eq!(sub(json!("{{ length(list) }}")), json!(2));
    assert_eq!(sub(json!(5)), json!(5));
}

#[test]
fn interpolation_uses_go_json_text() {
    assert_eq!(sub(json!("name-{{ metadata.name }}")), json!("name-temp"));
    assert_eq!(sub(json!("n={{ n }}")), json!("n=1"));
    assert_eq!(sub(json!("big={{ big }}")), json!("big=1e+21"));
    assert_eq!(
        sub(json!("o={{ obj }}")),
        json!(r#"o={"a":"\u003cx\u003e","b":1}"#)
    );
    assert_eq!(sub(json!("l={{ list }}")), json!(r#"l=["x",2]"#));
    assert_eq!(
        sub(json!("content = {{ metadata.nil }}")),
        json!("content = null")
    );
    assert_eq!(sub(json!("{{foo}}{{foo2}}")), json!("barbar2"));
    assert_eq!(
        sub(json!("{{ foo }} {{foo}} {{foo}}")),
        json!("bar bar bar")
    );
}

#[test]
fn recursion_through_arrays_objects_and_results() {
    let v = json!({"kind": "{{metadata.name}}", "{{ foo }}": ["ns-{{metadata.name}}", {"x": "{{ n }}"}]});
    assert_eq!(
        sub(v),
        json!({"kind": "temp", "bar": ["ns-temp", {"x": 1.0}]})
    );
    // Kyverno traverses objects produced by a variable, substituting inside them too.
    assert_eq!(sub(json!("{{ templated }}")), json!({"k": "bar"}));
    assert!(sub_err(json!({"{{ n }}": 1})).contains("expected string"));
    // A whole-string result is not rescanned; spliced into text it would loop forever.
    assert_eq!(sub(json!("{{ selfref }}")), json!("{{ selfref }}"));
    assert!(sub_err(json!("a {{ selfref }}")).contains("keep expanding"));
}

#[test]
fn nested_variables_resolve_innermost_first() {
    assert_eq!(
        sub(json!("{{metadata.{{metadata.annotations.test}}}}")),
        json!("temp")
    );
    assert_eq!(
        sub(json!(
            "{{ time_since('','{{metadata.scanFinishedOn}}','2024-01-02T01:00:00Z') }}"
        )),
        json!("25h0m0s")
    );
    assert!(sub_err(json!("{{metadata.{{metadata.annotations.test2}}}}")).contains("test2"));
    assert!(sub_err(json!("{{metadata2.{{metadata.annotations.test}}}}")).contains("metadata2"));
}

#[test]
fn escapes_and_shallow_substitution() {
    assert_eq!(sub(json!("\\{{ foo }}")), json!("{{ foo }}"));
    assert_eq!(
        sub(json!("{{ foo }} \\{{foo}} {{foo}}")),
        json!("bar {{foo}} bar")
    );
    assert_eq!(
        sub(json!(
            "\\{{metadata.annotations.{{metadata.annotations.targetnew}}}}"
        )),
        json!("{{metadata.annotations.target}}")
    );
    assert_eq!(
        sub(json!(
            "{{- variableWithVariables }} {{foo}} {{variablesNested}}"
        )),
        json!("{{ DO_NOT_SUBSTITUTE_ME {{OR_ME}} }} bar bar2")
    );
    assert_eq!(
        sub(json!(
            "{{foo}} {{- variableWithVariables }} {{variablesNested}}"
        )),
        json!("bar {{ DO_NOT_SUBSTITUTE_ME {{OR_ME}} }} bar2")
    );
    assert!(sub_err(json!(
        "{{- variableWithVariables {{foo}} {{variablesNested}} }}"
    ))
    .contains("variableWithVariables bar bar2"));
}

#[test]
fn unresolved_variables_are_errors() {
    let e = sub_err(json!("{{ builder.name }}"));
    assert!(
        e.contains("Unknown key \"name\" in path") && e.contains("builder.name"),
        "{e}"
    );
    assert!(sub_err(json!("prefix-{{ nope }}")).contains("Unknown key \"nope\""));
    assert!(sub_err(json!("{{ }}")).contains("invalid query"));
    assert!(sub_err(json!("{{@}}")).contains("not supported"));
    assert!(sub_err(json!("{{ a.[ }}")).contains("a.["));
    assert!(sub_err(json!("{{ to_upper(n) }}")).contains("to_upper"));
    // A missing key inside a function argument is null, as in Kyverno.
    assert_eq!(sub(json!("{{ to_string(nope) }}")), json!("null"));
    assert_eq!(sub(json!("{{ nope || 'default' }}")), json!("default"));
}

#[test]
fn template_checks() {
    for ok in [
        "plain text",
        "{{ builder.id }}",
        "https://{{ builder.id }}/x",
        "{{ time_since('','{{metadata.scanFinishedOn}}','') }}",
        "{{ {a: b} }}",
        "\\{{ not a variable }}",
        "{{- foo }}",
        "{{ a.{{b}} }}",
        "a } b { c",
    ] {
        assert_eq!(check_template(ok), Ok(()), "{ok}");
    }
    for (bad, why) in [
        ("{{ builder.id", "unterminated"),
        ("builder.id }}", "unmatched"),
        ("{{ a.[ }}", "invalid JMESPath"),
        ("{{ x509_decode(cert) }}", "x509_decode"),
        ("{{ }}", "empty"),
        ("{{@}}", "not supported"),
        ("{{ {a: {b: c}} }}", "unmatched"),
        ("{{ a { b }}", "malformed"),
        ("{{ time_since('','{{ a.[ }}','') }}", "invalid JMESPath"),
    ] {
        match check_template(bad) {
            Err(e) => assert!(e.contains(why), "{bad}: {e}"),
            Ok(()) => panic!("{bad} should be refused"),
        }
    }
}

#[test]
fn admission_context_roots_are_refused_wherever_a_path_starts_at_the_root() {
    for (bad, root) in [
        ("{{ request.object.metadata.name }}", "request"),
        ("{{ request }}", "request"),
        ("{{ images.containers.app.digest }}", "images"),
        ("{{ serviceAccountName }}", "serviceAccountName"),
        ("x-{{ serviceAccountNamespace }}", "serviceAccountNamespace"),
        ("{{ element.name }}", "element"),
        ("{{ elementIndex }}", "elementIndex"),
        ("{{ to_upper(request.operation) }}", "request"),
        ("{{ builder.id || request.name }}", "request"),
        ("{{ builder.id == request.name }}", "request"),
        ("{{ [builder.id, images] }}", "images"),
        ("{{ {a: element} }}", "element"),
        ("{{ request.items[?x] }}", "request"),
        ("{{ @.request }}", "request"),
        ("{{ time_since('','{{ request.x }}','') }}", "request"),
    ] {
        match check_template(bad) {
            Err(e) => {
                assert!(
                    e.starts_with(
                        "not supported by Signet: attestation conditions see the \
                         attestation's predicate only"
                    ),
                    "{bad}: {e}"
                );
                assert!(e.contains(&format!("reads {root:?}")), "{bad}: {e}");
            }
            Ok(()) => panic!("{bad} should be refused"),
        }
    }
    // The same names below the root are the predicate's own fields.
    for ok in [
        "{{ builder.request }}",
        "{{ items[?request == 'x'] }}",
        "{{ items[*].images }}",
        "{{ sort_by(items, &element) }}",
        "{{ materials[].element | [0] }}",
        "{{ requests }}",
    ] {
        assert_eq!(check_template(ok), Ok(()), "{ok}");
    }
}
