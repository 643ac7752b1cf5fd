//! Reports over a real store: the decisions each filter selects, and refusals of bad filters.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use reqwest::StatusCode;
use serde_json::Value;
use signet_verifier::http::{router, AppState};
use signet_verifier::metrics::Metrics;
use signet_verifier::service::Service;
use signet_verifier::store::{DecisionRecord, Store};
use signet_verify::registry::{RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;

struct Server {
    addr: SocketAddr,
    service: Service,
    admin: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(None, dir.path()).await.expect("store");
    let registry = RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    };
    let service = signet_verifier::app::build_service(store, registry, TrustRoot::default())
        .await
        .expect("service");
    let admin = service
        .bootstrap_admin()
        .await
        .expect("bootstrap")
        .expect("first admin")
        .token;
    service
        .register_cluster("prod-eu", &BTreeMap::new())
        .await
        .expect("cluster");
    let state = AppState {
        service: service.clone(),
        metrics: Metrics::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(state, 1 << 20)).await;
    });
    Server {
        addr,
        service,
        admin,
        _dir: dir,
    }
}

impl Server {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let resp = reqwest::Client::new()
            .get(format!("http://{}{path}", self.addr))
            .bearer_auth(&self.admin)
            .send()
            .await
            .expect("send");
        let status = resp.status();
        let text = resp.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The ids of the decisions `GET path` lists, in order.
    async fn ids(&self, path: &str) -> Vec<String> {
        let (status, v) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {v}");
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|d| d["id"].as_str().expect("id").to_owned())
            .collect()
    }
}

/// 2026-01-01T00:00:00Z.
const T0_MS: i64 = 1_767_225_600_000;

/// A decision in cluster prod-eu, namespace team, Pod `app`; tests override the rest.
fn decision(id: &str, time: i64, result: &str, action: &str) -> DecisionRecord {
    DecisionRecord {
        id: id.to_owned(),
        time,
        cluster: "prod-eu".to_owned(),
        namespace: "team".to_owned(),
        kind: "Pod".to_owned(),
        name: "app".to_owned(),
        operation: "CREATE".to_owned(),
        image: "registry.example.com/app:v1".to_owned(),
        digest: None,
        policy: "require-signed".to_owned(),
        policy_version: 1,
        rule: "check".to_owned(),
        result: result.to_owned(),
        action: action.to_owned(),
        message: String::new(),
        dry_run: false,
    }
}

#[tokio::test]
async fn every_recorded_result_can_be_selected() {
    let s = start().await;
    s.service
        .store()
        .insert_decisions(&[
            decision("d1-pass", 1_000, "pass", "enforce"),
            decision("d2-fail", 2_000, "fail", "enforce"),
            decision("d3-audit", 3_000, "fail", "audit"),
            decision("d4-error", 4_000, "error", "enforce"),
            decision("d5-skip", 5_000, "skip", "audit"),
        ])
        .await
        .expect("insert");

    for (result, want) in [
        ("pass", vec!["d1-pass"]),
        ("fail", vec!["d3-audit", "d2-fail"]),
        ("warn", vec!["d3-audit"]),
        ("error", vec!["d4-error"]),
        ("skip", vec!["d5-skip"]),
    ] {
        assert_eq!(
            s.ids(&format!("/v1/reports?result={result}")).await,
            want,
            "result={result}"
        );
    }

    let (status, v) = s.get("/v1/reports/summary?result=warn").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    for (count, want) in [
        ("pass", 0),
        ("fail", 0),
        ("warn", 1),
        ("error", 0),
        ("skip", 0),
    ] {
        assert_eq!(v[0][count], want, "{count}: {v}");
    }

    for path in [
        "/v1/reports?result=maybe",
        "/v1/reports/summary?result=WARN",
    ] {
        let (status, v) = s.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert_eq!(v["error"], "bad_request", "{path}: {v}");
        let message = v["message"].as_str().expect("a JSON message");
        assert!(message.starts_with("result "), "{path}: {message}");
        assert!(
            message.contains("pass, fail, warn, error, skip"),
            "{message}"
        );
    }
}

/// A verifyImages ClusterPolicy with these extra `metadata.annotations` lines.
fn policy(name: &str, action: &str, annotations: &[(&str, &str)]) -> String {
    let mut meta = format!("metadata:\n  name: {name}\n");
    if !annotations.is_empty() {
        meta.push_str("  annotations:\n");
        for (k, v) in annotations {
            meta.push_str(&format!("    {k}: \"{v}\"\n"));
        }
    }
    format!(
        "apiVersion: kyverno.io/v1
kind: ClusterPolicy
{meta}spec:
  validationFailureAction: {action}
  rules:
    - name: check
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      verifyImages:
        - imageReferences: [\"registry.example.com/*\"]
          attestors:
            - entries:
                - keys:
                    secret: {{name: k, namespace: ns}}
"
    )
}

const CATEGORY: &str = "policies.kyverno.io/category";
const SEVERITY: &str = "policies.kyverno.io/severity";
const SCORED: &str = "policies.kyverno.io/scored";

#[tokio::test]
async fn policy_reports_are_written_as_kyverno_writes_them() {
    let s = start().await;
    let apply = |text: String| {
        let service = s.service.clone();
        async move { service.apply_policy(&text).await.expect("apply").version }
    };
    let supply = [
        (CATEGORY, "Software Supply Chain Security"),
        (SEVERITY, "high"),
    ];
    assert_eq!(apply(policy("audit-signed", "Audit", &supply)).await, 1);
    let v2 = [
        (CATEGORY, "Software Supply Chain Security"),
        (SEVERITY, "low"),
    ];
    assert_eq!(apply(policy("audit-signed", "Audit", &v2)).await, 2);
    let unscored = [(SCORED, "false"), (SEVERITY, "medium"), (CATEGORY, "")];
    apply(policy("unscored", "Enforce", &unscored)).await;
    apply(policy("plain", "Enforce", &[(SEVERITY, "urgent")])).await;
    apply(policy("gone", "Enforce", &[])).await;
    let selector = [("signet.dev/cluster-selector", "env=dev")];
    apply(policy("dev-only", "Enforce", &selector)).await;
    s.service.delete_policy("gone").await.expect("delete");

    let t = T0_MS;
    // Only audit-signed is an Audit policy.
    let d = |id: &str, time, name: &str, policy: &str, version, image: &str, result| {
        let action = if policy == "audit-signed" {
            "audit"
        } else {
            "enforce"
        };
        DecisionRecord {
            name: name.to_owned(),
            policy: policy.to_owned(),
            policy_version: version,
            image: format!("registry.example.com/{image}"),
            message: format!("{policy} says {result}"),
            ..decision(id, time, result, action)
        }
    };
    let with = |d: DecisionRecord, f: &dyn Fn(&mut DecisionRecord)| {
        let mut d = d;
        f(&mut d);
        d
    };
    s.service
        .store()
        .insert_decisions(&[
            // Pod team/old: one Audit failure under version 1 (severity high then).
            d("o1", t, "old", "audit-signed", 1, "a", "fail"),
            // Pod team/app, first admission: superseded below, image c is gone since.
            d("a0", t, "app", "audit-signed", 1, "a", "pass"),
            d("a1", t, "app", "plain", 1, "c", "fail"),
            // Pod team/app, latest admission (two images).
            d("b1", t + 5_000, "app", "audit-signed", 2, "a", "fail"),
            with(d("b2", t + 5_000, "app", "plain", 1, "a", "pass"), &|d| {
                d.digest = Some("sha256:aaaa".into())
            }),
            d("b3", t + 5_000, "app", "plain", 1, "b", "fail"),
            with(d("b4", t + 5_000, "app", "plain", 1, "a", "error"), &|d| {
                d.rule = "other".into()
            }),
            d("b5", t + 5_000, "app", "unscored", 1, "a", "fail"),
            d("b6", t + 5_000, "app", "gone", 1, "a", "fail"),
            d("b7", t + 5_000, "app", "dev-only", 1, "a", "fail"),
            // Deployment team/web.
            with(d("w1", t + 7_000, "web", "plain", 1, "w", "skip"), &|d| {
                d.kind = "Deployment".into()
            }),
            // Two Pods created with generateName, as the mutating webhook saw them:
            // not named yet, in no report (the validating webhook's decisions name them).
            d("g1", t + 6_000, "", "plain", 1, "g", "fail"),
            d("g2", t + 6_500, "", "audit-signed", 2, "h", "pass"),
            // A pipeline check (POST /v1/verify): no resource, not in any report.
            with(d("v1", t + 9_000, "", "plain", 1, "v", "fail"), &|d| {
                d.operation = "VERIFY".into()
            }),
            // Another cluster's decision.
            with(d("x1", t + 9_000, "app", "plain", 1, "x", "fail"), &|d| {
                d.cluster = "dev-eu".into()
            }),
        ])
        .await
        .expect("insert");

    let (status, v) = s.get("/v1/clusters/prod-eu/policyreports").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let reports = v.as_array().expect("a list of reports");
    let scopes: Vec<(&str, &str)> = reports
        .iter()
        .map(|r| {
            (
                r["scope"]["kind"].as_str().unwrap_or_default(),
                r["scope"]["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        scopes,
        [("Deployment", "web"), ("Pod", "app"), ("Pod", "old")],
        "one report per resource; the pipeline check, resources not named yet and other clusters are left out: {v}"
    );
    for r in reports {
        assert_eq!(r["apiVersion"], "wgpolicyk8s.io/v1alpha2");
        assert_eq!(r["kind"], "PolicyReport");
        assert_eq!(r["metadata"]["namespace"], "team");
        assert_eq!(
            r["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "signet"
        );
        assert_eq!(r["scope"]["namespace"], "team");
        let results = r["results"].as_array().expect("results");
        for status in ["pass", "fail", "warn", "error", "skip"] {
            let n = results.iter().filter(|x| x["result"] == status).count();
            assert_eq!(
                r["summary"][status], n,
                "summary.{status} counts the results: {r}"
            );
        }
        for x in results {
            assert_eq!(x["source"], "kyverno", "{x}");
            assert!(
                x.get("resources").is_none(),
                "the scope names the resource: {x}"
            );
            assert_eq!(x["properties"]["process"], "admission review", "{x}");
            assert_eq!(x["timestamp"]["nanos"], 0, "{x}");
        }
    }
    assert_eq!(reports[0]["scope"]["apiVersion"], "apps/v1");
    assert_eq!(reports[1]["scope"]["apiVersion"], "v1");
    assert_ne!(
        reports[1]["metadata"]["name"],
        reports[2]["metadata"]["name"]
    );

    let app = &reports[1];
    let results: Vec<(&str, &str, &str, &str)> = app["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|x| {
            (
                x["policy"].as_str().unwrap_or_default(),
                x["rule"].as_str().unwrap_or_default(),
                x["properties"]["image"].as_str().unwrap_or_default(),
                x["result"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let img = |i: &str| format!("registry.example.com/{i}");
    let (a, b) = (img("a"), img("b"));
    assert_eq!(
        results,
        [
            // An Audit failure is a fail, as Kyverno writes it.
            ("audit-signed", "check", a.as_str(), "fail"),
            ("plain", "check", a.as_str(), "pass"),
            ("plain", "check", b.as_str(), "fail"),
            ("plain", "other", a.as_str(), "error"),
            // A failure of a policy with scored: "false" is a warn.
            ("unscored", "check", a.as_str(), "warn"),
        ],
        "the latest admission only, without deleted policies or those not for this cluster: {app}"
    );
    assert_eq!(
        app["summary"],
        serde_json::json!({"pass": 1, "fail": 2, "warn": 1, "error": 1, "skip": 0})
    );
    let x = &app["results"];
    // Category and severity come from the revision that decided (version 2 here).
    assert_eq!(x[0]["category"], "Software Supply Chain Security");
    assert_eq!(x[0]["severity"], "low");
    assert_eq!(x[0]["scored"], true);
    assert_eq!(x[0]["message"], "audit-signed says fail");
    assert_eq!(x[0]["timestamp"]["seconds"], (t + 5_000) / 1000);
    // Without the annotations (or with a severity the schema does not allow) they are absent.
    for key in ["category", "severity"] {
        assert!(x[1].get(key).is_none(), "{key}: {}", x[1]);
    }
    assert_eq!(x[1]["properties"]["digest"], "sha256:aaaa");
    assert!(x[2]["properties"].get("digest").is_none(), "{}", x[2]);
    // Not scored: `scored` is omitted (false), the severity kept, the empty category not.
    assert!(x[4].get("scored").is_none(), "{}", x[4]);
    assert_eq!(x[4]["severity"], "medium");
    assert!(x[4].get("category").is_none(), "{}", x[4]);

    let old = &reports[2]["results"][0];
    assert_eq!(
        (&old["result"], &old["severity"]),
        (&Value::from("fail"), &Value::from("high")),
        "version 1's annotations: {old}"
    );
    assert_eq!(reports[0]["results"][0]["result"], "skip");
}
