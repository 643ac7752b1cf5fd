//! `evaluate_blocks`: any/all semantics, failure messages and errors (cases from
//! Kyverno's `Test_Condition_Messages` and `TestEvaluateConditionsWithContext`).

use serde_json::{json, Value};

use super::*;

fn c(key: &str, op: Operator, value: Value, message: Option<&str>) -> Condition {
    Condition {
        key: json!(key),
        operator: op,
        value,
        message: message.map(str::to_owned),
    }
}

fn data() -> Value {
    json!({
        "metadata": {"name": "temp", "namespace": "n1"},
        "spec": {"foo": "bar", "foo2": "bar2"},
        "builder": {"id": "https://github.com/actions/runner"},
        "secret": "s3cr3t"
    })
}

fn run(blocks: &[AnyAllConditions]) -> Outcome {
    evaluate_blocks(blocks, &data()).expect("evaluates")
}

fn fail(message: &str) -> Outcome {
    Outcome::Fail {
        message: message.to_owned(),
    }
}

#[test]
fn kyverno_condition_messages() {
    let name = |v: &str| {
        c(
            "{{metadata.name}}",
            Operator::Equals,
            json!(v),
            Some("invalid name"),
        )
    };
    let foo = |v: &str, m: &str| c("{{spec.foo}}", Operator::Equals, json!(v), Some(m));
    let mut block = AnyAllConditions {
        any: vec![name("temp2"), foo("bar2", "invalid foo")],
        all: vec![],
    };
    assert_eq!(
        run(std::slice::from_ref(&block)),
        fail("invalid name; invalid foo")
    );
    block.any = vec![name("temp"), foo("bar", "invalid foo")];
    assert_eq!(run(std::slice::from_ref(&block)), Outcome::Pass);
    block.all = vec![name("temp"), foo("bar2", "invalid foo")];
    assert_eq!(run(std::slice::from_ref(&block)), fail("invalid foo"));
    block.any = vec![name("temp1"), foo("bar2", "invalid foo")];
    block.all[1].message = Some("invalid foo2".to_owned());
    assert_eq!(
        run(std::slice::from_ref(&block)),
        fail("invalid name; invalid foo; invalid foo2")
    );
}

#[test]
fn any_and_all_semantics() {
    let yes = |m| {
        c(
            "{{metadata.name}}",
            Operator::Equals,
            json!("temp"),
            Some(m),
        )
    };
    let no = |m| {
        c(
            "{{metadata.name}}",
            Operator::Equals,
            json!("other"),
            Some(m),
        )
    };
    assert_eq!(run(&[]), Outcome::Pass);
    assert_eq!(run(&[AnyAllConditions::default()]), Outcome::Pass);
    assert_eq!(
        run(&[AnyAllConditions {
            any: vec![no("a"), yes("b")],
            all: vec![]
        }]),
        Outcome::Pass
    );
    assert_eq!(
        run(&[AnyAllConditions {
            any: vec![no("a"), no("b")],
            all: vec![]
        }]),
        fail("a; b")
    );
    assert_eq!(
        run(&[AnyAllConditions {
            any: vec![],
            all: vec![yes("a"), yes("b")]
        }]),
        Outcome::Pass
    );
    // `all` stops at its first false condition.
    assert_eq!(
        run(&[AnyAllConditions {
            any: vec![],
            all: vec![yes("a"), no("b"), no("c")]
        }]),
        fail("b")
    );
    assert_eq!(
        run(&[AnyAllConditions {
            any: vec![yes("a")],
            all: vec![no("b")]
        }]),
        fail("b")
    );
    // Every block must pass; the first failing one decides.
    let blocks = [
        AnyAllConditions {
            any: vec![yes("a")],
            all: vec![],
        },
        AnyAllConditions {
            any: vec![],
            all: vec![no("second")],
        },
        AnyAllConditions {
            any: vec![],
            all: vec![no("third")],
        },
    ];
    assert_eq!(run(&blocks), fail("second"));
}

#[test]
fn generated_messages_name_key_operator_value_and_result() {
    let block = AnyAllConditions {
        any: vec![],
        all: vec![c(
            "{{ builder.id }}",
            Operator::Equals,
            json!("https://github.com/org/*"),
            None,
        )],
    };
    let Outcome::Fail { message } = run(&[block]) else {
        panic!("should fail")
    };
    assert!(message.contains(r#""{{ builder.id }}""#), "{message}");
    assert!(
        message.contains("Equals") && message.contains(r#""https://github.com/org/*""#),
        "{message}"
    );
    assert!(
        message.contains(r#""https://github.com/actions/runner""#),
        "{message}"
    );
    let block = AnyAllConditions {
        any: vec![],
        all: vec![c(
            "{{ metadata.name }}",
            Operator::In,
            json!(["{{ spec.foo }}"]),
            Some(""),
        )],
    };
    let Outcome::Fail { message } = run(&[block]) else {
        panic!("should fail")
    };
    assert!(message.contains(r#"the value to ["bar"]"#), "{message}");
}

#[test]
fn messages_may_hold_variables() {
    let block = AnyAllConditions {
        any: vec![],
        all: vec![c(
            "{{ spec.foo }}",
            Operator::NotEquals,
            json!("bar"),
            Some("foo is {{ spec.foo }}"),
        )],
    };
    assert_eq!(run(&[block]), fail("foo is bar"));
    let block = AnyAllConditions {
        any: vec![],
        all: vec![c(
            "{{ spec.foo }}",
            Operator::NotEquals,
            json!("bar"),
            Some("{{ metadata }}"),
        )],
    };
    assert!(evaluate_blocks(&[block], &data()).is_err());
}

#[test]
fn errors_abort_evaluation() {
    let missing = c(
        "{{ builder.missing }}",
        Operator::Equals,
        json!("x"),
        Some("m"),
    );
    let e = evaluate_blocks(
        &[AnyAllConditions {
            any: vec![missing.clone()],
            all: vec![],
        }],
        &data(),
    );
    match e {
        Err(Error::Condition(msg)) => assert!(msg.contains("Unknown key \"missing\""), "{msg}"),
        other => panic!("unexpected {other:?}"),
    }
    // A later block's error wins over an earlier block's failure: Kyverno substitutes
    // every block before evaluating any.
    let no = c(
        "{{metadata.name}}",
        Operator::Equals,
        json!("other"),
        Some("no"),
    );
    let blocks = [
        AnyAllConditions {
            any: vec![no],
            all: vec![],
        },
        AnyAllConditions {
            any: vec![],
            all: vec![missing],
        },
    ];
    assert!(evaluate_blocks(&blocks, &data()).is_err());
    // A non-string element in an In array key is an error, not a false condition.
    let bad = c("{{ [`1`] }}", Operator::In, json!(["1"]), None);
    assert!(evaluate_blocks(
        &[AnyAllConditions {
            any: vec![],
            all: vec![bad]
        }],
        &data()
    )
    .is_err());
}

#[test]
fn second_substitution_pass_like_kyverno() {
    // Kyverno substitutes attestation conditions twice, so an escaped variable is
    // resolved by the second pass; a single `evaluate` keeps it literal.
    let cond = c(
        "{{ secret }}",
        Operator::Equals,
        json!("\\{{ secret }}"),
        Some("differs"),
    );
    assert_eq!(
        run(&[AnyAllConditions {
            any: vec![],
            all: vec![cond.clone()]
        }]),
        Outcome::Pass
    );
    assert!(!evaluate(&cond, &data()).expect("evaluates"));
    let literal = c(
        "{{ secret }}",
        Operator::Equals,
        json!("{{ secret }}"),
        None,
    );
    assert!(evaluate(&literal, &data()).expect("evaluates"));
}
