//! The JMESPath compliance suite (`jmespath/*.json` of the shared test data:
//! `$SIGNET_TESTDATA`, else `../shared/testdata` beside the checkout) run through Signet's
//! runtime, Kyverno functions included.

mod common;

use std::path::PathBuf;

use serde_json::Value;
use signet_policy::jmespath;

/// Cases in the suite; a missing or truncated file fails the count.
const EXPECTED_CASES: usize = 908;

fn suite_dir() -> PathBuf {
    common::testdata("jmespath")
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| same(p, q)))
        }
        _ => a == b,
    }
}

#[test]
fn compliance_suite() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(suite_dir())
        .expect("compliance suite directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut total, mut passed, mut failures) = (0usize, 0usize, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("suite file");
        let groups: Vec<Value> = serde_json::from_str(&text).expect("suite JSON");
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for group in &groups {
            let given = &group["given"];
            for case in group["cases"].as_array().expect("cases") {
                total += 1;
                let expr = case["expression"].as_str().expect("expression");
                let outcome = jmespath::compile(expr).and_then(|e| e.search(given));
                let ok = if let Some(expected) = case.get("result") {
                    matches!(&outcome, Ok(v) if same(v, expected))
                } else if case.get("error").is_some() {
                    outcome.is_err()
                } else {
                    // `bench` cases only have to run to completion.
                    true
                };
                if ok {
                    passed += 1;
                } else {
                    failures.push(format!("{name}: {expr} -> {outcome:?}, want {case}"));
                }
            }
        }
    }
    println!("{passed} cases passed");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        total, EXPECTED_CASES,
        "the suite should have {EXPECTED_CASES} cases"
    );
}
