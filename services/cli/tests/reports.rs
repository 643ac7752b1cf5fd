//! `signet reports` against a running verifier: each filter of the REST API narrows the
//! decisions, times are RFC 3339 or durations before now, and paging (`--cursor`, `--all`)
//! returns every decision exactly once.

use std::collections::BTreeSet;
use std::process::{Command, Output};

use serde_json::Value;
use signet_verifier::app::Secrets;
use signet_verifier::store::DecisionRecord;
use support::{start_verifier, Verifier};

mod support;

/// 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600_000;
const HOUR: i64 = 3_600_000;

async fn start() -> Verifier {
    start_verifier(Secrets::default()).await
}

impl Verifier {
    /// `signet --server … --token … reports ARGS`, off the runtime's threads.
    async fn reports(&self, args: &[&str]) -> Output {
        let mut all: Vec<String> = ["--server", &self.url, "--token", &self.admin, "reports"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        all.extend(args.iter().map(|s| s.to_string()));
        let home = self.dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_signet"))
                .args(&all)
                .env("XDG_CONFIG_HOME", home)
                .env_remove("SIGNET_SERVER")
                .env_remove("SIGNET_TOKEN")
                .output()
                .expect("run signet")
        })
        .await
        .expect("join")
    }

    /// The ids `signet reports ARGS -o json` prints, in order (newest first).
    async fn ids(&self, args: &[&str]) -> Vec<String> {
        let mut args = args.to_vec();
        args.extend(["-o", "json"]);
        let out = self.reports(&args).await;
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let items: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        items
            .as_array()
            .expect("a JSON array")
            .iter()
            .map(|d| d["id"].as_str().expect("id").to_owned())
            .collect()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A decision in namespace `paged` of cluster `bulk`, or as [`FILTERED`] describes it.
fn decision(id: &str, time: i64) -> DecisionRecord {
    DecisionRecord {
        id: id.to_owned(),
        time,
        cluster: "bulk".to_owned(),
        namespace: "paged".to_owned(),
        kind: "Pod".to_owned(),
        name: format!("pod-{id}"),
        operation: "CREATE".to_owned(),
        image: API_V1.to_owned(),
        digest: None,
        policy: "require-signed".to_owned(),
        policy_version: 1,
        rule: "check".to_owned(),
        result: "pass".to_owned(),
        action: "enforce".to_owned(),
        message: format!("message of {id}"),
        dry_run: false,
    }
}

const API_V1: &str = "ghcr.io/acme/api:v1";

/// When a decision was made: hours after 2026-01-01T00:00:00Z, or minutes before now.
#[derive(Clone, Copy)]
enum When {
    At(i64),
    Ago(i64),
}
use When::*;

/// id, time, cluster, namespace, image, digest ("" for none), policy, result, action.
type Row = (
    &'static str,
    When,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
const FILTERED: &[Row] = &[
    ("d1", At(0),    "prod-eu", "team-a", API_V1,                      "sha256:aaaa", "require-signed", "pass",  "enforce"),
    ("d2", At(1),    "prod-eu", "team-b", "ghcr.io/acme/web:v2",       "sha256:bbbb", "require-signed", "fail",  "enforce"),
    ("d3", At(2),    "dev-us",  "team-a", "docker.io/library/nginx:1", "",            "audit-signed",   "fail",  "audit"),
    ("d4", At(3),    "prod-eu", "team-a", API_V1,                      "sha256:aaaa", "audit-signed",   "error", "enforce"),
    ("d5", Ago(180), "prod-eu", "team-c", "ghcr.io/acme/api:v2",       "sha256:cccc", "require-signed", "skip",  "audit"),
    ("d6", Ago(10),  "prod-eu", "team-c", "ghcr.io/acme/api:v2",       "sha256:cccc", "require-signed", "pass",  "enforce"),
];

/// `signet reports` arguments and the ids they list, newest first.
#[rustfmt::skip]
const CASES: &[(&str, &str)] = &[
    ("", "d6 d5 d4 d3 d2 d1"),
    ("--cluster dev-us", "d3"),
    ("--namespace team-b", "d2"),
    ("--namespace team-a", "d4 d3 d1"),
    ("--policy audit-signed", "d4 d3"),
    ("--image ghcr.io/acme/api:v1", "d4 d1"),
    ("--image ghcr.io/acme/*", "d6 d5 d4 d2 d1"),
    ("--digest sha256:aaaa", "d4 d1"),
    ("--result pass", "d6 d1"),
    ("--result fail", "d3 d2"),
    ("--result warn", "d3"),
    ("--result error", "d4"),
    ("--result skip", "d5"),
    // --until is exclusive, as the API's until is.
    ("--since 2026-01-01T01:00:00Z --until 2026-01-01T03:00:00Z", "d3 d2"),
    ("--since 2026-01-01T03:00:00+01:00 --until 2026-01-02T00:00:00Z", "d4 d3"),
    ("--since 1h", "d6"),
    ("--since 1d", "d6 d5"),
    ("--until 2h", "d5 d4 d3 d2 d1"),
    ("--namespace team-a --image ghcr.io/acme/api:v1 --result pass", "d1"),
    ("--cluster prod-eu --policy require-signed --since 2026-01-01T00:00:01Z --until 1h", "d5 d2"),
];

#[tokio::test(flavor = "multi_thread")]
async fn every_filter_narrows_the_decisions() {
    let v = start().await;
    let now = chrono::Utc::now().timestamp_millis();
    let ds: Vec<DecisionRecord> = FILTERED
        .iter()
        .map(
            |&(id, when, cluster, namespace, image, digest, policy, result, action)| {
                DecisionRecord {
                    cluster: cluster.to_owned(),
                    namespace: namespace.to_owned(),
                    image: image.to_owned(),
                    digest: (!digest.is_empty()).then(|| digest.to_owned()),
                    policy: policy.to_owned(),
                    result: result.to_owned(),
                    action: action.to_owned(),
                    ..decision(
                        id,
                        match when {
                            At(hours) => T0 + hours * HOUR,
                            Ago(minutes) => now - minutes * 60_000,
                        },
                    )
                }
            },
        )
        .collect();
    v.service
        .store()
        .insert_decisions(&ds)
        .await
        .expect("insert");

    for (args, want) in CASES {
        let args: Vec<&str> = args.split_whitespace().collect();
        let want: Vec<&str> = want.split_whitespace().collect();
        assert_eq!(v.ids(&args).await, want, "signet reports {args:?}");
    }

    // The table: a header, one row per decision, a fail under Audit shown as WARN.
    let out = v.reports(&["--namespace", "team-a"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    for column in [
        "TIME",
        "CLUSTER",
        "NAMESPACE",
        "IMAGE",
        "POLICY/RULE",
        "RESULT",
        "MESSAGE",
    ] {
        assert!(lines[0].contains(column), "{column}: {text}");
    }
    for (line, parts) in lines[1..].iter().zip([
        ["2026-01-01T03:00:00Z", "prod-eu", "ERROR"],
        ["2026-01-01T02:00:00Z", "dev-us", "WARN"],
        ["2026-01-01T00:00:00Z", "prod-eu", "PASS"],
    ]) {
        for part in parts {
            assert!(line.contains(part), "{part:?} missing from {line:?}");
        }
    }
    assert!(lines[3].contains("require-signed/check") && lines[3].contains(API_V1));

    // What cannot be sent is refused before anything is asked (exit 2, naming the flag).
    for (args, flag) in [
        (&["--since", "yesterday"][..], "--since"),
        (&["--until", "5"][..], "--until"),
        (&["--result", "maybe"][..], "--result"),
        (&["--limit", "0"][..], "--limit"),
    ] {
        let out = v.reports(args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(flag), "{args:?}: {}", stderr(&out));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_returns_every_decision_exactly_once() {
    let v = start().await;
    // 250 decisions, many sharing a millisecond, so pages also split between equal times.
    let ds: Vec<DecisionRecord> = (0..250)
        .map(|i| decision(&format!("p{i:03}"), T0 + i64::from(i / 7)))
        .collect();
    let every: BTreeSet<String> = ds.iter().map(|d| d.id.clone()).collect();
    v.service
        .store()
        .insert_decisions(&ds)
        .await
        .expect("insert");
    // Another cluster's decision is not part of any page.
    v.service
        .store()
        .insert_decisions(&[DecisionRecord {
            cluster: "elsewhere".to_owned(),
            ..decision("other", T0)
        }])
        .await
        .expect("insert");

    let all = v
        .ids(&["--cluster", "bulk", "--all", "--limit", "40"])
        .await;
    assert_eq!(all.len(), 250, "no decision twice");
    assert_eq!(all.iter().cloned().collect::<BTreeSet<_>>(), every);
    assert_eq!(
        v.ids(&["--cluster", "bulk", "--all"]).await,
        all,
        "the default page size gives the same decisions in the same order"
    );

    // Page by page with --cursor: the next cursor is on stderr, none after the last page.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = vec!["--cluster", "bulk", "--limit", "100", "-o", "json"];
        if let Some(c) = &cursor {
            args.extend(["--cursor", c.as_str()]);
        }
        let out = v.reports(&args).await;
        assert!(out.status.success(), "{}", stderr(&out));
        let items: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let items = items.as_array().expect("array");
        assert!(items.len() <= 100);
        paged.extend(
            items
                .iter()
                .map(|d| d["id"].as_str().expect("id").to_owned()),
        );
        pages += 1;
        let err = stderr(&out);
        cursor = err
            .split_whitespace()
            .skip_while(|w| *w != "--cursor")
            .nth(1)
            .map(str::to_owned);
        if cursor.is_none() {
            assert!(
                err.trim().is_empty(),
                "the last page says nothing more: {err}"
            );
            break;
        }
        assert_eq!(items.len(), 100, "a page that is not the last is full");
    }
    assert_eq!(pages, 3);
    assert_eq!(paged, all, "pages in order make up --all");

    // The table with --all: a header and every decision.
    let out = v.reports(&["--cluster", "bulk", "--all"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 251);
}
