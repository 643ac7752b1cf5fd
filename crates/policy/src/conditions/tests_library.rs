//! The attestation conditions of Kyverno's policy library
//! (`shared/testdata/kyverno-policies`) evaluated over realistic predicates.

use serde_json::json;

use super::*;

fn c(key: &str, op: Operator, value: serde_json::Value) -> Condition {
    Condition {
        key: json!(key),
        operator: op,
        value,
        message: None,
    }
}

#[test]
fn kyverno_library_conditions() {
    let all = |key: &str, op, value| {
        vec![AnyAllConditions {
            any: vec![],
            all: vec![c(key, op, value)],
        }]
    };
    // require-vulnerability-scan.yaml
    let scan = all(
        "{{ time_since('','{{metadata.scanFinishedOn}}','') }}",
        Operator::LessThanOrEquals,
        json!("168h"),
    );
    let recent = (chrono::Utc::now() - chrono::TimeDelta::hours(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let fresh = json!({"metadata": {"scanFinishedOn": recent}});
    assert_eq!(
        evaluate_blocks(&scan, &fresh).expect("evaluates"),
        Outcome::Pass
    );
    let stale = json!({"metadata": {"scanFinishedOn": "2020-01-01T00:00:00Z"}});
    assert!(matches!(
        evaluate_blocks(&scan, &stale),
        Ok(Outcome::Fail { .. })
    ));
    assert!(evaluate_blocks(&scan, &json!({"metadata": {}})).is_err());
    // verify-image-slsa.yaml
    let slsa = all(
        "{{ regex_match('^https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v[0-9].[0-9].[0-9]$','{{ builder.id}}') }}",
        Operator::Equals,
        json!(true),
    );
    let id = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.4.0";
    assert_eq!(
        evaluate_blocks(&slsa, &json!({"builder": {"id": id}})).expect("evaluates"),
        Outcome::Pass
    );
    let other = json!({"builder": {"id": "https://github.com/evil/workflow@refs/tags/v1.4.0"}});
    assert!(matches!(
        evaluate_blocks(&slsa, &other),
        Ok(Outcome::Fail { .. })
    ));
    // verify-image-cve-2022-42889.yaml
    let cve = all(
        "{{ components[?name=='commons-text'].version || 'none' }}",
        Operator::AllNotIn,
        json!(["1.5", "1.6", "1.7", "1.8", "1.9"]),
    );
    let vulnerable = json!({"components": [{"name": "commons-text", "version": "1.9"}]});
    assert!(matches!(
        evaluate_blocks(&cve, &vulnerable),
        Ok(Outcome::Fail { .. })
    ));
    let patched = json!({"components": [{"name": "commons-text", "version": "1.10.0"}]});
    assert_eq!(
        evaluate_blocks(&cve, &patched).expect("evaluates"),
        Outcome::Pass
    );
    let absent = json!({"components": [{"name": "log4j", "version": "2.17"}]});
    assert_eq!(
        evaluate_blocks(&cve, &absent).expect("evaluates"),
        Outcome::Pass
    );
    // verify-tekton-taskrun-vuln-scan.yaml: a number compared with a string is null in
    // JMESPath, so the filter keeps nothing and the count is 0.
    let vuln = all(
        "{{ matches[].vulnerability[].cvss[?metrics.impactScore > '8.0'][] | length(@) }}",
        Operator::Equals,
        json!(0),
    );
    let report =
        json!({"matches": [{"vulnerability": {"cvss": [{"metrics": {"impactScore": 9.1}}]}}]});
    assert_eq!(
        evaluate_blocks(&vuln, &report).expect("evaluates"),
        Outcome::Pass
    );
}
