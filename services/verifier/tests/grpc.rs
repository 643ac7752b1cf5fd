//! The gRPC API end to end (see `support`: a verifier on PostgreSQL, a real registry):
//! calls with the generated tonic client, answers, records, metrics, request ids.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use signet_proto::v1::verifier_client::VerifierClient;
use signet_proto::v1::{FailurePolicy, VerifyImageRequest};
use signet_verifier::auth::Role;
use signet_verifier::service::NewToken;
use signet_verifier::store::DecisionFilter;
use tonic::{Code, Request};

use support::harness::{authorized, pod_request, review, review_request, Harness};

/// The value of the sample `name` whose labels include every one of `labels`; `None`
/// when there is none.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, set) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            let present: Vec<(&str, &str)> = set
                .split(',')
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    Some((k, v.trim_matches('"')))
                })
                .collect();
            (metric == name && labels.iter().all(|l| present.contains(l)))
                .then(|| value.parse().ok())
                .flatten()
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_image_is_allowed_and_pinned_to_its_digest() {
    let h = Harness::start().await;
    h.apply(&h.policy("require-signed", "Enforce", "", ""))
        .await;
    let token = h.register("alpha", &[]).await;
    let (tagged, digest) = h.signed_image("app", "v1").await;

    let mut client = h.client().await;
    let response = review(
        &mut client,
        Some(&token),
        pod_request("u1", "team", &[&tagged], false),
    )
    .await
    .expect("review");

    assert!(response.allowed, "{}", response.message);
    assert!(response.message.is_empty());
    let patch: serde_json::Value = serde_json::from_slice(&response.patch).expect("JSON patch");
    assert_eq!(
        patch,
        json!([{"op": "replace", "path": "/spec/containers/0/image", "value": format!("{tagged}@{digest}")}])
    );
    assert_eq!(response.verdicts.len(), 1);
    let v = &response.verdicts[0];
    assert_eq!(v.image, tagged);
    assert_eq!(v.digest, digest);
    assert_eq!(v.policy, "require-signed");
    assert_eq!(v.rule, "check-signature");
    assert_eq!(v.result, "pass");
    assert!(!v.attestors_satisfied.is_empty(), "{v:?}");

    // The relay's version is recorded as the cluster's, by a heartbeat written behind
    // the answer.
    let cluster = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let cluster = h
                .service
                .store()
                .get_cluster("alpha")
                .await
                .expect("store")
                .expect("cluster");
            if cluster.last_seen.is_some() {
                return cluster;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the heartbeat is written");
    assert_eq!(cluster.relay_version.as_deref(), Some("0.1.0-test"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsigned_image_is_denied_naming_policy_rule_and_image() {
    let h = Harness::start().await;
    h.apply(&h.policy("require-signed", "Enforce", "", ""))
        .await;
    let token = h.register("alpha", &[]).await;
    let (tagged, _) = h.image("app", "unsigned").await;

    let mut client = h.client().await;
    let response = review(
        &mut client,
        Some(&token),
        pod_request("u1", "team", &[&tagged], false),
    )
    .await
    .expect("review");

    assert!(!response.allowed);
    for part in ["require-signed", "check-signature", tagged.as_str()] {
        assert!(
            response.message.contains(part),
            "{part:?} missing from {:?}",
            response.message
        );
    }
    assert!(response.patch.is_empty(), "a denial patches nothing");
    assert_eq!(response.verdicts.len(), 1);
    assert_eq!(response.verdicts[0].result, "fail");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_audit_policy_admits_with_a_warning() {
    let h = Harness::start().await;
    h.apply(&h.policy("audit-signed", "Audit", "", "")).await;
    let token = h.register("alpha", &[]).await;
    let (tagged, _) = h.image("app", "unsigned").await;

    let mut client = h.client().await;
    let response = review(
        &mut client,
        Some(&token),
        pod_request("u1", "team", &[&tagged], false),
    )
    .await
    .expect("review");

    assert!(response.allowed, "{}", response.message);
    assert_eq!(response.warnings.len(), 1, "{:?}", response.warnings);
    assert!(
        response.warnings[0].contains("audit-signed"),
        "{:?}",
        response.warnings
    );
    assert!(response.patch.is_empty(), "an audit never mutates");
    assert_eq!(response.verdicts[0].result, "fail");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_is_decided_but_not_recorded() {
    let h = Harness::start().await;
    h.apply(&h.policy("require-signed", "Enforce", "", ""))
        .await;
    let token = h.register("alpha", &[]).await;
    let (dry, _) = h.signed_image("dry", "v1").await;
    let (real, digest) = h.signed_image("real", "v1").await;

    let mut client = h.client().await;
    let response = review(
        &mut client,
        Some(&token),
        pod_request("u1", "team", &[&dry], true),
    )
    .await
    .expect("dry-run review");
    assert!(response.allowed, "{}", response.message);
    assert_eq!(response.verdicts.len(), 1, "a dry run is decided");
    let response = review(
        &mut client,
        Some(&token),
        pod_request("u2", "team", &[&real], false),
    )
    .await
    .expect("review");
    assert!(response.allowed, "{}", response.message);

    // Decisions are committed behind the answers; a flush waits for them.
    assert!(
        h.service
            .journal()
            .flush_within(Duration::from_secs(10))
            .await
    );
    let recorded = |image: &str| DecisionFilter {
        image: Some(image.to_owned()),
        ..DecisionFilter::default()
    };
    let (found, _) = h
        .service
        .store()
        .query_decisions(&recorded(&dry), 100, None)
        .await
        .expect("query");
    assert!(found.is_empty(), "a dry run is not recorded: {found:?}");
    let (found, _) = h
        .service
        .store()
        .query_decisions(&recorded(&real), 100, None)
        .await
        .expect("query");
    assert_eq!(found.len(), 1, "{found:?}");
    let d = &found[0];
    assert_eq!(d.cluster, "alpha");
    assert_eq!(d.namespace, "team");
    assert_eq!(d.kind, "Pod");
    assert_eq!(d.name, "pod-u2");
    assert_eq!(d.operation, "CREATE");
    assert_eq!(d.digest.as_deref(), Some(digest.as_str()));
    assert_eq!(d.policy, "require-signed");
    assert_eq!(d.rule, "check-signature");
    assert_eq!(d.result, "pass");
    assert!(!d.dry_run);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_are_invalid_arguments() {
    let h = Harness::start().await;
    let token = h.register("alpha", &[]).await;
    let mut client = h.client().await;

    let status = review(&mut client, Some(&token), b"{not json".to_vec())
        .await
        .expect_err("not JSON");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("not JSON"), "{status:?}");

    let status = review(&mut client, Some(&token), br#"{"uid": "u1"}"#.to_vec())
        .await
        .expect_err("not an AdmissionRequest");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");

    let status = client
        .verify_image(authorized(
            VerifyImageRequest {
                image: String::new(),
                ..VerifyImageRequest::default()
            },
            Some(&token),
        ))
        .await
        .expect_err("no image");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_checked_on_every_call() {
    let h = Harness::start().await;
    let cluster = h.register("alpha", &[]).await;
    let (tagged, _) = h.image("app", "v1").await;
    let request = || pod_request("u1", "team", &[&tagged], false);
    let mut client = h.client().await;

    let status = review(&mut client, None, request())
        .await
        .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    let status = review(&mut client, Some("not-a-jwt"), request())
        .await
        .expect_err("garbage token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    let mut bad = Request::new(review_request(request()));
    bad.metadata_mut().insert(
        "authorization",
        format!("Basic {cluster}").parse().expect("value"),
    );
    let status = client.review(bad).await.expect_err("not a bearer token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    let reader = h
        .service
        .issue_token(&NewToken {
            role: Role::Reader,
            cluster: None,
            ttl_seconds: None,
            description: Some("dashboards".into()),
        })
        .await
        .expect("reader token");
    let status = review(&mut client, Some(&reader.token), request())
        .await
        .expect_err("reader");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = client
        .verify_image(authorized(
            VerifyImageRequest {
                image: tagged.clone(),
                ..VerifyImageRequest::default()
            },
            Some(&reader.token),
        ))
        .await
        .expect_err("reader");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    // The cluster's token and the admin's work, until the cluster's is revoked.
    review(&mut client, Some(&cluster), request())
        .await
        .expect("cluster token");
    review(&mut client, Some(&h.admin), request())
        .await
        .expect("admin token");
    let id = h
        .service
        .list_tokens(Some("alpha"))
        .await
        .expect("tokens")
        .into_iter()
        .map(|t| t.id)
        .next()
        .expect("the cluster's token");
    h.service.revoke_token(&id).await.expect("revoke");
    let status = review(&mut client, Some(&cluster), request())
        .await
        .expect_err("revoked");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("revoked"), "{status:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_image_allows_signed_and_denies_unsigned_images() {
    let h = Harness::start().await;
    h.apply(&h.policy("require-signed", "Enforce", "", ""))
        .await;
    let token = h.register("alpha", &[]).await;
    let (signed, digest) = h.signed_image("app", "v1").await;
    let (unsigned, _) = h.image("app", "v2").await;
    let mut client = h.client().await;

    let response = client
        .verify_image(authorized(
            VerifyImageRequest {
                image: signed.clone(),
                ..VerifyImageRequest::default()
            },
            Some(&token),
        ))
        .await
        .expect("verify signed")
        .into_inner();
    assert!(response.allowed, "{}", response.message);
    assert_eq!(response.verdicts.len(), 1);
    assert_eq!(response.verdicts[0].result, "pass");
    assert_eq!(response.verdicts[0].digest, digest);

    let response = client
        .verify_image(authorized(
            VerifyImageRequest {
                image: unsigned.clone(),
                namespace: "payments".into(),
                ..VerifyImageRequest::default()
            },
            Some(&token),
        ))
        .await
        .expect("verify unsigned")
        .into_inner();
    assert!(!response.allowed);
    assert!(
        response.message.contains("require-signed"),
        "{}",
        response.message
    );
    assert!(response.message.contains(&unsigned), "{}", response.message);
    assert_eq!(response.verdicts[0].result, "fail");

    // Restricted to a policy that does not exist, nothing applies.
    let response = client
        .verify_image(authorized(
            VerifyImageRequest {
                image: unsigned,
                policies: vec!["some-other-policy".into()],
                ..VerifyImageRequest::default()
            },
            Some(&token),
        ))
        .await
        .expect("verify with a policy filter")
        .into_inner();
    assert!(response.allowed);
    assert!(response.verdicts.is_empty());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cluster_selector_scopes_a_policy_to_matching_clusters() {
    let h = Harness::start().await;
    h.apply(&h.policy(
        "prod-only",
        "Enforce",
        "",
        "  annotations:\n    signet.dev/cluster-selector: env=prod\n",
    ))
    .await;
    let prod = h.register("prod-1", &[("env", "prod")]).await;
    let dev = h.register("dev-1", &[("env", "dev")]).await;
    let (unsigned, _) = h.image("app", "unsigned").await;
    let mut client = h.client().await;

    let response = review(
        &mut client,
        Some(&prod),
        pod_request("u1", "team", &[&unsigned], false),
    )
    .await
    .expect("review in prod");
    assert!(!response.allowed, "the policy applies to env=prod");
    assert!(
        response.message.contains("prod-only"),
        "{}",
        response.message
    );

    let response = review(
        &mut client,
        Some(&dev),
        pod_request("u2", "team", &[&unsigned], false),
    )
    .await
    .expect("review in dev");
    assert!(response.allowed, "{}", response.message);
    assert!(response.verdicts.is_empty(), "{:?}", response.verdicts);
    assert_eq!(
        response.failure_policy,
        FailurePolicy::Unspecified as i32,
        "no policy applies to env=dev"
    );
    assert_eq!(response.timeout_seconds, 0);

    // Relabelled to env=prod, the cluster's very next Review is under the policy.
    let labels = BTreeMap::from([("env".to_owned(), "prod".to_owned())]);
    h.service
        .set_cluster_labels("dev-1", &labels)
        .await
        .expect("relabel");
    let response = review(
        &mut client,
        Some(&dev),
        pod_request("u3", "team", &[&unsigned], false),
    )
    .await
    .expect("review after relabelling");
    assert!(!response.allowed, "the policy applies to env=prod now");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_response_carries_failure_policy_and_timeout() {
    let h = Harness::start().await;
    h.apply(&h.policy(
        "lenient",
        "Enforce",
        "  failurePolicy: Ignore\n  webhookTimeoutSeconds: 7\n",
        "",
    ))
    .await;
    let token = h.register("alpha", &[]).await;
    let (signed, _) = h.signed_image("app", "v1").await;
    let mut client = h.client().await;

    let response = review(
        &mut client,
        Some(&token),
        pod_request("u1", "team", &[&signed], false),
    )
    .await
    .expect("review");
    assert_eq!(response.failure_policy, FailurePolicy::Ignore as i32);
    assert_eq!(response.timeout_seconds, 7);

    // A stricter policy beside it: Fail wins, the shortest timeout stays.
    h.apply(&h.policy(
        "strict",
        "Enforce",
        "  failurePolicy: Fail\n  webhookTimeoutSeconds: 12\n",
        "",
    ))
    .await;
    let response = review(
        &mut client,
        Some(&token),
        pod_request("u2", "team", &[&signed], false),
    )
    .await
    .expect("review");
    assert!(response.allowed, "{}", response.message);
    assert_eq!(response.failure_policy, FailurePolicy::Fail as i32);
    assert_eq!(response.timeout_seconds, 7);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_past_its_deadline_is_cancelled() {
    let h = Harness::start().await;
    // A "registry" that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_host = silent.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming() {
            match conn {
                Ok(c) => held.push(c),
                Err(_) => break,
            }
        }
    });
    let policy = h
        .policy("require-signed", "Enforce", "", "")
        .replace(&h.host(), &silent_host);
    h.apply(&policy).await;
    let token = h.register("alpha", &[]).await;
    let image = format!("{silent_host}/app:v1");
    let mut client = h.client().await;

    let mut request = authorized(
        review_request(pod_request("u1", "team", &[&image], false)),
        Some(&token),
    );
    request.set_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let status = client.review(request).await.expect_err("past the deadline");
    assert!(
        matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded),
        "{status:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        started.elapsed()
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_stops_the_server() {
    let h = Harness::start().await;
    let addr = h.addr;
    let mut client = h.client().await;
    let token = h.register("alpha", &[]).await;
    review(
        &mut client,
        Some(&token),
        pod_request("u1", "team", &["nginx"], false),
    )
    .await
    .expect("review before shutdown");
    drop(client);
    h.stop().await;
    assert!(
        VerifierClient::connect(format!("http://{addr}"))
            .await
            .is_err(),
        "nothing listens after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_grpc_calls_verdicts_latency_and_cache_hits() {
    let h = Harness::start().await;
    h.apply(&h.policy("require-signed", "Enforce", "", ""))
        .await;
    let token = h.register("alpha", &[]).await;
    let (signed, _) = h.signed_image("app", "v1").await;
    let (unsigned, _) = h.image("app", "unsigned").await;
    let (other, _) = h.image("other", "v1").await;
    let mut client = h.client().await;

    let pass = review(
        &mut client,
        Some(&token),
        pod_request("u1", "team", &[&signed], false),
    )
    .await
    .expect("review");
    assert_eq!(pass.verdicts[0].result, "pass");
    let fail = review(
        &mut client,
        Some(&token),
        pod_request("u2", "team", &[&unsigned], false),
    )
    .await
    .expect("review");
    assert_eq!(fail.verdicts[0].result, "fail");
    let verified = client
        .verify_image(authorized(
            VerifyImageRequest {
                image: other.clone(),
                ..VerifyImageRequest::default()
            },
            Some(&token),
        ))
        .await
        .expect("verify image")
        .into_inner();
    assert_eq!(verified.verdicts[0].result, "fail");
    let status = review(
        &mut client,
        None,
        pod_request("u3", "team", &[&signed], false),
    )
    .await
    .expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
    let before = h.metrics().await;
    // The same image under the same policy again: answered from the verdict cache.
    let again = review(
        &mut client,
        Some(&token),
        pod_request("u4", "team", &[&signed], false),
    )
    .await
    .expect("repeated review");
    assert_eq!(again.verdicts[0].result, "pass");

    let text = h.metrics().await;
    let value = |name: &str, labels: &[(&str, &str)]| {
        sample(&text, name, labels).unwrap_or_else(|| panic!("{name} {labels:?} in\n{text}"))
    };
    let calls = "signet_grpc_requests_total";
    assert_eq!(value(calls, &[("method", "Review"), ("code", "Ok")]), 3.0);
    assert_eq!(
        value(calls, &[("method", "Review"), ("code", "Unauthenticated")]),
        1.0
    );
    assert_eq!(
        value(calls, &[("method", "VerifyImage"), ("code", "Ok")]),
        1.0
    );
    let verdicts = "signet_verdicts_total";
    assert_eq!(value(verdicts, &[("result", "pass")]), 2.0);
    assert_eq!(value(verdicts, &[("result", "fail")]), 2.0);
    for none in ["warn", "error", "skip"] {
        assert_eq!(value(verdicts, &[("result", none)]), 0.0, "{none}");
    }
    assert_eq!(
        value("signet_verification_duration_seconds_count", &[]),
        4.0
    );
    let hits = "signet_cache_hits_total";
    assert_eq!(sample(&before, hits, &[]), Some(0.0), "{before}");
    assert_eq!(value(hits, &[]), 1.0);
    assert_eq!(value("signet_verifications_total", &[]), 3.0);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_call_answers_with_its_request_id() {
    let h = Harness::start().await;
    let token = h.register("alpha", &[]).await;
    let mut client = h.client().await;
    let call = || {
        authorized(
            review_request(pod_request("u1", "team", &["nginx"], false)),
            Some(&token),
        )
    };
    let id_of = |metadata: &tonic::metadata::MetadataMap| {
        metadata
            .get("x-request-id")
            .expect("x-request-id in the response metadata")
            .to_str()
            .expect("ASCII")
            .to_owned()
    };

    // Without one, each call is given its own UUID.
    let first = id_of(client.review(call()).await.expect("review").metadata());
    let second = id_of(client.review(call()).await.expect("review").metadata());
    for id in [&first, &second] {
        let parsed = uuid::Uuid::parse_str(id).expect("a UUID");
        assert_eq!(parsed.get_version_num(), 4, "{id}");
    }
    assert_ne!(first, second);

    // The caller's own is kept, on an answer and on an error alike.
    let mut given = call();
    given
        .metadata_mut()
        .insert("x-request-id", "relay-7f3a".parse().expect("value"));
    let answered = client.review(given).await.expect("review");
    assert_eq!(id_of(answered.metadata()), "relay-7f3a");
    let mut refused = authorized(
        VerifyImageRequest {
            image: "nginx".into(),
            ..VerifyImageRequest::default()
        },
        None,
    );
    refused
        .metadata_mut()
        .insert("x-request-id", "ci-run-12".parse().expect("value"));
    let status = client.verify_image(refused).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(id_of(status.metadata()), "ci-run-12");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_entrys_failure_action_overrides_the_policys() {
    let h = Harness::start().await;
    let token = h.register("alpha", &[]).await;
    let (tagged, _) = h.image("app", "unsigned").await;
    let mut client = h.client().await;
    let with_entry_action = |policy: String, action: &str| {
        policy.replace(
            "        - imageReferences:",
            &format!("        - failureAction: {action}\n          imageReferences:"),
        )
    };

    // Enforce policy, Audit entry: admitted with the failure as a warning.
    h.apply(&with_entry_action(
        h.policy("entry-audits", "Enforce", "", ""),
        "Audit",
    ))
    .await;
    let response = review(
        &mut client,
        Some(&token),
        pod_request("u1", "team", &[&tagged], false),
    )
    .await
    .expect("review");
    assert!(response.allowed, "{}", response.message);
    assert_eq!(response.warnings.len(), 1, "{:?}", response.warnings);
    assert!(
        response.warnings[0].contains("entry-audits"),
        "{:?}",
        response.warnings
    );
    h.service
        .delete_policy("entry-audits")
        .await
        .expect("delete");

    // Audit policy, Enforce entry: denied.
    h.apply(&with_entry_action(
        h.policy("entry-enforces", "Audit", "", ""),
        "Enforce",
    ))
    .await;
    let response = review(
        &mut client,
        Some(&token),
        pod_request("u2", "team", &[&tagged], false),
    )
    .await
    .expect("review");
    assert!(!response.allowed);
    assert!(
        response.message.contains("entry-enforces"),
        "{}",
        response.message
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_refused() {
    let h = Harness::start().await;
    h.register("alpha", &[]).await;
    let expired = h
        .service
        .issue_token(&NewToken {
            role: Role::Cluster,
            cluster: Some("alpha".into()),
            ttl_seconds: Some(0),
            description: None,
        })
        .await
        .expect("token")
        .token;
    let mut client = h.client().await;
    let status = review(
        &mut client,
        Some(&expired),
        pod_request("u1", "team", &["nginx"], false),
    )
    .await
    .expect_err("expired");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(status.message().contains("expired"), "{status:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_request_is_refused() {
    let h = Harness::start().await;
    let token = h.register("alpha", &[]).await;
    let mut client = h.client().await;
    let huge = vec![b' '; signet_verifier::grpc::MAX_MESSAGE_BYTES + 1];
    let status = review(&mut client, Some(&token), huge)
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(status.message().contains("too large"), "{status:?}");
    // The server goes on serving.
    let fine = review(
        &mut client,
        Some(&token),
        pod_request("u1", "team", &["nginx"], false),
    )
    .await
    .expect("a normal request after it");
    assert!(fine.allowed, "no policy applies: {}", fine.message);
    h.stop().await;
}
