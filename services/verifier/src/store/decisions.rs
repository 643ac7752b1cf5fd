//! Decisions: one row per (resource, image, policy, rule) judged at admission
//! or by a verify call, queryable across the fleet.
//!
//! [`Store::insert_decisions`] returns only after the rows are committed, so a
//! caller that acknowledges an admission afterwards never acknowledges a
//! decision that is then lost. Inserting is idempotent by id: a caller that
//! retries after an unknown outcome (a commit whose answer was lost) does not
//! duplicate rows.

use std::sync::LazyLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Arguments as _, Row};

use super::{check_name, flag, Backend, Store, StoreError};

/// The largest page [`Store::query_decisions`] returns.
pub const MAX_PAGE: u32 = 1000;

/// Results a decision may have.
const RESULTS: [&str; 4] = ["pass", "fail", "skip", "error"];
/// Results a [`DecisionFilter`] may select: those recorded, and `warn` (a fail under
/// audit), as the summary counts them.
pub const RESULT_FILTERS: [&str; 5] = ["pass", "fail", "warn", "error", "skip"];
/// Failure actions a decision may have been taken under.
const ACTIONS: [&str; 2] = ["enforce", "audit"];
/// Rows per PostgreSQL INSERT: bounds the size of one bound JSON value.
const INSERT_CHUNK: usize = 1000;

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Unique id made by the caller ([`super::new_id`]); a retried insert with the
    /// same id is ignored.
    pub id: String,
    /// Unix milliseconds.
    pub time: i64,
    pub cluster: String,
    pub namespace: String,
    /// Resource kind (`Pod`, `Deployment`, …).
    pub kind: String,
    /// Resource name.
    pub name: String,
    /// `CREATE`, `UPDATE`, … (or `VERIFY` for a verify call).
    pub operation: String,
    pub image: String,
    pub digest: Option<String>,
    /// Qualified policy name.
    pub policy: String,
    /// The policy version the decision was made under.
    pub policy_version: i64,
    pub rule: String,
    /// `pass`, `fail`, `skip` or `error`.
    pub result: String,
    /// `enforce` or `audit`: a `fail` under `audit` is a warning.
    pub action: String,
    pub message: String,
    /// The admission request was a dry run.
    pub dry_run: bool,
}

/// Which decisions to read. Every field set narrows the selection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionFilter {
    pub cluster: Option<String>,
    pub namespace: Option<String>,
    pub policy: Option<String>,
    /// The image reference exactly, or, ending in `*`, every reference that starts
    /// with what precedes the `*` (`ghcr.io/acme/*`).
    pub image: Option<String>,
    pub digest: Option<String>,
    /// `pass`, `fail`, `skip`, `error`, or `warn` (a fail under audit). `fail`
    /// selects every fail, warnings included.
    pub result: Option<String>,
    /// From this time on (unix ms, inclusive).
    pub since: Option<i64>,
    /// Before this time (unix ms, exclusive).
    pub until: Option<i64>,
}

/// Counts of decisions for one (cluster, policy).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRow {
    pub cluster: String,
    pub policy: String,
    pub pass: i64,
    /// Fails under `enforce`.
    pub fail: i64,
    /// Fails under `audit`.
    pub warn: i64,
    pub error: i64,
    pub skip: i64,
}

/// A WHERE clause being built with `$n` placeholders numbered in binding order.
struct Where {
    sql: String,
    args: AnyArguments,
    n: usize,
}

impl Where {
    fn new() -> Where {
        Where {
            sql: String::new(),
            args: AnyArguments::default(),
            n: 0,
        }
    }

    /// The next placeholder, after binding `v` to it.
    fn bind<T>(&mut self, v: T) -> Result<String, StoreError>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
    {
        self.args
            .add(v)
            .map_err(|e| StoreError::Internal(format!("binding a filter value: {e}")))?;
        self.n += 1;
        Ok(format!("${}", self.n))
    }

    /// Adds `cond` (already holding its placeholders) with AND.
    fn and(&mut self, cond: &str) {
        self.sql.push_str(if self.sql.is_empty() {
            " WHERE "
        } else {
            " AND "
        });
        self.sql.push_str(cond);
    }

    fn eq(&mut self, column: &str, v: &Option<String>) -> Result<(), StoreError> {
        if let Some(v) = v {
            let p = self.bind(v.clone())?;
            self.and(&format!("{column} = {p}"));
        }
        Ok(())
    }

    /// Adds the filter's conditions.
    fn filter(&mut self, f: &DecisionFilter) -> Result<(), StoreError> {
        self.eq("cluster", &f.cluster)?;
        self.eq("namespace", &f.namespace)?;
        self.eq("policy", &f.policy)?;
        match f.image.as_deref().map(|i| (i, i.strip_suffix('*'))) {
            None => {}
            Some((_, Some(prefix))) => {
                // Not LIKE: SQLite's LIKE ignores ASCII case and both need `%`/`_`
                // escaped. substr/length count characters alike on both engines.
                let a = self.bind(prefix.to_string())?;
                let b = self.bind(prefix.to_string())?;
                self.and(&format!("substr(image, 1, length({a})) = {b}"));
            }
            Some((exact, None)) => {
                let p = self.bind(exact.to_string())?;
                self.and(&format!("image = {p}"));
            }
        }
        self.eq("digest", &f.digest)?;
        match f.result.as_deref() {
            None => {}
            Some("warn") => self.and("result = 'fail' AND action = 'audit'"),
            Some(r) if RESULTS.contains(&r) => {
                let p = self.bind(r.to_string())?;
                self.and(&format!("result = {p}"));
            }
            Some(r) => {
                return Err(StoreError::Invalid(format!(
                    "result filter {r:?} is not one of pass, fail, warn, skip, error"
                )))
            }
        }
        if let Some(since) = f.since {
            let p = self.bind(since)?;
            self.and(&format!("time >= {p}"));
        }
        if let Some(until) = f.until {
            let p = self.bind(until)?;
            self.and(&format!("time < {p}"));
        }
        Ok(())
    }
}

/// The columns [`record`] reads, as a literal for `concat!`.
macro_rules! columns {
    () => {
        "id, time, cluster, namespace, kind, name, operation, image, digest, policy, \
         policy_version, rule, result, action, message, dry_run"
    };
}

fn record(row: &AnyRow) -> Result<DecisionRecord, StoreError> {
    Ok(DecisionRecord {
        id: row.try_get("id")?,
        time: row.try_get("time")?,
        cluster: row.try_get("cluster")?,
        namespace: row.try_get("namespace")?,
        kind: row.try_get("kind")?,
        name: row.try_get("name")?,
        operation: row.try_get("operation")?,
        image: row.try_get("image")?,
        digest: row.try_get("digest")?,
        policy: row.try_get("policy")?,
        policy_version: row.try_get("policy_version")?,
        rule: row.try_get("rule")?,
        result: row.try_get("result")?,
        action: row.try_get("action")?,
        message: row.try_get("message")?,
        dry_run: flag(row.try_get("dry_run")?),
    })
}

/// The opaque cursor after the row `(time, id)`: base64url of `time:id`.
fn encode_cursor(time: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{time}:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(i64, String), StoreError> {
    let bad = || StoreError::Invalid("malformed page cursor".into());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (time, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((time.parse().map_err(|_| bad())?, id.to_string()))
}

pub(super) fn check_decision(d: &DecisionRecord) -> Result<(), StoreError> {
    check_name("decision id", &d.id)?;
    if !RESULTS.contains(&d.result.as_str()) {
        return Err(StoreError::Invalid(format!(
            "decision result {:?} is not one of pass, fail, skip, error",
            d.result
        )));
    }
    if !ACTIONS.contains(&d.action.as_str()) {
        return Err(StoreError::Invalid(format!(
            "decision action {:?} is not one of enforce, audit",
            d.action
        )));
    }
    Ok(())
}

/// PostgreSQL inserts every row of a JSON array (`$1`, text) with one statement that
/// never changes: prepared once per connection, one bound value per batch.
const INSERT_POSTGRES: &str = concat!(
    "INSERT INTO decisions (",
    columns!(),
    ") SELECT ",
    columns!(),
    " FROM json_populate_recordset(NULL::decisions, $1::json) ON CONFLICT (id) DO NOTHING"
);

/// SQLite re-parses JSON text for every field it reads from it, so it gets multi-row
/// `VALUES` statements instead, of up to this many rows: one statement per size, each
/// prepared once per connection (sqlx keeps 100 per connection).
const SQLITE_MAX_ROWS: usize = 64;

/// `INSERT OR IGNORE … VALUES (?, …), (?, …) …` for 1 ..= [`SQLITE_MAX_ROWS`] rows
/// (index: rows - 1).
///
/// `OR IGNORE` rather than `ON CONFLICT (id) DO NOTHING`: a multi-row statement that may
/// abort midway (any constraint but the upsert's is ABORT) makes SQLite copy every page
/// it touches to a statement journal first, to undo its own rows inside the
/// transaction. IGNORE resolves every constraint without aborting, so there is no
/// journal: 20–25 % less CPU per decision (`--bench decisions`). What it also ignores,
/// NOT NULL, cannot happen: every NOT NULL column is bound from a field that is never
/// null, and [`check_decision`] refuses bad values before.
///
/// Anonymous `?` rather than `$N`: sqlx asks SQLite for every numbered parameter's name,
/// and SQLite finds a name by walking its list of them, so binding n numbered parameters
/// costs n² steps (a quarter of the writer's time at 1024 parameters); anonymous ones
/// have no names to look up.
static INSERT_SQLITE: LazyLock<Vec<String>> =
    LazyLock::new(|| (1..=SQLITE_MAX_ROWS).map(values_sql).collect());

fn values_sql(rows: usize) -> String {
    const COLS: usize = 16;
    let mut sql = String::from(concat!(
        "INSERT OR IGNORE INTO decisions (",
        columns!(),
        ") VALUES "
    ));
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..COLS {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('?');
        }
        sql.push(')');
    }
    sql
}

/// One INSERT of `rows` decisions, ready to execute.
fn insert(
    backend: Backend,
    rows: &[DecisionRecord],
) -> Result<sqlx::query::Query<'static, sqlx::Any, AnyArguments>, StoreError> {
    if backend == Backend::Postgres {
        let json: Vec<InsertRow<'_>> = rows.iter().map(InsertRow::from).collect();
        let json = serde_json::to_string(&json)
            .map_err(|e| StoreError::Internal(format!("encoding decisions: {e}")))?;
        return Ok(sqlx::query(INSERT_POSTGRES).bind(json));
    }
    let sql = INSERT_SQLITE
        .get(rows.len().wrapping_sub(1))
        .ok_or_else(|| StoreError::Internal(format!("{} rows in one INSERT", rows.len())))?;
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
    for d in rows {
        q = q
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
            .bind(i64::from(d.dry_run));
    }
    Ok(q)
}

/// A decision as [`INSERT_POSTGRES`] reads it: keys are the column names, booleans are
/// 0/1 as stored.
#[derive(Serialize)]
struct InsertRow<'a> {
    id: &'a str,
    time: i64,
    cluster: &'a str,
    namespace: &'a str,
    kind: &'a str,
    name: &'a str,
    operation: &'a str,
    image: &'a str,
    digest: Option<&'a str>,
    policy: &'a str,
    policy_version: i64,
    rule: &'a str,
    result: &'a str,
    action: &'a str,
    message: &'a str,
    dry_run: i64,
}

impl<'a> From<&'a DecisionRecord> for InsertRow<'a> {
    fn from(d: &'a DecisionRecord) -> Self {
        InsertRow {
            id: &d.id,
            time: d.time,
            cluster: &d.cluster,
            namespace: &d.namespace,
            kind: &d.kind,
            name: &d.name,
            operation: &d.operation,
            image: &d.image,
            digest: d.digest.as_deref(),
            policy: &d.policy,
            policy_version: d.policy_version,
            rule: &d.rule,
            result: &d.result,
            action: &d.action,
            message: &d.message,
            dry_run: i64::from(d.dry_run),
        }
    }
}

impl Store {
    /// Records `ds` in one transaction and returns once it is committed. Rows
    /// whose id is already stored are skipped, so a retry is harmless. Nothing
    /// is written if any row is invalid.
    pub async fn insert_decisions(&self, ds: &[DecisionRecord]) -> Result<(), StoreError> {
        if ds.is_empty() {
            return Ok(());
        }
        for d in ds {
            check_decision(d)?;
        }
        let backend = self.inner.backend;
        let per_statement = match backend {
            Backend::Postgres => INSERT_CHUNK,
            Backend::Sqlite => SQLITE_MAX_ROWS,
        };
        // One statement is atomic by itself: a batch that fits in one (every batch of the
        // journal under ordinary load) costs one round trip to the database, not three.
        if ds.len() <= per_statement {
            insert(backend, ds)?.execute(self.pool()).await?;
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        for chunk in ds.chunks(per_statement) {
            insert(backend, chunk)?.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Decisions matching `f`, newest first, at most `limit` (1 ..= [`MAX_PAGE`];
    /// 0 means the maximum), after `cursor` when given. Returns the page and the
    /// cursor of the next page, `None` on the last one.
    pub async fn query_decisions(
        &self,
        f: &DecisionFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<(Vec<DecisionRecord>, Option<String>), StoreError> {
        let limit = if limit == 0 {
            MAX_PAGE
        } else {
            limit.min(MAX_PAGE)
        };
        let (sql, args) = page_query(f, limit, cursor)?;
        let rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
            .fetch_all(self.pool())
            .await?;
        let mut out = rows.iter().map(record).collect::<Result<Vec<_>, _>>()?;
        let next = if out.len() > limit as usize {
            out.truncate(limit as usize);
            out.last().map(|d| encode_cursor(d.time, &d.id))
        } else {
            None
        };
        Ok((out, next))
    }

    /// Counts of the decisions matching `f` per (cluster, policy), ordered by
    /// cluster then policy. A `fail` under `audit` counts as `warn`, not `fail`.
    pub async fn summary(&self, f: &DecisionFilter) -> Result<Vec<SummaryRow>, StoreError> {
        let mut w = Where::new();
        w.filter(f)?;
        let sql = format!(
            "SELECT cluster, policy, \
             SUM(CASE WHEN result = 'pass' THEN 1 ELSE 0 END) AS pass, \
             SUM(CASE WHEN result = 'fail' AND action <> 'audit' THEN 1 ELSE 0 END) AS fail, \
             SUM(CASE WHEN result = 'fail' AND action = 'audit' THEN 1 ELSE 0 END) AS warn, \
             SUM(CASE WHEN result = 'error' THEN 1 ELSE 0 END) AS error, \
             SUM(CASE WHEN result = 'skip' THEN 1 ELSE 0 END) AS skip \
             FROM decisions{} GROUP BY cluster, policy ORDER BY cluster, policy",
            w.sql
        );
        let rows = sqlx::query_with(sqlx::AssertSqlSafe(sql), w.args)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| {
                Ok(SummaryRow {
                    cluster: row.try_get("cluster")?,
                    policy: row.try_get("policy")?,
                    pass: row.try_get("pass")?,
                    fail: row.try_get("fail")?,
                    warn: row.try_get("warn")?,
                    error: row.try_get("error")?,
                    skip: row.try_get("skip")?,
                })
            })
            .collect()
    }
}

/// The SQL of one page of [`Store::query_decisions`] (`limit` already bounded) and its
/// arguments: the rows matching `f` after `cursor`, newest first, one more than `limit`.
fn page_query(
    f: &DecisionFilter,
    limit: u32,
    cursor: Option<&str>,
) -> Result<(String, AnyArguments), StoreError> {
    let mut w = Where::new();
    w.filter(f)?;
    if let Some(c) = cursor {
        let (time, id) = decode_cursor(c)?;
        let a = w.bind(time)?;
        let b = w.bind(id)?;
        // Row-value comparison: both engines order and compare (time, id) the same
        // way they sort, so pages neither overlap nor skip.
        w.and(&format!("(time, id) < ({a}, {b})"));
    }
    // One row more than asked tells whether another page exists.
    let lim = w.bind(i64::from(limit) + 1)?;
    let sql = format!(
        concat!(
            "SELECT ",
            columns!(),
            " FROM decisions{} ORDER BY time DESC, id DESC LIMIT {}"
        ),
        w.sql, lim
    );
    Ok((sql, w.args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(1_700_000_000_123, "ab:cd");
        assert_eq!(
            decode_cursor(&c),
            Ok((1_700_000_000_123, "ab:cd".to_string()))
        );
        assert!(matches!(decode_cursor("!!"), Err(StoreError::Invalid(_))));
        assert!(matches!(
            decode_cursor(&URL_SAFE_NO_PAD.encode("x:y")),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn insert_rows_have_sixteen_anonymous_placeholders() {
        let sql = values_sql(2);
        let row = format!("({})", vec!["?"; 16].join(", "));
        assert!(
            sql.starts_with("INSERT OR IGNORE INTO decisions ("),
            "{sql}"
        );
        assert!(sql.ends_with(&format!("VALUES {row}, {row}")), "{sql}");
        assert!(!sql.contains('$'), "{sql}");
    }

    /// Every page filtered by one indexed column is read in time order from an index,
    /// never sorted whole: a sort would read every decision of that cluster, image or
    /// digest first. (Decisions of one millisecond may be sorted by id: the "right part".)
    #[tokio::test]
    async fn pages_filtered_by_an_indexed_column_are_not_sorted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(None, dir.path()).await.expect("store");
        let cursor = encode_cursor(1_700_000_000_000, "0123");
        let filters = [
            ("none", DecisionFilter::default()),
            (
                "cluster",
                DecisionFilter {
                    cluster: Some("prod".into()),
                    ..DecisionFilter::default()
                },
            ),
            (
                "policy",
                DecisionFilter {
                    policy: Some("p".into()),
                    ..DecisionFilter::default()
                },
            ),
            (
                "image",
                DecisionFilter {
                    image: Some("ghcr.io/a/b:1".into()),
                    ..DecisionFilter::default()
                },
            ),
            (
                "digest",
                DecisionFilter {
                    digest: Some("sha256:00".into()),
                    ..DecisionFilter::default()
                },
            ),
        ];
        for (name, f) in filters {
            for cursor in [None, Some(cursor.as_str())] {
                let (sql, args) = page_query(&f, 50, cursor).expect("query");
                let plan: Vec<String> = sqlx::query_with(
                    sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")),
                    args,
                )
                .fetch_all(store.pool())
                .await
                .expect("plan")
                .iter()
                .map(|row| row.try_get::<String, _>("detail").expect("detail"))
                .collect();
                let plan = plan.join("; ");
                assert!(
                    !plan.contains("TEMP B-TREE FOR ORDER BY"),
                    "{name}, cursor {cursor:?}: {plan}"
                );
                assert!(
                    plan.contains("USING INDEX"),
                    "{name}, cursor {cursor:?}: {plan}"
                );
            }
        }
    }

    #[test]
    fn every_sqlite_statement_size_binds_its_rows_exactly() {
        for (i, sql) in INSERT_SQLITE.iter().enumerate() {
            assert_eq!(sql.matches('?').count(), (i + 1) * 16, "{sql}");
        }
        assert_eq!(INSERT_SQLITE.len(), SQLITE_MAX_ROWS);
    }
}
