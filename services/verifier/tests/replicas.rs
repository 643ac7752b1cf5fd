//! Two replicas on one PostgreSQL database, each watching for changes as the binary does:
//! a policy applied, replaced or deleted through one replica, and a token revoked through
//! it, change the other's answers without a restart; each decision records the version of
//! the policy that made it. A named registry-credential set stored or deleted through one
//! replica is loaded or dropped by the other.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use signet_verifier::service::{CredentialsKey, Service};
use signet_verifier::store::{DecisionFilter, Store};
use signet_verify::registry::RegistryConfig;
use signet_verify::trust::TrustRoot;
use support::postgres::PgDb;

mod support;

/// Images of a registry nobody listens on: verifying them is an error at once, which
/// denies under Enforce. Version 2 of the policy no longer covers them.
fn policy(covered: &str) -> String {
    format!(
        "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: require-signed
spec:
  validationFailureAction: Enforce
  rules:
    - name: signed
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      verifyImages:
        - imageReferences: [\"{covered}\"]
          attestors:
            - entries:
                - keys:
                    secret: {{name: k, namespace: ns}}
"
    )
}

const IMAGE: &str =
    "127.0.0.1:1/app@sha256:0000000000000000000000000000000000000000000000000000000000000002";

async fn replica(url: &str) -> Service {
    let store = Store::open(Some(url), &std::env::temp_dir())
        .await
        .expect("store");
    let service =
        signet_verifier::app::build_service(store, RegistryConfig::default(), TrustRoot::default())
            .await
            .expect("service");
    let _watch = service.watch_changes();
    service
}

/// A replica with the credentials key every replica of a fleet shares.
async fn replica_with_credentials_key(url: &str) -> Service {
    let store = Store::open(Some(url), &std::env::temp_dir())
        .await
        .expect("store");
    let key =
        CredentialsKey::from_base64("BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=").expect("key");
    let secrets = signet_verifier::app::Secrets {
        jwt_key: None,
        credentials_key: Some(key),
    };
    let service = signet_verifier::app::build_service_with(
        store,
        RegistryConfig::default(),
        TrustRoot::default(),
        signet_verifier::cache::CacheOptions::default(),
        secrets,
    )
    .await
    .expect("service");
    let _watch = service.watch_changes();
    service
}

/// Waits (generously: the test shows propagation) until `service`'s registry client holds
/// exactly the named credential sets `want`.
async fn until_sets(service: &Service, want: &[&str]) {
    let started = Instant::now();
    loop {
        let held = service.verifier().registry().named_credentials();
        if held == want {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "replica b holds {held:?}, wanted {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Reviews a Pod of [`IMAGE`] on `service` as the holder of `token`: `Ok(allowed)`, or
/// the refusal.
async fn review(service: &Service, token: &str, uid: u32) -> Result<bool, String> {
    let caller = service
        .auth()
        .authenticate(Some(&format!("Bearer {token}")))
        .await
        .map_err(|e| e.to_string())?;
    let request = serde_json::to_vec(&json!({
        "uid": format!("u{uid}"),
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": "team",
        "name": format!("pod-{uid}"),
        "operation": "CREATE",
        "userInfo": {"username": "alice"},
        "object": {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("pod-{uid}"), "namespace": "team"},
            "spec": {"containers": [{"name": "c", "image": IMAGE}]}
        }
    }))
    .expect("JSON");
    let outcome = service
        .review(&caller, &request, &BTreeMap::new(), None)
        .await
        .map_err(|e| e.to_string())?;
    Ok(outcome.decision.allowed)
}

/// Reviews on `service` until the answer is `want`; returns how long that took. The
/// bound is generous on purpose: the test shows propagation, and prints its time.
async fn until(service: &Service, token: &str, uid: &mut u32, want: Result<bool, ()>) -> Duration {
    let started = Instant::now();
    loop {
        *uid += 1;
        let got = review(service, token, *uid).await.map_err(|_| ());
        if got == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "replica b still answers {got:?}, wanted {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_through_one_replica_reach_the_other_without_a_restart() {
    let db = PgDb::create().await;
    let a = replica(&db.url).await;
    let b = replica(&db.url).await;
    let (_, cluster) = a
        .register_cluster("edge", &BTreeMap::new())
        .await
        .expect("cluster");
    let token = cluster.token;
    let mut uid = 0;
    assert_eq!(review(&b, &token, uid).await, Ok(true), "no policy yet");

    let v1 = a
        .apply_policy(&policy("127.0.0.1:1/*"))
        .await
        .expect("apply");
    let took = until(&b, &token, &mut uid, Ok(false)).await;
    println!("policy applied on a reached b in {took:?}");

    // Replaced: version 2 no longer covers the image.
    let v2 = a
        .apply_policy(&policy("elsewhere.example/*"))
        .await
        .expect("replace");
    assert_eq!(v2.version, v1.version + 1);
    let took = until(&b, &token, &mut uid, Ok(true)).await;
    println!("policy replaced on a reached b in {took:?}");

    a.delete_policy("require-signed").await.expect("delete");
    a.apply_policy(&policy("127.0.0.1:1/*"))
        .await
        .expect("again");
    until(&b, &token, &mut uid, Ok(false)).await;

    // Each of b's decisions names the version that made it.
    b.journal().flush().await.expect("flush");
    let filter = DecisionFilter {
        policy: Some("require-signed".into()),
        ..Default::default()
    };
    let (rows, _) = b
        .store()
        .query_decisions(&filter, 0, None)
        .await
        .expect("rows");
    let versions: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.policy_version).collect();
    let current = a
        .get_policy("require-signed")
        .await
        .expect("policy")
        .version;
    assert!(versions.contains(&v1.version), "{versions:?}");
    assert!(versions.contains(&current), "{versions:?}");
    assert!(
        current > v2.version,
        "a re-created policy never reuses a version"
    );
    assert!(
        versions.iter().all(|v| *v == v1.version || *v == current),
        "only the versions that covered the image made decisions: {versions:?}"
    );

    // A token revoked through a refuses on b too.
    let tokens = a.list_tokens(Some("edge")).await.expect("tokens");
    a.revoke_token(&tokens[0].id).await.expect("revoke");
    let took = until(&b, &token, &mut uid, Err(())).await;
    println!("revocation on a reached b in {took:?}");
    let refused = review(&b, &token, uid + 1).await.expect_err("revoked");
    assert!(refused.contains("revoked"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_credential_set_stored_through_one_replica_is_loaded_by_the_other() {
    let db = PgDb::create().await;
    let a = replica_with_credentials_key(&db.url).await;
    let b = replica_with_credentials_key(&db.url).await;
    until_sets(&b, &[]).await;

    a.put_named_credential("regcred", "registry.example.com", "u", "p")
        .await
        .expect("store on a");
    until_sets(&b, &["regcred"]).await;
    a.put_named_credential("kyverno/other", "ghcr.io", "u", "p")
        .await
        .expect("another set");
    until_sets(&b, &["kyverno/other", "regcred"]).await;

    a.delete_named_credential("regcred", "registry.example.com")
        .await
        .expect("delete on a");
    until_sets(&b, &["kyverno/other"]).await;
}
