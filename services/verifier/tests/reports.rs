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
