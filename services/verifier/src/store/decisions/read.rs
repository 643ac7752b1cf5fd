//! Reading decisions: pages newest first, and summaries.
//!
//! Decisions live in two places: `decision_events` joined to `decision_subjects` (what
//! this build writes), and the `decisions` table of earlier builds (rows from before the
//! upgrade, and from replicas of the previous build during a rolling one). Every read
//! asks both and merges.
//!
//! A page filtered by the subject's fields must not read every matching decision to
//! sort them: a cluster's or an image's decisions may be millions. So a page first finds
//! the matching subjects. When they are few ([`NARROW`]), each one's decisions are read
//! newest first from `decision_events_subject`, at most a page of each. When they are
//! many, the filter is broad, and the page walks all decisions newest first, keeping
//! those whose subject matches.

use std::collections::BTreeMap;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Arguments as _, Row};

use super::{
    decode_cursor, encode_cursor, DecisionFilter, DecisionRecord, SummaryRow, MAX_PAGE, RESULTS,
};
use crate::store::{flag, Store, StoreError};

/// At most this many matching subjects are read one by one; more are a broad filter.
const NARROW: usize = 32;

/// Placeholders `$1, $2, …` numbered in binding order, and their values.
struct Binder {
    args: AnyArguments,
    n: usize,
}

impl Binder {
    fn new() -> Binder {
        Binder {
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
}

/// ` WHERE a AND b …`, or nothing.
fn where_all(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    }
}

/// Conditions on the subject's columns, prefixed by `t` (`"s."`, or `""`).
fn subject_conds(b: &mut Binder, f: &DecisionFilter, t: &str) -> Result<Vec<String>, StoreError> {
    let mut conds = Vec::new();
    for (column, value) in [
        ("cluster", &f.cluster),
        ("namespace", &f.namespace),
        ("policy", &f.policy),
    ] {
        if let Some(v) = value {
            conds.push(format!("{t}{column} = {}", b.bind(v.clone())?));
        }
    }
    match f.image.as_deref().map(|i| (i, i.strip_suffix('*'))) {
        None => {}
        Some((_, Some(prefix))) => {
            // Not LIKE: SQLite's LIKE ignores ASCII case and both need `%`/`_`
            // escaped. substr/length count characters alike on both engines.
            let a = b.bind(prefix.to_string())?;
            let c = b.bind(prefix.to_string())?;
            conds.push(format!("substr({t}image, 1, length({a})) = {c}"));
        }
        Some((exact, None)) => conds.push(format!("{t}image = {}", b.bind(exact.to_string())?)),
    }
    if let Some(digest) = &f.digest {
        conds.push(format!("{t}digest = {}", b.bind(digest.clone())?));
    }
    match f.result.as_deref() {
        None => {}
        Some("warn") => conds.push(format!("{t}result = 'fail' AND {t}action = 'audit'")),
        Some(r) if RESULTS.contains(&r) => {
            conds.push(format!("{t}result = {}", b.bind(r.to_string())?));
        }
        Some(r) => {
            return Err(StoreError::Invalid(format!(
                "result filter {r:?} is not one of pass, fail, warn, skip, error"
            )))
        }
    }
    Ok(conds)
}

/// Conditions on the time (the filter's bounds, and the cursor's row), prefixed by `t`.
fn time_conds(
    b: &mut Binder,
    f: &DecisionFilter,
    after: Option<&(i64, String)>,
    t: &str,
) -> Result<Vec<String>, StoreError> {
    let mut conds = Vec::new();
    if let Some(since) = f.since {
        conds.push(format!("{t}time >= {}", b.bind(since)?));
    }
    if let Some(until) = f.until {
        conds.push(format!("{t}time < {}", b.bind(until)?));
    }
    if let Some((time, id)) = after {
        let (a, c) = (b.bind(*time)?, b.bind(id.clone())?);
        // Row-value comparison: both engines order and compare (time, id) the same
        // way they sort, so pages neither overlap nor skip.
        conds.push(format!("({t}time, {t}id) < ({a}, {c})"));
    }
    Ok(conds)
}

/// The columns [`record`] reads, from `decisions`, or from `e` (events) joined to `s`
/// (subjects).
const LEGACY_COLUMNS: &str = "id, time, cluster, namespace, kind, name, operation, image, \
     digest, policy, policy_version, rule, result, action, message, dry_run";
const JOINED_COLUMNS: &str = "e.id, e.time, s.cluster, s.namespace, s.kind, e.name, \
     s.operation, s.image, s.digest, s.policy, s.policy_version, s.rule, s.result, s.action, \
     s.message, s.dry_run";

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

/// One page of the `decisions` table of earlier builds: `rows` at most.
fn legacy_page(
    f: &DecisionFilter,
    rows: i64,
    after: Option<&(i64, String)>,
) -> Result<(String, AnyArguments), StoreError> {
    let mut b = Binder::new();
    let mut conds = subject_conds(&mut b, f, "")?;
    conds.extend(time_conds(&mut b, f, after, "")?);
    let lim = b.bind(rows)?;
    let sql = format!(
        "SELECT {LEGACY_COLUMNS} FROM decisions{} ORDER BY time DESC, id DESC LIMIT {lim}",
        where_all(&conds)
    );
    Ok((sql, b.args))
}

/// The subjects matching `f`'s subject conditions, at most [`NARROW`] + 1; `None` when
/// `f` has none (it selects by time alone).
fn matching_subjects(f: &DecisionFilter) -> Result<Option<(String, AnyArguments)>, StoreError> {
    let mut b = Binder::new();
    let conds = subject_conds(&mut b, f, "")?;
    if conds.is_empty() {
        return Ok(None);
    }
    let sql = format!(
        "SELECT id FROM decision_subjects{} LIMIT {}",
        where_all(&conds),
        NARROW + 1
    );
    Ok(Some((sql, b.args)))
}

/// One page of the events of `subjects` (a few): at most `rows` of each, newest first,
/// from `decision_events_subject`, then the newest `rows` of them all.
fn narrow_page(
    f: &DecisionFilter,
    subjects: &[String],
    rows: i64,
    after: Option<&(i64, String)>,
) -> Result<(String, AnyArguments), StoreError> {
    let mut b = Binder::new();
    let mut parts = Vec::with_capacity(subjects.len());
    for (i, subject) in subjects.iter().enumerate() {
        let mut conds = vec![format!("subject = {}", b.bind(subject.clone())?)];
        conds.extend(time_conds(&mut b, f, after, "")?);
        let lim = b.bind(rows)?;
        parts.push(format!(
            "SELECT time, id, subject, name FROM (SELECT time, id, subject, name \
             FROM decision_events{} ORDER BY time DESC, id DESC LIMIT {lim}) AS p{i}",
            where_all(&conds)
        ));
    }
    let lim = b.bind(rows)?;
    let sql = format!(
        "SELECT {JOINED_COLUMNS} FROM ({}) AS e CROSS JOIN decision_subjects s \
         WHERE s.id = e.subject ORDER BY e.time DESC, e.id DESC LIMIT {lim}",
        parts.join(" UNION ALL ")
    );
    Ok((sql, b.args))
}

/// One page of all events newest first, through the primary key, keeping those whose
/// subject matches `f`. `CROSS JOIN` makes SQLite walk the events first (it keeps the
/// order of a cross join's tables), PostgreSQL plans it as any inner join.
fn broad_page(
    f: &DecisionFilter,
    rows: i64,
    after: Option<&(i64, String)>,
) -> Result<(String, AnyArguments), StoreError> {
    let mut b = Binder::new();
    let mut conds = vec!["s.id = e.subject".to_string()];
    conds.extend(subject_conds(&mut b, f, "s.")?);
    conds.extend(time_conds(&mut b, f, after, "e.")?);
    let lim = b.bind(rows)?;
    let sql = format!(
        "SELECT {JOINED_COLUMNS} FROM decision_events e CROSS JOIN decision_subjects s{} \
         ORDER BY e.time DESC, e.id DESC LIMIT {lim}",
        where_all(&conds)
    );
    Ok((sql, b.args))
}

/// The counts of [`SummaryRow`] as SQL over `result`, `action` and a count `n`.
const COUNTS: &str = "\
     CAST(SUM(CASE WHEN result = 'pass' THEN n ELSE 0 END) AS BIGINT) AS pass, \
     CAST(SUM(CASE WHEN result = 'fail' AND action <> 'audit' THEN n ELSE 0 END) AS BIGINT) AS fail, \
     CAST(SUM(CASE WHEN result = 'fail' AND action = 'audit' THEN n ELSE 0 END) AS BIGINT) AS warn, \
     CAST(SUM(CASE WHEN result = 'error' THEN n ELSE 0 END) AS BIGINT) AS error, \
     CAST(SUM(CASE WHEN result = 'skip' THEN n ELSE 0 END) AS BIGINT) AS skip";

/// The summary of the `decisions` table of earlier builds.
fn legacy_summary(f: &DecisionFilter) -> Result<(String, AnyArguments), StoreError> {
    let mut b = Binder::new();
    let mut conds = subject_conds(&mut b, f, "")?;
    conds.extend(time_conds(&mut b, f, None, "")?);
    let sql = format!(
        "SELECT cluster, policy, {COUNTS} FROM (SELECT cluster, policy, result, action, 1 AS n \
         FROM decisions{}) AS d GROUP BY cluster, policy",
        where_all(&conds)
    );
    Ok((sql, b.args))
}

/// The summary of the events: counted per subject (from its index), then per (cluster,
/// policy) of the matching subjects.
fn summary(f: &DecisionFilter) -> Result<(String, AnyArguments), StoreError> {
    let mut b = Binder::new();
    let mut conds = Vec::new();
    let inner = subject_conds(&mut b, f, "")?;
    if !inner.is_empty() {
        conds.push(format!(
            "subject IN (SELECT id FROM decision_subjects{})",
            where_all(&inner)
        ));
    }
    conds.extend(time_conds(&mut b, f, None, "")?);
    let sql = format!(
        "SELECT cluster, policy, {COUNTS} FROM (SELECT s.cluster, s.policy, s.result, s.action, \
         e.n FROM (SELECT subject, COUNT(*) AS n FROM decision_events{} GROUP BY subject) AS e \
         CROSS JOIN decision_subjects s WHERE s.id = e.subject) AS d GROUP BY cluster, policy",
        where_all(&conds)
    );
    Ok((sql, b.args))
}

impl Store {
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
        // One row more than asked tells whether another page exists.
        let mut out = self.page(f, i64::from(limit) + 1, cursor).await?;
        let next = if out.len() > limit as usize {
            out.truncate(limit as usize);
            out.last().map(|d| encode_cursor(d.time, &d.id))
        } else {
            None
        };
        Ok((out, next))
    }

    /// The newest `rows` decisions of this build's tables matching `f`, after `after`.
    async fn events_page(
        &self,
        f: &DecisionFilter,
        rows: i64,
        after: Option<&(i64, String)>,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        let (sql, args) = match matching_subjects(f)? {
            None => broad_page(f, rows, after)?,
            Some((sql, args)) => {
                let subjects: Vec<String> = sqlx::query_scalar_with(sqlx::AssertSqlSafe(sql), args)
                    .fetch_all(self.pool())
                    .await?;
                match subjects.len() {
                    0 => return Ok(Vec::new()),
                    n if n <= NARROW => narrow_page(f, &subjects, rows, after)?,
                    _ => broad_page(f, rows, after)?,
                }
            }
        };
        self.fetch_records(sql, args).await
    }

    async fn fetch_records(
        &self,
        sql: String,
        args: AnyArguments,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(record)
            .collect()
    }

    /// The newest `rows` decisions matching `f` after `cursor`, from both places.
    async fn page(
        &self,
        f: &DecisionFilter,
        rows: i64,
        cursor: Option<&str>,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        let after = cursor.map(decode_cursor).transpose()?;
        let mut out = self.events_page(f, rows, after.as_ref()).await?;
        let (sql, args) = legacy_page(f, rows, after.as_ref())?;
        out.extend(self.fetch_records(sql, args).await?);
        out.sort_by(|a, b| (b.time, &b.id).cmp(&(a.time, &a.id)));
        out.truncate(usize::try_from(rows).unwrap_or(usize::MAX));
        Ok(out)
    }

    /// Counts of the decisions matching `f` per (cluster, policy), ordered by
    /// cluster then policy. A `fail` under `audit` counts as `warn`, not `fail`.
    pub async fn summary(&self, f: &DecisionFilter) -> Result<Vec<SummaryRow>, StoreError> {
        let mut totals: BTreeMap<(String, String), SummaryRow> = BTreeMap::new();
        for (sql, args) in [summary(f)?, legacy_summary(f)?] {
            for row in sqlx::query_with(sqlx::AssertSqlSafe(sql), args)
                .fetch_all(self.pool())
                .await?
            {
                let (cluster, policy): (String, String) =
                    (row.try_get("cluster")?, row.try_get("policy")?);
                let t = totals
                    .entry((cluster.clone(), policy.clone()))
                    .or_insert_with(|| SummaryRow {
                        cluster,
                        policy,
                        ..SummaryRow::default()
                    });
                t.pass += row.try_get::<i64, _>("pass")?;
                t.fail += row.try_get::<i64, _>("fail")?;
                t.warn += row.try_get::<i64, _>("warn")?;
                t.error += row.try_get::<i64, _>("error")?;
                t.skip += row.try_get::<i64, _>("skip")?;
            }
        }
        Ok(totals.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters() -> Vec<(&'static str, DecisionFilter)> {
        let one = |set: fn(&mut DecisionFilter)| {
            let mut f = DecisionFilter::default();
            set(&mut f);
            f
        };
        vec![
            ("none", DecisionFilter::default()),
            ("cluster", one(|f| f.cluster = Some("prod".into()))),
            ("policy", one(|f| f.policy = Some("p".into()))),
            ("image", one(|f| f.image = Some("ghcr.io/a/b:1".into()))),
            ("digest", one(|f| f.digest = Some("sha256:00".into()))),
            ("namespace", one(|f| f.namespace = Some("default".into()))),
            ("result", one(|f| f.result = Some("warn".into()))),
        ]
    }

    async fn plan(store: &Store, (sql, args): (String, AnyArguments)) -> String {
        let details: Vec<String> = sqlx::query_with(
            sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")),
            args,
        )
        .fetch_all(store.pool())
        .await
        .expect("plan")
        .iter()
        .map(|row| row.try_get::<String, _>("detail").expect("detail"))
        .collect();
        details.join("; ")
    }

    /// No page reads every matching decision to sort them: a cluster's, an image's or a
    /// digest's decisions may be millions. Each is read in time order from an index, and
    /// at most a page of each subject is sorted to merge them.
    #[tokio::test]
    async fn pages_are_read_in_time_order_from_an_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(None, dir.path()).await.expect("store");
        let after = (1_700_000_000_000, "0123".to_string());
        for (name, f) in filters() {
            for after in [None, Some(&after)] {
                let broad = plan(&store, broad_page(&f, 51, after).expect("broad")).await;
                assert!(!broad.contains("TEMP B-TREE"), "{name}, {after:?}: {broad}");
                assert!(
                    broad.contains(" e USING INDEX sqlite_autoindex_decision_events_1"),
                    "{name}, {after:?}: {broad}"
                );
                assert!(
                    broad.contains(
                        "SEARCH s USING INDEX sqlite_autoindex_decision_subjects_1 (id=?)"
                    ),
                    "{name}, {after:?}: {broad}"
                );

                let subjects = ["a".to_string(), "b".to_string()];
                let narrow = plan(
                    &store,
                    narrow_page(&f, &subjects, 51, after).expect("narrow"),
                )
                .await;
                // Each subject's run is read newest first from its index and cut at a
                // page (nothing sorted inside the co-routine); only pages are sorted.
                let steps: Vec<&str> = narrow.split("; ").collect();
                for (i, _) in subjects.iter().enumerate() {
                    let at = steps
                        .iter()
                        .position(|s| *s == format!("CO-ROUTINE p{i}"))
                        .unwrap_or_else(|| panic!("{name}, {after:?}: {narrow}"));
                    assert!(
                        steps[at + 1].starts_with(
                            "SEARCH decision_events USING INDEX decision_events_subject (subject=?"
                        ) && steps[at + 2] == format!("SCAN p{i}"),
                        "{name}, {after:?}: {narrow}"
                    );
                }
                let legacy = plan(&store, legacy_page(&f, 51, after).expect("legacy")).await;
                if ["none", "cluster", "policy", "image", "digest"].contains(&name) {
                    assert!(
                        !legacy.contains("TEMP B-TREE FOR ORDER BY"),
                        "{name}: {legacy}"
                    );
                    assert!(legacy.contains("USING INDEX"), "{name}: {legacy}");
                }
            }
        }
    }
}
