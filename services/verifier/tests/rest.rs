//! The REST API over a real store (PostgreSQL, a database per test): every route × role,
//! bad input, the OpenAPI drift check.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use signet_verifier::cache::CacheOptions;
use signet_verifier::http::{router, AppState};
use signet_verifier::metrics::Metrics;
use signet_verifier::service::{CredentialsKey, NewToken, Service};
use signet_verifier::store::{now_ms, DecisionRecord};
use signet_verifier::{app, auth::Role, store::Store};
use signet_verify::registry::{RegistryConfig, Transport};
use signet_verify::trust::TrustRoot;
use support::postgres::PgDb;

mod support;

struct Server {
    addr: SocketAddr,
    service: Service,
    _db: PgDb,
    admin: String,
    reader: String,
    cluster: String,
    revoked: String,
    expired: String,
    /// A reader token's id, for the route that revokes tokens.
    spare: String,
}

const POLICY: &str = "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-signed
spec:
  validationFailureAction: Enforce
  rules:
    - name: r
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: [\"registry.example.com/*\"]
          attestors:
            - entries:
                - keys:
                    secret: {name: k, namespace: ns}
";

/// A server taking bodies up to `max_body` bytes; with `sealing`, it has a key to seal
/// registry credentials with.
async fn start(max_body: usize, sealing: bool) -> Server {
    let db = PgDb::create().await;
    let store = Store::open(Some(&db.url), &std::env::temp_dir())
        .await
        .expect("store");
    let registry = RegistryConfig {
        default_transport: Transport::Http,
        ..RegistryConfig::default()
    };
    let secrets = app::Secrets {
        jwt_key: None,
        credentials_key: sealing.then(|| {
            CredentialsKey::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
                .expect("key")
        }),
    };
    let service = app::build_service_with(
        store,
        registry,
        TrustRoot::default(),
        CacheOptions::default(),
        secrets,
    )
    .await
    .expect("service");
    let admin = service
        .bootstrap_admin()
        .await
        .expect("bootstrap")
        .expect("first admin")
        .token;
    assert!(
        service.bootstrap_admin().await.expect("second").is_none(),
        "only one bootstrap"
    );
    let issue = |role, cluster: Option<&str>, ttl| NewToken {
        role,
        cluster: cluster.map(str::to_owned),
        ttl_seconds: ttl,
        description: None,
    };
    let reader = service
        .issue_token(&issue(Role::Reader, None, None))
        .await
        .expect("reader")
        .token;
    let (_, cluster) = service
        .register_cluster(
            "prod-eu",
            &BTreeMap::from([("env".to_owned(), "prod".to_owned())]),
        )
        .await
        .expect("cluster");
    service
        .register_cluster("other", &BTreeMap::new())
        .await
        .expect("other cluster");
    let revoked = service
        .issue_token(&issue(Role::Admin, None, None))
        .await
        .expect("to revoke");
    service.revoke_token(&revoked.id).await.expect("revoke");
    let expired = service
        .issue_token(&issue(Role::Admin, None, Some(0)))
        .await
        .expect("expired")
        .token;
    let spare = service
        .issue_token(&issue(Role::Reader, None, None))
        .await
        .expect("spare")
        .id;
    let state = AppState {
        service: service.clone(),
        metrics: Metrics::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(state, max_body)).await;
    });
    Server {
        addr,
        service,
        _db: db,
        admin,
        reader,
        cluster: cluster.token,
        revoked: revoked.token,
        expired,
        spare,
    }
}

async fn call(
    s: &Server,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let client = reqwest::Client::new();
    let mut req = client.request(method, format!("http://{}{path}", s.addr));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    match body {
        Some(Value::String(text)) => req = req.body(text),
        Some(v) => req = req.json(&v),
        None => {}
    }
    let resp = req.send().await.expect("send");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Want {
    /// Neither 401 nor 403 (the role may do it).
    Ok,
    Forbidden,
}

#[tokio::test]
async fn every_route_by_every_role() {
    let s = start(1024 * 1024, true).await;
    use Want::*;
    let key = json!({"namespace": "ns", "name": "k2", "pem": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM\n5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==\n-----END PUBLIC KEY-----\n"});
    let root: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata().join(
            "sigstore-conformance/bundle-verify/bundle-with-sct-with-extensions/trusted_root.json",
        ))
        .expect("a trusted_root.json in the test data"),
    )
    .expect("JSON");
    let revoke_spare = format!("/v1/tokens/{}", s.spare);
    // (method, path, body, admin, reader, cluster)
    type Row<'a> = (Method, &'a str, Option<Value>, Want, Want, Want);
    let table: Vec<Row> = vec![
        (
            Method::POST,
            "/v1/trust-roots",
            Some(json!({"name": "corp", "trustedRoot": root})),
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::GET,
            "/v1/trust-roots/corp",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::POST,
            "/v1/registry-credentials",
            Some(json!({"registry": "registry.example.com", "username": "u", "password": "p"})),
            Ok,
            Forbidden,
            Forbidden,
        ),
        // The same operation storing into a named set (`imageRegistryCredentials.secrets`).
        (
            Method::POST,
            "/v1/registry-credentials",
            Some(
                json!({"registry": "registry.example.com", "username": "u", "password": "p",
                       "secret": "regcred"}),
            ),
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::POST,
            "/v1/clusters",
            Some(json!({"name": "short-lived", "labels": {"env": "test"}})),
            Ok,
            Forbidden,
            Forbidden,
        ),
        (Method::GET, "/v1/policies", None, Ok, Forbidden, Forbidden),
        (
            Method::POST,
            "/v1/policies",
            Some(Value::String(POLICY.into())),
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::POST,
            "/v1/policies/lint",
            Some(Value::String(POLICY.into())),
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::GET,
            "/v1/policies/require-signed",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (Method::GET, "/v1/keys", None, Ok, Forbidden, Forbidden),
        (
            Method::POST,
            "/v1/keys",
            Some(key.clone()),
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::GET,
            "/v1/keys/ns/k2",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::GET,
            "/v1/trust-roots",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::GET,
            "/v1/registry-credentials",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (Method::GET, "/v1/clusters", None, Ok, Forbidden, Forbidden),
        (Method::GET, "/v1/clusters/prod-eu", None, Ok, Forbidden, Ok),
        (
            Method::GET,
            "/v1/clusters/other",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::PUT,
            "/v1/clusters/other/labels",
            Some(json!({"env": "dev"})),
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::GET,
            "/v1/clusters/prod-eu/policies",
            None,
            Ok,
            Forbidden,
            Ok,
        ),
        (
            Method::GET,
            "/v1/clusters/prod-eu/policyreports",
            None,
            Ok,
            Ok,
            Ok,
        ),
        (
            Method::GET,
            "/v1/clusters/other/policyreports",
            None,
            Ok,
            Ok,
            Forbidden,
        ),
        (Method::GET, "/v1/tokens", None, Ok, Forbidden, Forbidden),
        (
            Method::POST,
            "/v1/tokens",
            Some(json!({"role": "reader"})),
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::POST,
            "/v1/verify",
            Some(json!({"image": "docker.io/library/nginx:1.25"})),
            Ok,
            Forbidden,
            Ok,
        ),
        (Method::GET, "/v1/reports", None, Ok, Ok, Ok),
        (
            Method::GET,
            "/v1/reports?cluster=other",
            None,
            Ok,
            Ok,
            Forbidden,
        ),
        (Method::GET, "/v1/reports/summary", None, Ok, Ok, Ok),
        (
            Method::DELETE,
            "/v1/keys/ns/k2",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::DELETE,
            "/v1/policies/require-signed",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::DELETE,
            "/v1/trust-roots/corp",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::DELETE,
            "/v1/registry-credentials/registry.example.com",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::DELETE,
            "/v1/registry-credentials/registry.example.com?secret=regcred",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::DELETE,
            "/v1/clusters/short-lived",
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
        (
            Method::DELETE,
            &revoke_spare,
            None,
            Ok,
            Forbidden,
            Forbidden,
        ),
    ];
    let covered: Vec<(Method, &str)> = table.iter().map(|r| (r.0.clone(), r.1)).collect();
    assert_every_api_route_is_in(&covered);
    for (method, path, body, admin, reader, cluster) in table {
        for token in [None, Some(&s.revoked), Some(&s.expired)] {
            let (status, v) = call(
                &s,
                method.clone(),
                path,
                token.map(String::as_str),
                body.clone(),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {token:?}: {v}"
            );
            assert_eq!(v["error"], "unauthenticated");
        }
        // Non-admin roles first, so an admin delete runs last.
        for (who, token, want) in [
            ("reader", &s.reader, reader),
            ("cluster", &s.cluster, cluster),
            ("admin", &s.admin, admin),
        ] {
            let (status, v) = call(&s, method.clone(), path, Some(token), body.clone()).await;
            match want {
                Forbidden => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "{who} {method} {path}: {v}")
                }
                Ok => assert!(status.is_success(), "{who} {method} {path}: {status} {v}"),
            }
        }
    }
}

/// The shared test data (`$SIGNET_TESTDATA`, or `../shared/testdata` beside the checkout).
fn testdata() -> std::path::PathBuf {
    std::env::var_os("SIGNET_TESTDATA")
        .map(Into::into)
        .unwrap_or_else(|| signet_testkit::workspace_root().join("../shared/testdata"))
}

/// Fails naming every operation of the committed OpenAPI document under `/v1` that no
/// row of `rows` calls, so a new route cannot go without its role checks.
fn assert_every_api_route_is_in(rows: &[(Method, &str)]) {
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(signet_testkit::workspace_root().join("openapi/openapi.json"))
            .expect("openapi/openapi.json"),
    )
    .expect("JSON");
    let matches = |template: &str, path: &str| {
        let path = path.split('?').next().unwrap_or(path);
        let t: Vec<&str> = template.split('/').collect();
        let p: Vec<&str> = path.split('/').collect();
        // A policy's name may hold a slash (`namespace/name`): its parameter takes the rest.
        let rest = template.starts_with("/v1/policies/") && t.last() == Some(&"{name}");
        (t.len() == p.len() || (rest && p.len() > t.len()))
            && t.iter().zip(&p).all(|(t, p)| t.starts_with('{') || t == p)
    };
    let mut missing = Vec::new();
    for (template, operations) in spec["paths"].as_object().expect("paths") {
        if !template.starts_with("/v1/") {
            continue;
        }
        for method in operations.as_object().expect("operations").keys() {
            let method: Method = method.to_uppercase().parse().expect("method");
            if !rows
                .iter()
                .any(|(m, p)| *m == method && matches(template, p))
            {
                missing.push(format!("{method} {template}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes without role checks: {missing:?}"
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_clear_errors() {
    let s = start(4096, false).await;
    let admin = Some(s.admin.as_str());
    let broken = POLICY.replace(
        "validationFailureAction: Enforce",
        "validationFailureAction: Enforce\n  webhookTimeoutSeconds: 99\n  bogus: 1",
    );
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/policies",
        admin,
        Some(Value::String(broken)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let details: Vec<&str> = v["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("spec.webhookTimeoutSeconds")),
        "{details:?}"
    );
    assert!(
        details
            .iter()
            .any(|d| d.contains("spec.bogus: unknown field")),
        "{details:?}"
    );

    let (status, _) = call(
        &s,
        Method::POST,
        "/v1/policies",
        admin,
        Some(Value::String(POLICY.into())),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/policies",
        admin,
        Some(Value::String(POLICY.into())),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "replacing answers 200");
    assert_eq!(v["version"], 2);
    let (_, v) = call(&s, Method::GET, "/v1/policies/require-signed", admin, None).await;
    assert_eq!(v["document"], POLICY, "the document is kept verbatim");

    let big = "#".repeat(8192);
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/policies",
        admin,
        Some(Value::String(big)),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/keys",
        admin,
        Some(Value::String("{not json".into())),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    // A misspelt field or parameter is refused, naming it, never ignored: a pipeline
    // asking about namespace "prod" must not get the answer for "default".
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/verify",
        admin,
        Some(json!({"image": "registry.example.com/app:v1", "namspace": "prod"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["message"].as_str().unwrap_or("").contains("namspace"),
        "{v}"
    );
    let (status, v) = call(&s, Method::GET, "/v1/reports?limt=5", admin, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap_or("").contains("limt"), "{v}");
    // Malformed YAML: a 400 naming where the document breaks, not a crash or a 500.
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/policies",
        admin,
        Some(Value::String(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: [unclosed\n".into(),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"], "bad_request", "{v}");
    assert!(
        v.to_string().contains("line"),
        "the error says where the YAML breaks: {v}"
    );
    let (status, v) = call(&s, Method::GET, "/v1/nothing-here", admin, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "not_found");
    // Query and path parameters that do not parse get the API's JSON error naming them.
    for (path, parameter) in [
        ("/v1/reports?since=abc", "since"),
        ("/v1/reports?cluster=prod-eu&limit=x", "limit"),
        ("/v1/reports/summary?until=1.5", "until"),
        ("/v1/clusters/%FF/policyreports", "name"),
    ] {
        let (status, v) = call(&s, Method::GET, path, admin, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert_eq!(v["error"], "bad_request", "{path}: a JSON error body: {v}");
        let message = v["message"].as_str().unwrap_or_default();
        assert!(message.contains(parameter), "{path}: {message}");
    }
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/clusters",
        admin,
        Some(json!({"name": "prod-eu"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/keys",
        admin,
        Some(json!({"namespace": "a", "name": "b", "pem": "nope"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/registry-credentials",
        admin,
        Some(json!({"registry": "r.io", "username": "u", "password": "p"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "no credentials key configured: {v}"
    );
    assert!(
        !v.to_string().contains("\"p\""),
        "the password is never echoed"
    );
}

#[tokio::test]
async fn health_readiness_metrics_and_fleet_scoping() {
    let s = start(1024 * 1024, false).await;
    let (status, _) = call(&s, Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = call(&s, Method::GET, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let (status, v) = call(&s, Method::GET, "/metrics", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        v.as_str()
            .unwrap_or_default()
            .contains("signet_http_requests"),
        "{v}"
    );

    let scoped = POLICY.replace(
        "  name: require-signed",
        "  name: prod-only\n  annotations:\n    signet.dev/cluster-selector: env=prod",
    );
    let admin = Some(s.admin.as_str());
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/policies",
        admin,
        Some(Value::String(scoped)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (_, prod) = call(
        &s,
        Method::GET,
        "/v1/clusters/prod-eu/policies",
        admin,
        None,
    )
    .await;
    let (_, other) = call(&s, Method::GET, "/v1/clusters/other/policies", admin, None).await;
    assert_eq!(prod.as_array().map(Vec::len), Some(1), "{prod}");
    assert_eq!(other.as_array().map(Vec::len), Some(0), "{other}");
    let bad = POLICY.replace(
        "  name: require-signed",
        "  name: bad-selector\n  annotations:\n    signet.dev/cluster-selector: env in prod",
    );
    let (status, v) = call(
        &s,
        Method::POST,
        "/v1/policies",
        admin,
        Some(Value::String(bad)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("signet.dev/cluster-selector"), "{v}");
    drop(s.service);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let s = start(1024 * 1024, false).await;
    let client = reqwest::Client::new();
    let id_of = |response: &reqwest::Response| {
        response
            .headers()
            .get("x-request-id")
            .expect("x-request-id in the response")
            .to_str()
            .expect("ASCII")
            .to_owned()
    };
    let healthz = format!("http://{}/healthz", s.addr);

    // Without one, each request is given its own UUID.
    let first = id_of(&client.get(&healthz).send().await.expect("send"));
    let second = id_of(&client.get(&healthz).send().await.expect("send"));
    for id in [&first, &second] {
        let parsed = uuid::Uuid::parse_str(id).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 4, "{id}");
    }
    assert_ne!(first, second);

    // The caller's own is kept, on an answer and on an error alike.
    let answered = client
        .get(&healthz)
        .header("x-request-id", "deploy-91")
        .send()
        .await
        .expect("send");
    assert_eq!(answered.status(), StatusCode::OK);
    assert_eq!(id_of(&answered), "deploy-91");
    let refused = client
        .get(format!("http://{}/v1/policies", s.addr))
        .header("x-request-id", "dash-5")
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(id_of(&refused), "dash-5");
    drop(s.service);
}

#[test]
fn openapi_document_is_committed_and_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json");
    let current = signet_verifier::http::openapi::document();
    if std::env::var_os("SIGNET_UPDATE_OPENAPI").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, &current).expect("write");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with SIGNET_UPDATE_OPENAPI=1 to write it)",
            path.display()
        )
    });
    assert!(committed == current, "openapi/openapi.json differs from the served document; regenerate with SIGNET_UPDATE_OPENAPI=1 cargo test -p signet-verifier --test rest");
    let doc: Value = serde_json::from_str(&committed).expect("json");
    assert!(doc["paths"]["/v1/policies"]["post"].is_object());
}

#[tokio::test]
async fn a_cluster_token_reads_only_its_own_reports() {
    let s = start(1024 * 1024, false).await;
    let row = |id: &str, cluster: &str| DecisionRecord {
        id: id.into(),
        time: now_ms(),
        cluster: cluster.into(),
        namespace: "team".into(),
        kind: "Pod".into(),
        name: format!("pod-{id}"),
        operation: "CREATE".into(),
        image: "registry.example.com/app:v1".into(),
        digest: None,
        policy: "require-signed".into(),
        policy_version: 1,
        rule: "r".into(),
        result: "pass".into(),
        action: "enforce".into(),
        message: String::new(),
        dry_run: false,
    };
    s.service
        .store()
        .insert_decisions(&[row("a", "prod-eu"), row("b", "other"), row("c", "prod-eu")])
        .await
        .expect("decisions");
    let clusters = |v: &Value| -> Vec<String> {
        let mut c: Vec<String> = v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|d| d["cluster"].as_str().expect("cluster").to_owned())
            .collect();
        c.sort();
        c
    };
    // Without a filter, a cluster's token sees its own cluster's decisions only.
    let (status, v) = call(&s, Method::GET, "/v1/reports", Some(&s.cluster), None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(clusters(&v), ["prod-eu", "prod-eu"], "{v}");
    let (status, v) = call(
        &s,
        Method::GET,
        "/v1/reports/summary",
        Some(&s.cluster),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(!v.to_string().contains("\"other\""), "{v}");
    // A reader sees the fleet.
    let (status, v) = call(&s, Method::GET, "/v1/reports", Some(&s.reader), None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(clusters(&v), ["other", "prod-eu", "prod-eu"], "{v}");
}
