//! The store suite: every test runs twice, against the embedded SQLite store in a
//! temporary directory and against PostgreSQL in a database of its own.
//!
//! PostgreSQL is the server at `$DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates
//! `signet_test_<random>` there and drops it when it ends, whether it passed or not.

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use signet_verifier::store::{
    now_ms, Backend, Change, ChangeKind, DecisionFilter, DecisionJournal, DecisionRecord,
    NewPolicy, Store, StoreError, TokenRecord,
};
use sqlx::Connection as _;
use support::postgres::PgDb;
use tokio::sync::broadcast;

mod support;

// ---------------------------------------------------------------------------
// Harness

/// Where a test's store lives; dropping it removes the database.
enum Db {
    Sqlite(tempfile::TempDir),
    Postgres(PgDb),
}

/// One test's context: the backend and the database its stores open.
struct Ctx {
    db: Db,
}

impl Ctx {
    async fn new(backend: Backend) -> Ctx {
        let db = match backend {
            Backend::Sqlite => Db::Sqlite(tempfile::tempdir().expect("tempdir")),
            Backend::Postgres => Db::Postgres(PgDb::create().await),
        };
        Ctx { db }
    }

    fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    fn data_dir(&self) -> PathBuf {
        match &self.db {
            Db::Sqlite(d) => d.path().join("data"),
            // Unused by PostgreSQL, but must be a path.
            Db::Postgres(_) => std::env::temp_dir(),
        }
    }

    /// A URL for a connection of the test's own to the store's database.
    fn url(&self) -> String {
        match &self.db {
            Db::Sqlite(_) => format!(
                "sqlite://{}",
                self.data_dir()
                    .join(signet_verifier::store::SQLITE_FILE)
                    .display()
            ),
            Db::Postgres(p) => p.url.clone(),
        }
    }

    /// A new store on this test's database (another replica, or a restart).
    async fn open(&self) -> Store {
        let url = match &self.db {
            Db::Sqlite(_) => None,
            Db::Postgres(p) => Some(p.url.clone()),
        };
        let store = Store::open(url.as_deref(), &self.data_dir())
            .await
            .expect("open store");
        assert_eq!(store.backend(), self.backend());
        store
    }
}

/// Runs `test` with a fresh context on `backend`.
async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    test(Ctx::new(backend).await).await
}

/// Declares, for each named `async fn(Ctx)`, a module with a `sqlite` and a
/// `postgres` test running it.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::run(signet_verifier::store::Backend::Sqlite, super::$name).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::run(signet_verifier::store::Backend::Postgres, super::$name).await
            }
        }
    )*};
}

both_backends!(
    policies,
    policy_versions_are_serialised,
    keys,
    trust_roots,
    credentials,
    credential_sets,
    clusters,
    tokens,
    one_first_admin_among_replicas,
    decisions_filters,
    decisions_pagination,
    decisions_summary,
    decisions_are_idempotent_and_atomic,
    decisions_are_written_behind_a_locked_table,
    decisions_of_many_subjects_and_of_earlier_builds,
    settings,
    persists_across_reopen,
    changes_are_announced,
    unavailable_after_close,
);

// ---------------------------------------------------------------------------
// Helpers

fn policy(name: &str, document: &str) -> NewPolicy {
    NewPolicy {
        name: name.to_string(),
        kind: "ClusterPolicy".to_string(),
        namespace: None,
        document: document.to_string(),
        parsed: format!("{{\"name\":{name:?}}}"),
    }
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn token(id: &str, role: &str, cluster: Option<&str>) -> TokenRecord {
    TokenRecord {
        id: id.to_string(),
        role: role.to_string(),
        cluster: cluster.map(str::to_string),
        created_at: now_ms(),
        expires_at: None,
        revoked: false,
        description: Some(format!("{role} token")),
    }
}

fn decision(id: &str, time: i64) -> DecisionRecord {
    DecisionRecord {
        id: id.to_string(),
        time,
        cluster: "prod".to_string(),
        namespace: "default".to_string(),
        kind: "Pod".to_string(),
        name: "web".to_string(),
        operation: "CREATE".to_string(),
        image: "ghcr.io/acme/web:1.0".to_string(),
        digest: Some("sha256:aaaa".to_string()),
        policy: "check-images".to_string(),
        policy_version: 1,
        rule: "verify".to_string(),
        result: "pass".to_string(),
        action: "enforce".to_string(),
        message: "ok".to_string(),
        dry_run: false,
    }
}

fn ids(ds: &[DecisionRecord]) -> Vec<String> {
    ds.iter().map(|d| d.id.clone()).collect()
}

/// All decisions matching `f`, page by page.
async fn all_pages(store: &Store, f: &DecisionFilter, limit: u32) -> Vec<DecisionRecord> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (page, next) = store
            .query_decisions(f, limit, cursor.as_deref())
            .await
            .expect("query decisions");
        let cap = if limit == 0 { 1000 } else { limit.min(1000) };
        assert!(page.len() <= cap as usize);
        out.extend(page);
        match next {
            Some(n) => cursor = Some(n),
            None => return out,
        }
    }
}

/// Waits up to `within` for a change equal to `want`, skipping others.
async fn expect_change(rx: &mut broadcast::Receiver<Change>, want: &Change, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(c)) if &c == want => return,
            Ok(Ok(_)) => continue,
            Ok(Err(e)) => panic!("change feed failed waiting for {want:?}: {e}"),
            Err(_) => panic!("no change {want:?} within {within:?}"),
        }
    }
}

/// Asserts that no change arrives within `wait`.
async fn expect_quiet(rx: &mut broadcast::Receiver<Change>, wait: Duration) {
    if let Ok(r) = tokio::time::timeout(wait, rx.recv()).await {
        panic!("unexpected change: {r:?}");
    }
}

// ---------------------------------------------------------------------------
// Policies

async fn policies(ctx: Ctx) {
    let store = ctx.open().await;
    assert_eq!(store.get_policy("check-images").await.expect("get"), None);
    assert!(store.list_policies().await.expect("list").is_empty());

    // Verbatim: comments, odd spacing and trailing blanks survive.
    let doc1 = "# keep me\napiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name:   check-images   \n\n";
    let (rec, created) = store
        .put_policy(&policy("check-images", doc1))
        .await
        .expect("create");
    assert!(created);
    assert_eq!(rec.version, 1);
    assert_eq!(rec.document, doc1);
    assert_eq!(rec.created_at, rec.updated_at);

    let got = store
        .get_policy("check-images")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(got, rec);

    tokio::time::sleep(Duration::from_millis(5)).await;
    let doc2 = "{\"apiVersion\": \"kyverno.io/v1\",  \"kind\": \"ClusterPolicy\"}";
    let (rec2, created) = store
        .put_policy(&policy("check-images", doc2))
        .await
        .expect("replace");
    assert!(!created);
    assert_eq!(rec2.version, 2);
    assert_eq!(rec2.created_at, rec.created_at);
    assert!(rec2.updated_at > rec.updated_at);
    let got = store
        .get_policy("check-images")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(got.document, doc2);
    assert_eq!(got.version, 2);

    // A namespaced Policy under its qualified name.
    let mut ns = policy("team-a/require-signed", "kind: Policy\n");
    ns.kind = "Policy".to_string();
    ns.namespace = Some("team-a".to_string());
    let (rec_ns, created) = store.put_policy(&ns).await.expect("namespaced");
    assert!(created);
    assert_eq!(rec_ns.namespace.as_deref(), Some("team-a"));

    let names: Vec<String> = store
        .list_policies()
        .await
        .expect("list")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["check-images", "team-a/require-signed"]);

    // Delete, then re-create: the version goes on, so (policy, version) stays unique.
    assert!(store.delete_policy("check-images").await.expect("delete"));
    assert!(!store
        .delete_policy("check-images")
        .await
        .expect("delete again"));
    assert_eq!(store.get_policy("check-images").await.expect("get"), None);
    let (rec3, created) = store
        .put_policy(&policy("check-images", "kind: ClusterPolicy\n"))
        .await
        .expect("re-create");
    assert!(created);
    assert_eq!(rec3.version, 3);

    // Every version's document stays readable.
    let r1 = store
        .get_policy_revision("check-images", 1)
        .await
        .expect("revision")
        .expect("revision 1");
    assert_eq!(r1.document, doc1);
    let r2 = store
        .get_policy_revision("check-images", 2)
        .await
        .expect("revision")
        .expect("revision 2");
    assert_eq!(r2.document, doc2);
    assert_eq!(
        store
            .get_policy_revision("check-images", 9)
            .await
            .expect("revision"),
        None
    );

    // The parsed form must be JSON; nothing is stored otherwise.
    let mut bad = policy("bad", "x");
    bad.parsed = "{not json".to_string();
    assert!(matches!(
        store.put_policy(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.get_policy("bad").await.expect("get"), None);
    assert!(matches!(
        store.put_policy(&policy("  ", "x")).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn policy_versions_are_serialised(ctx: Ctx) {
    // Two replicas replacing one policy at once: every write gets its own version.
    let a = ctx.open().await;
    let b = ctx.open().await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            s.put_policy(&policy("hot", &format!("doc {i}")))
                .await
                .expect("concurrent put")
        }));
    }
    let mut versions = Vec::new();
    let mut created = 0;
    for t in tasks {
        let (rec, c) = t.await.expect("join");
        versions.push(rec.version);
        created += usize::from(c);
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=12).collect::<Vec<i64>>());
    assert_eq!(created, 1);
    let last = a.get_policy("hot").await.expect("get").expect("stored");
    assert_eq!(last.version, 12);
}

// ---------------------------------------------------------------------------
// Keys, trust roots, credentials

const PEM: &str =
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";

async fn keys(ctx: Ctx) {
    let store = ctx.open().await;
    assert_eq!(store.get_key("kyverno", "cosign").await.expect("get"), None);
    let (k, created) = store
        .put_key("kyverno", "cosign", PEM)
        .await
        .expect("create");
    assert!(created);
    assert_eq!(
        (k.namespace.as_str(), k.name.as_str()),
        ("kyverno", "cosign")
    );
    assert_eq!(k.pem, PEM);
    store.put_key("default", "zeta", PEM).await.expect("second");
    store.put_key("kyverno", "alpha", PEM).await.expect("third");

    let pem2 = format!("{PEM}{PEM}");
    let (k2, created) = store
        .put_key("kyverno", "cosign", &pem2)
        .await
        .expect("replace");
    assert!(!created);
    assert_eq!(k2.created_at, k.created_at);
    let got = store
        .get_key("kyverno", "cosign")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(got.pem, pem2);
    // Same name in another namespace is another key.
    assert_eq!(store.get_key("other", "cosign").await.expect("get"), None);

    let listed: Vec<(String, String)> = store
        .list_keys()
        .await
        .expect("list")
        .into_iter()
        .map(|k| (k.namespace, k.name))
        .collect();
    let want = [
        ("default", "zeta"),
        ("kyverno", "alpha"),
        ("kyverno", "cosign"),
    ];
    assert_eq!(
        listed,
        want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    );

    // Public material only.
    let private = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    assert!(matches!(
        store.put_key("kyverno", "leak", private).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(store.get_key("kyverno", "leak").await.expect("get"), None);

    assert!(store.delete_key("kyverno", "cosign").await.expect("delete"));
    assert!(!store.delete_key("kyverno", "cosign").await.expect("again"));
    assert_eq!(store.get_key("kyverno", "cosign").await.expect("get"), None);
    assert_eq!(store.list_keys().await.expect("list").len(), 2);
}

async fn trust_roots(ctx: Ctx) {
    let store = ctx.open().await;
    let json = r#"{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1", "certificateAuthorities": []}"#;
    let (r, created) = store.put_trust_root("corp", json).await.expect("create");
    assert!(created);
    assert_eq!(r.json, json);
    let (r2, created) = store
        .put_trust_root("corp", r#"{"tlogs": []}"#)
        .await
        .expect("replace");
    assert!(!created);
    assert_eq!(r2.created_at, r.created_at);
    assert_eq!(
        store
            .get_trust_root("corp")
            .await
            .expect("get")
            .expect("stored")
            .json,
        r#"{"tlogs": []}"#
    );
    store
        .put_trust_root("another", "{}")
        .await
        .expect("another");
    let names: Vec<String> = store
        .list_trust_roots()
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["another", "corp"]);
    assert!(matches!(
        store.put_trust_root("broken", "{").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store.delete_trust_root("corp").await.expect("delete"));
    assert!(!store.delete_trust_root("corp").await.expect("again"));
    assert_eq!(store.get_trust_root("corp").await.expect("get"), None);
}

async fn credentials(ctx: Ctx) {
    let store = ctx.open().await;
    let secret = "v1:ciphertext-SHOULD-NEVER-SHOW";
    let (summary, created) = store
        .put_credential("ghcr.io", "robot", secret)
        .await
        .expect("create");
    assert!(created);
    assert_eq!(summary.username, "robot");
    store
        .put_credential("registry.example:5000", "ci", "v1:other")
        .await
        .expect("second");

    let list = store.list_credentials().await.expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].registry, "ghcr.io");
    let shown = format!(
        "{list:?} {}",
        serde_json::to_string(&list).expect("serialize")
    );
    assert!(!shown.contains("SHOULD-NEVER-SHOW"), "{shown}");

    let s = store
        .get_credential_secret("ghcr.io")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(s.secret_ciphertext, secret);
    assert_eq!(s.username, "robot");
    assert!(!format!("{s:?}").contains("SHOULD-NEVER-SHOW"));

    let (_, created) = store
        .put_credential("ghcr.io", "robot2", "v1:rotated")
        .await
        .expect("replace");
    assert!(!created);
    let s = store
        .get_credential_secret("ghcr.io")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(
        (s.username.as_str(), s.secret_ciphertext.as_str()),
        ("robot2", "v1:rotated")
    );

    assert!(store.delete_credential("ghcr.io").await.expect("delete"));
    assert!(!store.delete_credential("ghcr.io").await.expect("again"));
    assert!(store
        .get_credential_secret("ghcr.io")
        .await
        .expect("get")
        .is_none());
    assert_eq!(store.list_credentials().await.expect("list").len(), 1);
}

async fn credential_sets(ctx: Ctx) {
    let store = ctx.open().await;
    let sealed = "v1:named-ciphertext-SHOULD-NEVER-SHOW";
    let (summary, created) = store
        .put_named_credential("regcred", "ghcr.io", "robot", sealed)
        .await
        .expect("create");
    assert!(created);
    assert_eq!(
        (summary.secret.as_str(), summary.registry.as_str()),
        ("regcred", "ghcr.io")
    );
    assert_eq!(summary.created_at, summary.updated_at);
    // A second registry in the set, the same registry in another set (a namespace/name
    // reference is a name like any other), and an unnamed credential for that registry:
    // all distinct.
    store
        .put_named_credential("regcred", "registry.example:5000", "ci", "v1:b")
        .await
        .expect("second registry");
    store
        .put_named_credential("kyverno/other", "ghcr.io", "bot", "v1:c")
        .await
        .expect("other set");
    store
        .put_credential("ghcr.io", "unnamed", "v1:d")
        .await
        .expect("unnamed");

    let list = store.list_named_credentials().await.expect("list");
    let rows: Vec<(&str, &str, &str)> = list
        .iter()
        .map(|c| (c.secret.as_str(), c.registry.as_str(), c.username.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("kyverno/other", "ghcr.io", "bot"),
            ("regcred", "ghcr.io", "robot"),
            ("regcred", "registry.example:5000", "ci"),
        ]
    );
    let shown = format!(
        "{list:?} {}",
        serde_json::to_string(&list).expect("serialize")
    );
    assert!(!shown.contains("SHOULD-NEVER-SHOW"), "{shown}");
    // The unnamed credential is not part of any set, nor a set part of the unnamed ones.
    assert_eq!(store.list_credentials().await.expect("list").len(), 1);
    assert_eq!(
        store
            .get_credential_secret("ghcr.io")
            .await
            .expect("get")
            .expect("unnamed")
            .username,
        "unnamed"
    );

    let secrets = store
        .list_named_credential_secrets()
        .await
        .expect("secrets");
    assert_eq!(secrets.len(), 3);
    assert_eq!(
        (secrets[1].secret.as_str(), secrets[1].registry.as_str()),
        ("regcred", "ghcr.io")
    );
    assert_eq!(secrets[1].secret_ciphertext, sealed);
    assert!(!format!("{secrets:?}").contains("SHOULD-NEVER-SHOW"));

    // Replacing keeps the creation time and changes the rest.
    let (replaced, created) = store
        .put_named_credential("regcred", "ghcr.io", "robot2", "v1:rotated")
        .await
        .expect("replace");
    assert!(!created);
    assert_eq!(replaced.created_at, summary.created_at);
    assert!(replaced.updated_at >= summary.updated_at);
    let secrets = store
        .list_named_credential_secrets()
        .await
        .expect("secrets");
    assert_eq!(
        (
            secrets[1].username.as_str(),
            secrets[1].secret_ciphertext.as_str()
        ),
        ("robot2", "v1:rotated")
    );

    for (what, secret, registry) in [("secret", "", "ghcr.io"), ("registry", "regcred", " ")] {
        match store
            .put_named_credential(secret, registry, "u", "v1:x")
            .await
        {
            Err(StoreError::Invalid(m)) => assert!(m.contains(what), "{m}"),
            other => panic!("expected Invalid for an empty {what}, got {other:?}"),
        }
    }

    assert!(store
        .delete_named_credential("regcred", "ghcr.io")
        .await
        .expect("delete"));
    assert!(!store
        .delete_named_credential("regcred", "ghcr.io")
        .await
        .expect("again"));
    assert!(!store
        .delete_named_credential("nope", "registry.example:5000")
        .await
        .expect("no such set"));
    let left: Vec<(String, String)> = store
        .list_named_credentials()
        .await
        .expect("list")
        .into_iter()
        .map(|c| (c.secret, c.registry))
        .collect();
    assert_eq!(
        left,
        [
            ("kyverno/other".to_owned(), "ghcr.io".to_owned()),
            ("regcred".to_owned(), "registry.example:5000".to_owned()),
        ]
    );
    // The unnamed credential for the same registry is untouched.
    assert_eq!(store.list_credentials().await.expect("list").len(), 1);
}

// ---------------------------------------------------------------------------
// Clusters and tokens

async fn clusters(ctx: Ctx) {
    let store = ctx.open().await;
    let l = labels(&[("env", "prod"), ("region", "eu")]);
    let c = store.create_cluster("prod-eu", &l).await.expect("create");
    assert_eq!(c.labels, l);
    assert_eq!(c.last_seen, None);
    assert_eq!(c.relay_version, None);
    assert!(matches!(
        store.create_cluster("prod-eu", &BTreeMap::new()).await,
        Err(StoreError::Conflict(_))
    ));
    // The failed create changed nothing.
    assert_eq!(
        store
            .get_cluster("prod-eu")
            .await
            .expect("get")
            .expect("stored")
            .labels,
        l
    );
    store
        .create_cluster("dev", &BTreeMap::new())
        .await
        .expect("dev");
    let names: Vec<String> = store
        .list_clusters()
        .await
        .expect("list")
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["dev", "prod-eu"]);

    let l2 = labels(&[("env", "staging")]);
    let c2 = store
        .set_cluster_labels("prod-eu", &l2)
        .await
        .expect("labels");
    assert_eq!(c2.labels, l2);
    assert_eq!(c2.created_at, c.created_at);
    assert!(matches!(
        store.set_cluster_labels("nope", &l2).await,
        Err(StoreError::NotFound(_))
    ));

    // Heartbeats: last seen moves forward only; the relay version sticks when not given.
    assert!(store
        .touch_cluster("prod-eu", Some("0.1.0"), 1_000)
        .await
        .expect("touch"));
    assert!(store
        .touch_cluster("prod-eu", None, 2_000)
        .await
        .expect("touch"));
    assert!(store
        .touch_cluster("prod-eu", None, 1_500)
        .await
        .expect("touch"));
    let got = store
        .get_cluster("prod-eu")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(got.last_seen, Some(2_000));
    assert_eq!(got.relay_version.as_deref(), Some("0.1.0"));
    assert!(!store
        .touch_cluster("nope", None, 1)
        .await
        .expect("touch missing"));

    // Deleting a cluster revokes its tokens, and only its tokens.
    store
        .create_token(&token("t-prod", "cluster", Some("prod-eu")))
        .await
        .expect("token");
    store
        .create_token(&token("t-prod-reader", "reader", Some("prod-eu")))
        .await
        .expect("token");
    store
        .create_token(&token("t-dev", "cluster", Some("dev")))
        .await
        .expect("token");
    store
        .create_token(&token("t-admin", "admin", None))
        .await
        .expect("token");
    assert!(store.delete_cluster("prod-eu").await.expect("delete"));
    assert!(!store.delete_cluster("prod-eu").await.expect("again"));
    assert_eq!(store.get_cluster("prod-eu").await.expect("get"), None);
    for (id, revoked) in [
        ("t-prod", true),
        ("t-prod-reader", true),
        ("t-dev", false),
        ("t-admin", false),
    ] {
        let t = store.get_token(id).await.expect("get").expect("kept");
        assert_eq!(t.revoked, revoked, "{id}");
    }
    // The name is free again; the old tokens stay revoked.
    store
        .create_cluster("prod-eu", &BTreeMap::new())
        .await
        .expect("re-create");
    assert!(
        store
            .get_token("t-prod")
            .await
            .expect("get")
            .expect("kept")
            .revoked
    );
}

async fn tokens(ctx: Ctx) {
    let store = ctx.open().await;
    store
        .create_cluster("prod", &BTreeMap::new())
        .await
        .expect("cluster");
    assert_eq!(store.count_admin_tokens().await.expect("count"), 0);

    let mut admin = token("a1", "admin", None);
    admin.expires_at = Some(now_ms() + 3_600_000);
    store.create_token(&admin).await.expect("admin");
    assert_eq!(
        store.get_token("a1").await.expect("get").expect("stored"),
        admin
    );
    assert!(matches!(
        store.create_token(&admin).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_token(&token("x", "root", None)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.create_token(&token("x", "cluster", None)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .create_token(&token("x", "cluster", Some("nowhere")))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.get_token("x").await.expect("get"), None);

    let mut expired = token("a2", "admin", None);
    expired.expires_at = Some(now_ms() - 1);
    store.create_token(&expired).await.expect("expired admin");
    store
        .create_token(&token("a3", "admin", None))
        .await
        .expect("admin forever");
    store
        .create_token(&token("c1", "cluster", Some("prod")))
        .await
        .expect("cluster token");
    store
        .create_token(&token("r1", "reader", None))
        .await
        .expect("reader");
    assert_eq!(store.count_admin_tokens().await.expect("count"), 2);

    assert_eq!(store.list_tokens(None).await.expect("list").len(), 5);
    let prod = store.list_tokens(Some("prod")).await.expect("list prod");
    assert_eq!(ids_of(&prod), ["c1"]);
    assert!(store
        .list_tokens(Some("other"))
        .await
        .expect("list")
        .is_empty());

    assert!(store.revoke_token("a1").await.expect("revoke"));
    assert!(store.revoke_token("a1").await.expect("revoke again"));
    assert!(!store.revoke_token("missing").await.expect("revoke missing"));
    assert!(
        store
            .get_token("a1")
            .await
            .expect("get")
            .expect("kept")
            .revoked
    );
    assert_eq!(store.count_admin_tokens().await.expect("count"), 1);
    store.revoke_token("a3").await.expect("revoke");
    assert_eq!(store.count_admin_tokens().await.expect("count"), 0);
}

fn ids_of(ts: &[TokenRecord]) -> Vec<String> {
    ts.iter().map(|t| t.id.clone()).collect()
}

// ---------------------------------------------------------------------------
// Decisions

/// Replicas starting together on a fresh store each try to create the bootstrap admin:
/// exactly one succeeds, and none once an admin token works.
async fn one_first_admin_among_replicas(ctx: Ctx) {
    let replicas = [ctx.open().await, ctx.open().await, ctx.open().await];
    let tries = replicas.iter().enumerate().flat_map(|(r, store)| {
        (0..4).map(move |i| {
            let t = token(&format!("first-{r}-{i}"), "admin", None);
            async move { store.create_first_admin_token(&t).await.expect("try") }
        })
    });
    let created = futures_util::future::join_all(tries).await;
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");
    assert_eq!(replicas[0].count_admin_tokens().await.expect("count"), 1);

    // Once every admin token is revoked, a later start may bootstrap again.
    let first = replicas[1].list_tokens(None).await.expect("list");
    assert!(replicas[1]
        .revoke_token(&first[0].id)
        .await
        .expect("revoke"));
    assert!(replicas[2]
        .create_first_admin_token(&token("again", "admin", None))
        .await
        .expect("after revocation"));
    assert!(!replicas[0]
        .create_first_admin_token(&token("third", "admin", None))
        .await
        .expect("an admin works again"));
}

async fn decisions_filters(ctx: Ctx) {
    let store = ctx.open().await;
    let base = 1_700_000_000_000;
    let mut ds = Vec::new();
    let specs = [
        // id, t, cluster, ns, image, digest, policy, result, action
        (
            "d1",
            0,
            "prod",
            "default",
            "ghcr.io/acme/web:1.0",
            Some("sha256:aa"),
            "p1",
            "pass",
            "enforce",
        ),
        (
            "d2",
            1,
            "prod",
            "default",
            "ghcr.io/acme/api:2.0",
            Some("sha256:bb"),
            "p1",
            "fail",
            "enforce",
        ),
        (
            "d3",
            2,
            "prod",
            "kube-system",
            "docker.io/library/nginx:latest",
            None,
            "p2",
            "fail",
            "audit",
        ),
        (
            "d4",
            3,
            "dev",
            "default",
            "ghcr.io/acme/web:1.0",
            Some("sha256:aa"),
            "p1",
            "skip",
            "enforce",
        ),
        (
            "d5",
            4,
            "dev",
            "team",
            "GHCR.IO/acme/web:1.0",
            Some("sha256:cc"),
            "p2",
            "error",
            "enforce",
        ),
        (
            "d6",
            5,
            "dev",
            "team",
            "ghcr.io/acme_x/web:1.0",
            None,
            "p2",
            "pass",
            "audit",
        ),
    ];
    for (id, t, cluster, ns, image, digest, pol, result, action) in specs {
        let mut d = decision(id, base + t);
        d.cluster = cluster.to_string();
        d.namespace = ns.to_string();
        d.image = image.to_string();
        d.digest = digest.map(str::to_string);
        d.policy = pol.to_string();
        d.result = result.to_string();
        d.action = action.to_string();
        ds.push(d);
    }
    store.insert_decisions(&ds).await.expect("insert");

    let q = |f: DecisionFilter| {
        let store = store.clone();
        async move {
            let (page, next) = store.query_decisions(&f, 100, None).await.expect("query");
            assert!(next.is_none());
            ids(&page)
        }
    };
    // Everything, newest first, every field as stored.
    let (all, _) = store
        .query_decisions(&DecisionFilter::default(), 100, None)
        .await
        .expect("query");
    assert_eq!(ids(&all), ["d6", "d5", "d4", "d3", "d2", "d1"]);
    let mut want: Vec<DecisionRecord> = ds.clone();
    want.reverse();
    assert_eq!(all, want);

    let f = |edit: fn(&mut DecisionFilter)| {
        let mut f = DecisionFilter::default();
        edit(&mut f);
        f
    };
    assert_eq!(
        q(f(|f| f.cluster = Some("dev".into()))).await,
        ["d6", "d5", "d4"]
    );
    assert_eq!(
        q(f(|f| f.namespace = Some("default".into()))).await,
        ["d4", "d2", "d1"]
    );
    assert_eq!(
        q(f(|f| f.policy = Some("p2".into()))).await,
        ["d6", "d5", "d3"]
    );
    assert_eq!(
        q(f(|f| f.image = Some("ghcr.io/acme/web:1.0".into()))).await,
        ["d4", "d1"]
    );
    // Prefix: case-sensitive, and `_` is no wildcard.
    assert_eq!(
        q(f(|f| f.image = Some("ghcr.io/acme/*".into()))).await,
        ["d4", "d2", "d1"]
    );
    assert_eq!(
        q(f(|f| f.image = Some("ghcr.io/acme_*".into()))).await,
        ["d6"]
    );
    assert_eq!(q(f(|f| f.image = Some("*".into()))).await.len(), 6);
    assert_eq!(
        q(f(|f| f.digest = Some("sha256:aa".into()))).await,
        ["d4", "d1"]
    );
    assert_eq!(q(f(|f| f.result = Some("pass".into()))).await, ["d6", "d1"]);
    assert_eq!(q(f(|f| f.result = Some("fail".into()))).await, ["d3", "d2"]);
    assert_eq!(q(f(|f| f.result = Some("warn".into()))).await, ["d3"]);
    assert_eq!(q(f(|f| f.result = Some("skip".into()))).await, ["d4"]);
    assert_eq!(q(f(|f| f.result = Some("error".into()))).await, ["d5"]);
    assert!(matches!(
        store
            .query_decisions(&f(|f| f.result = Some("maybe".into())), 10, None)
            .await,
        Err(StoreError::Invalid(_))
    ));
    // since is inclusive, until exclusive.
    let mut window = DecisionFilter {
        since: Some(base + 1),
        until: Some(base + 4),
        ..DecisionFilter::default()
    };
    assert_eq!(q(window.clone()).await, ["d4", "d3", "d2"]);
    window.cluster = Some("prod".into());
    window.result = Some("fail".into());
    assert_eq!(q(window).await, ["d3", "d2"]);
    assert!(q(f(|f| f.cluster = Some("nowhere".into())))
        .await
        .is_empty());
}

async fn decisions_pagination(ctx: Ctx) {
    let store = ctx.open().await;
    // Many rows share a timestamp, so the id must break ties; inserted in several
    // calls, each larger than one INSERT statement holds on either backend.
    let base = 1_700_000_000_000;
    let mut all = Vec::new();
    for i in 0..2_345i64 {
        let mut d = decision(&format!("id-{:05}", (i * 7919) % 2_345), base + i / 7);
        d.cluster = if i % 3 == 0 { "a" } else { "b" }.to_string();
        all.push(d);
    }
    for chunk in all.chunks(1_200) {
        store.insert_decisions(chunk).await.expect("insert");
    }

    let check = |got: &[DecisionRecord], want_len: usize| {
        assert_eq!(got.len(), want_len);
        let unique: HashSet<&str> = got.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(unique.len(), want_len, "duplicates across pages");
        for w in got.windows(2) {
            assert!(
                (w[0].time, &w[0].id) > (w[1].time, &w[1].id),
                "not newest first: {:?} then {:?}",
                (w[0].time, &w[0].id),
                (w[1].time, &w[1].id)
            );
        }
    };
    for limit in [1000u32, 100, 7, 0] {
        let got = all_pages(&store, &DecisionFilter::default(), limit).await;
        check(&got, all.len());
    }
    let only_a = DecisionFilter {
        cluster: Some("a".into()),
        ..DecisionFilter::default()
    };
    let got = all_pages(&store, &only_a, 50).await;
    check(&got, all.iter().filter(|d| d.cluster == "a").count());
    assert!(got.iter().all(|d| d.cluster == "a"));

    // Limits above the maximum are capped.
    let (page, next) = store
        .query_decisions(&DecisionFilter::default(), 5_000, None)
        .await
        .expect("query");
    assert_eq!(page.len(), 1000);
    assert!(next.is_some());
    // An exact fit has no next page.
    let (page, next) = store
        .query_decisions(&only_a, 782, None)
        .await
        .expect("query");
    assert_eq!(page.len(), 782);
    assert_eq!(next, None);

    assert!(matches!(
        store
            .query_decisions(&DecisionFilter::default(), 10, Some("not a cursor"))
            .await,
        Err(StoreError::Invalid(_))
    ));
}

async fn decisions_summary(ctx: Ctx) {
    let store = ctx.open().await;
    let mut ds = Vec::new();
    let mut n = 0;
    let mut add = |cluster: &str, policy: &str, result: &str, action: &str, count: usize| {
        for _ in 0..count {
            n += 1;
            let mut d = decision(&format!("s{n}"), 1_000 + n);
            d.cluster = cluster.to_string();
            d.policy = policy.to_string();
            d.result = result.to_string();
            d.action = action.to_string();
            ds.push(d);
        }
    };
    add("a", "p1", "pass", "enforce", 3);
    add("a", "p1", "fail", "enforce", 2);
    add("a", "p1", "fail", "audit", 4);
    add("a", "p1", "error", "enforce", 1);
    add("a", "p1", "skip", "audit", 5);
    add("a", "p2", "pass", "audit", 1);
    add("b", "p1", "fail", "audit", 2);
    store.insert_decisions(&ds).await.expect("insert");

    let rows = store
        .summary(&DecisionFilter::default())
        .await
        .expect("summary");
    let got: Vec<(String, String, [i64; 5])> = rows
        .into_iter()
        .map(|r| {
            (
                r.cluster,
                r.policy,
                [r.pass, r.fail, r.warn, r.error, r.skip],
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("a".into(), "p1".into(), [3, 2, 4, 1, 5]),
            ("a".into(), "p2".into(), [1, 0, 0, 0, 0]),
            ("b".into(), "p1".into(), [0, 0, 2, 0, 0]),
        ]
    );
    let only_b = DecisionFilter {
        cluster: Some("b".into()),
        ..DecisionFilter::default()
    };
    let rows = store.summary(&only_b).await.expect("summary b");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].warn, 2);
    let none = DecisionFilter {
        since: Some(1_000_000),
        ..DecisionFilter::default()
    };
    assert!(store.summary(&none).await.expect("summary").is_empty());
}

async fn decisions_are_idempotent_and_atomic(ctx: Ctx) {
    let store = ctx.open().await;
    store.insert_decisions(&[]).await.expect("empty insert");
    let batch: Vec<DecisionRecord> = (0..5).map(|i| decision(&format!("i{i}"), 10 + i)).collect();
    store.insert_decisions(&batch).await.expect("insert");
    // A retry after an unknown outcome does not duplicate.
    store.insert_decisions(&batch).await.expect("retry");
    let (page, _) = store
        .query_decisions(&DecisionFilter::default(), 100, None)
        .await
        .expect("query");
    assert_eq!(page.len(), 5);

    // One invalid row: nothing of the batch is written.
    let mut bad = vec![decision("j1", 100), decision("j2", 101)];
    bad[1].result = "maybe".to_string();
    assert!(matches!(
        store.insert_decisions(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    bad[1].result = "fail".to_string();
    bad[1].action = "warn".to_string();
    assert!(matches!(
        store.insert_decisions(&bad).await,
        Err(StoreError::Invalid(_))
    ));
    let (page, _) = store
        .query_decisions(&DecisionFilter::default(), 100, None)
        .await
        .expect("query");
    assert_eq!(page.len(), 5);

    // Fields round-trip, dry-run and a missing digest included.
    let mut d = decision("k1", 5_000);
    d.dry_run = true;
    d.digest = None;
    d.policy_version = 42;
    d.message = "signature mismatch: \"quoted\" ünïcode".to_string();
    store
        .insert_decisions(std::slice::from_ref(&d))
        .await
        .expect("insert");
    let (page, _) = store
        .query_decisions(&DecisionFilter::default(), 1, None)
        .await
        .expect("query");
    assert_eq!(page, vec![d]);
}

/// What [`DecisionFilter`] selects, decided here row by row, to check the store against.
fn selects(f: &DecisionFilter, d: &DecisionRecord) -> bool {
    let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    eq(&f.cluster, &d.cluster)
        && eq(&f.namespace, &d.namespace)
        && eq(&f.policy, &d.policy)
        && f.image
            .as_deref()
            .is_none_or(|i| match i.strip_suffix('*') {
                Some(prefix) => d.image.starts_with(prefix),
                None => d.image == i,
            })
        && f.digest
            .as_ref()
            .is_none_or(|g| d.digest.as_ref() == Some(g))
        && f.result.as_deref().is_none_or(|r| match r {
            "warn" => d.result == "fail" && d.action == "audit",
            r => d.result == r,
        })
        && f.since.is_none_or(|t| d.time >= t)
        && f.until.is_none_or(|t| d.time < t)
}

/// Decisions of many subjects (more than a page reads one by one) and rows an earlier
/// build wrote to its `decisions` table are read together, newest first, page after
/// page, and summarised together; each subject is stored once.
async fn decisions_of_many_subjects_and_of_earlier_builds(ctx: Ctx) {
    let store = ctx.open().await;
    let base = 1_700_000_000_000;
    let mut all = Vec::new();
    for i in 0..900i64 {
        let image = i % 45;
        let mut d = decision(&format!("n{i:04}"), base + (i * 37) % 400);
        d.cluster = if image % 2 == 0 { "a" } else { "b" }.to_string();
        d.image = format!("img/{image}:1");
        d.digest = (image % 5 != 0).then(|| format!("sha256:{image:02}"));
        d.name = format!("pod-{i}");
        let (result, action) = match i % 4 {
            0 => ("fail", "audit"),
            1 => ("fail", "enforce"),
            _ => ("pass", "enforce"),
        };
        (d.result, d.action) = (result.into(), action.into());
        all.push(d);
    }
    for chunk in all.chunks(250) {
        store.insert_decisions(chunk).await.expect("insert");
    }
    // A restarted replica remembers no subject: it writes them again, harmlessly.
    let restarted = ctx.open().await;
    let again: Vec<DecisionRecord> = all[..90]
        .iter()
        .map(|d| DecisionRecord {
            id: format!("r{}", d.id),
            ..d.clone()
        })
        .collect();
    restarted.insert_decisions(&again).await.expect("insert");
    all.extend(again);

    let mut db = sqlx::AnyConnection::connect(&ctx.url())
        .await
        .expect("connect");
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    assert_eq!(
        count("SELECT COUNT(*) FROM decision_subjects")
            .fetch_one(&mut db)
            .await
            .expect("count"),
        45 * 3,
        "one subject per image and outcome"
    );

    // Rows of an earlier build, some at the same milliseconds as the new ones.
    for i in 0..60i64 {
        let mut d = decision(&format!("o{i:03}"), base + (i * 11) % 400);
        d.cluster = "a".into();
        d.image = format!("img/{}:1", i % 3);
        d.result = if i % 2 == 0 { "pass" } else { "skip" }.into();
        sqlx::query(
            "INSERT INTO decisions (id, time, cluster, namespace, kind, name, operation, image, \
             digest, policy, policy_version, rule, result, action, message, dry_run) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(d.id.clone())
        .bind(d.time)
        .bind(d.cluster.clone())
        .bind(d.namespace.clone())
        .bind(d.kind.clone())
        .bind(d.name.clone())
        .bind(d.operation.clone())
        .bind(d.image.clone())
        .bind(d.digest.clone())
        .bind(d.policy.clone())
        .bind(d.policy_version)
        .bind(d.rule.clone())
        .bind(d.result.clone())
        .bind(d.action.clone())
        .bind(d.message.clone())
        .bind(i64::from(d.dry_run))
        .execute(&mut db)
        .await
        .expect("legacy row");
        all.push(d);
    }
    all.sort_by(|a, b| (b.time, &b.id).cmp(&(a.time, &a.id)));

    let filters = [
        DecisionFilter::default(),
        // 23 subjects of cluster a's images (read one by one) and the legacy rows.
        DecisionFilter {
            cluster: Some("a".into()),
            result: Some("pass".into()),
            ..DecisionFilter::default()
        },
        // Every subject: a broad filter.
        DecisionFilter {
            image: Some("img/*".into()),
            ..DecisionFilter::default()
        },
        DecisionFilter {
            cluster: Some("b".into()),
            ..DecisionFilter::default()
        },
        DecisionFilter {
            image: Some("img/1:1".into()),
            since: Some(base + 100),
            until: Some(base + 300),
            ..DecisionFilter::default()
        },
        DecisionFilter {
            digest: Some("sha256:07".into()),
            ..DecisionFilter::default()
        },
        DecisionFilter {
            result: Some("warn".into()),
            ..DecisionFilter::default()
        },
    ];
    for f in &filters {
        let want: Vec<&DecisionRecord> = all.iter().filter(|d| selects(f, d)).collect();
        assert!(!want.is_empty(), "{f:?} selects something");
        for limit in [7, 1000] {
            let got = all_pages(&store, f, limit).await;
            assert_eq!(
                got.iter().collect::<Vec<_>>(),
                want,
                "{f:?}, pages of {limit}"
            );
        }
        let mut counts = BTreeMap::new();
        for d in &want {
            let c: &mut [i64; 3] = counts
                .entry((d.cluster.clone(), d.policy.clone()))
                .or_default();
            match (d.result.as_str(), d.action.as_str()) {
                ("pass", _) => c[0] += 1,
                ("fail", "audit") => c[2] += 1,
                ("fail", _) => c[1] += 1,
                _ => {}
            }
        }
        let summary: BTreeMap<_, _> = store
            .summary(f)
            .await
            .expect("summary")
            .into_iter()
            .map(|r| ((r.cluster, r.policy), [r.pass, r.fail, r.warn]))
            .collect();
        assert_eq!(summary, counts, "{f:?}");
    }
}

/// Decisions are committed behind the answers: while another connection holds the
/// table they are written to, appends return without waiting for a commit until the
/// queue is full, then wait for room; once the table is free every row is stored, none
/// twice.
async fn decisions_are_written_behind_a_locked_table(ctx: Ctx) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let store = ctx.open().await;
    sqlx::any::install_default_drivers();
    let mut lock = sqlx::AnyConnection::connect(&ctx.url())
        .await
        .expect("a second connection");
    let statements: &[&str] = match ctx.backend() {
        Backend::Sqlite => &["BEGIN EXCLUSIVE"],
        Backend::Postgres => &["BEGIN", "LOCK TABLE decision_events IN EXCLUSIVE MODE"],
    };
    for sql in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut lock)
            .await
            .expect(sql);
    }

    // Room for two callers: the writer holds at most one batch (what was queued when it
    // started) while it waits on the lock, so of eight appends some must wait.
    let journal = DecisionJournal::with_capacity(store.clone(), 2);
    let accepted = Arc::new(AtomicUsize::new(0));
    let appends = {
        let (journal, accepted) = (journal.clone(), accepted.clone());
        tokio::spawn(async move {
            for i in 0..8 {
                journal
                    .append(vec![decision(&format!("w{i}"), i)])
                    .await
                    .expect("append");
                accepted.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before_release = accepted.load(Ordering::SeqCst);
    assert!(
        before_release >= 1,
        "an append does not wait for the commit"
    );
    assert!(
        before_release < 8,
        "a full queue makes callers wait ({before_release} accepted)"
    );
    assert_eq!(
        journal.backlog(),
        before_release + 1,
        "the backlog counts accepted rows and those of the caller waiting for room"
    );

    sqlx::raw_sql("ROLLBACK")
        .execute(&mut lock)
        .await
        .expect("release");
    tokio::time::timeout(Duration::from_secs(30), appends)
        .await
        .expect("appends finish once the table is free")
        .expect("task");
    assert!(journal.flush_within(Duration::from_secs(30)).await);
    assert_eq!(journal.backlog(), 0);
    assert_eq!(journal.dropped(), 0);
    let stored = all_pages(&store, &DecisionFilter::default(), 100).await;
    let mut got = ids(&stored);
    got.sort();
    let want: Vec<String> = (0..8).map(|i| format!("w{i}")).collect();
    assert_eq!(got, want);
}

// ---------------------------------------------------------------------------
// Settings, persistence

async fn settings(ctx: Ctx) {
    let a = ctx.open().await;
    let b = ctx.open().await;
    assert_eq!(a.get_setting("jwt_secret").await.expect("get"), None);
    assert_eq!(
        a.put_setting_if_absent("jwt_secret", "first")
            .await
            .expect("put"),
        "first"
    );
    assert_eq!(
        b.put_setting_if_absent("jwt_secret", "second")
            .await
            .expect("put"),
        "first"
    );
    assert_eq!(
        b.get_setting("jwt_secret").await.expect("get").as_deref(),
        Some("first")
    );

    // Replicas racing at first start agree on one value.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            s.put_setting_if_absent("race", &format!("v{i}"))
                .await
                .expect("race")
        }));
    }
    let mut seen = HashSet::new();
    for t in tasks {
        seen.insert(t.await.expect("join"));
    }
    assert_eq!(seen.len(), 1, "{seen:?}");
}

async fn persists_across_reopen(ctx: Ctx) {
    let store = ctx.open().await;
    store
        .put_policy(&policy("keep", "kind: ClusterPolicy\n"))
        .await
        .expect("policy");
    store.put_key("ns", "k", PEM).await.expect("key");
    store.put_trust_root("root", "{}").await.expect("root");
    store
        .put_credential("ghcr.io", "u", "v1:x")
        .await
        .expect("credential");
    store
        .put_named_credential("regcred", "ghcr.io", "u", "v1:n")
        .await
        .expect("named credential");
    store
        .create_cluster("c", &labels(&[("a", "b")]))
        .await
        .expect("cluster");
    store
        .create_token(&token("t", "cluster", Some("c")))
        .await
        .expect("token");
    store
        .insert_decisions(&[decision("d", 1)])
        .await
        .expect("decision");
    store
        .put_setting_if_absent("s", "v")
        .await
        .expect("setting");
    store.close().await;
    drop(store);

    if let Db::Sqlite(dir) = &ctx.db {
        assert!(dir.path().join("data").join("signet.db").is_file());
    }
    // A restart: migrations find nothing to do, and everything is there.
    let store = ctx.open().await;
    store.migrate().await.expect("migrate again");
    assert_eq!(
        store
            .get_policy("keep")
            .await
            .expect("get")
            .expect("policy")
            .version,
        1
    );
    assert!(store.get_key("ns", "k").await.expect("get").is_some());
    assert!(store.get_trust_root("root").await.expect("get").is_some());
    assert!(store
        .get_credential_secret("ghcr.io")
        .await
        .expect("get")
        .is_some());
    assert_eq!(
        store
            .list_named_credential_secrets()
            .await
            .expect("named")
            .len(),
        1
    );
    assert_eq!(
        store
            .get_cluster("c")
            .await
            .expect("get")
            .expect("cluster")
            .labels,
        labels(&[("a", "b")])
    );
    assert!(store.get_token("t").await.expect("get").is_some());
    let (page, _) = store
        .query_decisions(&DecisionFilter::default(), 10, None)
        .await
        .expect("query");
    assert_eq!(ids(&page), ["d"]);
    assert_eq!(
        store.get_setting("s").await.expect("get").as_deref(),
        Some("v")
    );
    // And it keeps working.
    let (p, created) = store
        .put_policy(&policy("keep", "kind: ClusterPolicy # 2\n"))
        .await
        .expect("replace");
    assert!(!created);
    assert_eq!(p.version, 2);
}

// ---------------------------------------------------------------------------
// Change feed

async fn changes_are_announced(ctx: Ctx) {
    // On PostgreSQL the writer and the watcher are different replicas; on SQLite
    // there is one process, and the feed is in-process.
    let writer = ctx.open().await;
    let watcher = match ctx.backend() {
        Backend::Postgres => ctx.open().await,
        Backend::Sqlite => writer.clone(),
    };
    let mut rx = watcher.subscribe();
    let within = Duration::from_secs(1);

    let start = Instant::now();
    writer
        .put_policy(&policy("team/p", "kind: Policy\n"))
        .await
        .expect("policy");
    expect_change(&mut rx, &Change::new(ChangeKind::Policy, "team/p"), within).await;
    assert!(start.elapsed() < within);

    writer.put_key("ns", "k", PEM).await.expect("key");
    expect_change(&mut rx, &Change::new(ChangeKind::Key, "ns/k"), within).await;
    writer.put_trust_root("root", "{}").await.expect("root");
    expect_change(&mut rx, &Change::new(ChangeKind::TrustRoot, "root"), within).await;
    writer
        .put_credential("ghcr.io", "u", "v1:x")
        .await
        .expect("credential");
    expect_change(
        &mut rx,
        &Change::new(ChangeKind::Credential, "ghcr.io"),
        within,
    )
    .await;
    writer
        .put_named_credential("kyverno/regcred", "ghcr.io", "u", "v1:y")
        .await
        .expect("named credential");
    let named = Change::new(ChangeKind::Credential, "kyverno/regcred@ghcr.io");
    expect_change(&mut rx, &named, within).await;
    assert!(writer
        .delete_named_credential("kyverno/regcred", "ghcr.io")
        .await
        .expect("delete named"));
    expect_change(&mut rx, &named, within).await;
    assert!(!writer
        .delete_named_credential("kyverno/regcred", "ghcr.io")
        .await
        .expect("delete named again"));
    writer
        .create_cluster("c", &BTreeMap::new())
        .await
        .expect("cluster");
    expect_change(&mut rx, &Change::new(ChangeKind::Cluster, "c"), within).await;
    writer
        .create_token(&token("t1", "cluster", Some("c")))
        .await
        .expect("token");
    expect_change(&mut rx, &Change::new(ChangeKind::Token, "t1"), within).await;
    writer.revoke_token("t1").await.expect("revoke");
    expect_change(&mut rx, &Change::new(ChangeKind::Token, "t1"), within).await;
    writer
        .create_token(&token("t2", "cluster", Some("c")))
        .await
        .expect("token");
    expect_change(&mut rx, &Change::new(ChangeKind::Token, "t2"), within).await;
    // Deleting the cluster announces it and the token it revoked.
    writer.delete_cluster("c").await.expect("delete cluster");
    expect_change(&mut rx, &Change::new(ChangeKind::Cluster, "c"), within).await;
    expect_change(&mut rx, &Change::new(ChangeKind::Token, "t2"), within).await;
    writer.delete_policy("team/p").await.expect("delete");
    expect_change(&mut rx, &Change::new(ChangeKind::Policy, "team/p"), within).await;

    // Writes that fail or change nothing announce nothing; nor do decisions.
    assert!(writer.put_trust_root("root", "{broken").await.is_err());
    assert!(!writer.delete_policy("team/p").await.expect("delete again"));
    writer
        .create_cluster("c2", &BTreeMap::new())
        .await
        .expect("cluster");
    expect_change(&mut rx, &Change::new(ChangeKind::Cluster, "c2"), within).await;
    assert!(writer.create_cluster("c2", &BTreeMap::new()).await.is_err());
    writer
        .insert_decisions(&[decision("d", 1)])
        .await
        .expect("decision");
    expect_quiet(&mut rx, Duration::from_millis(300)).await;

    if ctx.backend() == Backend::Postgres {
        listener_recovers(&ctx, &writer, &mut rx).await;
    }
}

/// Kills the watcher's LISTEN connection: the feed reports a resynchronisation and
/// goes on delivering.
async fn listener_recovers(ctx: &Ctx, writer: &Store, rx: &mut broadcast::Receiver<Change>) {
    let Db::Postgres(pg) = &ctx.db else { return };
    let mut admin = sqlx::PgConnection::connect(&pg.admin_url)
        .await
        .expect("admin connection");
    let sql = format!(
        "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity \
         WHERE datname = '{}' AND query LIKE 'LISTEN%'",
        pg.name
    );
    let killed = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut admin)
        .await
        .expect("terminate listeners");
    assert!(
        killed.rows_affected() >= 1,
        "no LISTEN connection to terminate"
    );
    admin.close().await.expect("close");
    let resync = Change::new(ChangeKind::Policy, "*");
    expect_change(rx, &resync, Duration::from_secs(10)).await;
    writer
        .put_policy(&policy("after", "x"))
        .await
        .expect("policy");
    expect_change(
        rx,
        &Change::new(ChangeKind::Policy, "after"),
        Duration::from_secs(1),
    )
    .await;
}

// ---------------------------------------------------------------------------
// Unavailability

async fn unavailable_after_close(ctx: Ctx) {
    let store = ctx.open().await;
    store.ping().await.expect("ping");
    let other = store.clone();
    store.close().await;
    // Every handle sees the closed pool; calls fail cleanly, without hanging.
    let started = Instant::now();
    assert!(matches!(
        other.ping().await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        other.put_policy(&policy("p", "x")).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        other.insert_decisions(&[decision("d", 1)]).await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        other.get_policy("p").await,
        Err(StoreError::Unavailable(_))
    ));
    assert!(started.elapsed() < Duration::from_secs(5));

    if let Db::Postgres(pg) = &ctx.db {
        // The database disappears under a running replica.
        let live = ctx.open().await;
        live.ping().await.expect("ping");
        let mut admin = sqlx::PgConnection::connect(&pg.admin_url)
            .await
            .expect("admin connection");
        let sql = format!("DROP DATABASE {} WITH (FORCE)", pg.name);
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .expect("drop database");
        admin.close().await.expect("close");
        let started = Instant::now();
        assert!(matches!(live.ping().await, Err(StoreError::Unavailable(_))));
        assert!(matches!(
            live.insert_decisions(&[decision("d", 1)]).await,
            Err(StoreError::Unavailable(_))
        ));
        assert!(started.elapsed() < Duration::from_secs(12));
    }
}

// ---------------------------------------------------------------------------
// Opening

#[tokio::test]
async fn embedded_store_creates_its_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("nested").join("data dir?#%");
    let store = Store::open(None, &data).await.expect("open embedded");
    assert_eq!(store.backend(), Backend::Sqlite);
    store.ping().await.expect("ping");
    assert!(data.join("signet.db").is_file());
    // Write-ahead logging: readers do not wait for the writer.
    store.put_setting_if_absent("k", "v").await.expect("write");
    assert!(data.join("signet.db-wal").is_file());
    store.close().await;
    // An empty URL is no URL.
    let store = Store::open(Some(""), &data).await.expect("open embedded");
    assert_eq!(store.backend(), Backend::Sqlite);
}

#[tokio::test]
async fn bad_urls_are_refused_without_echoing_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = Store::open(Some("mysql://root:hunter2@db/x"), dir.path())
        .await
        .expect_err("unsupported scheme");
    assert!(matches!(e, StoreError::Invalid(_)));
    assert!(!e.to_string().contains("hunter2"), "{e}");
    // Nothing listens on port 1: the store is unavailable, and says so quickly.
    let started = Instant::now();
    let e = Store::open(
        Some("postgres://postgres:hunter2@127.0.0.1:1/x?connect_timeout=2"),
        dir.path(),
    )
    .await
    .expect_err("nothing listens");
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    assert!(!e.to_string().contains("hunter2"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
}
