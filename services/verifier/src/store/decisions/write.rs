//! Writing decisions: each new subject once, then one narrow row per decision.
//!
//! A decision's subject is everything but its id, time and resource name. The fleet
//! repeats subjects (the same image admitted under the same rule in the same namespace),
//! so the writer remembers which subjects are stored ([`KnownSubjects`]) and a warm
//! batch is one statement of narrow rows.

use std::collections::{BTreeMap, HashSet};
use std::sync::{LazyLock, Mutex, PoisonError};

use aws_lc_rs::digest;
use serde::Serialize;
use sqlx::any::AnyArguments;

use super::{check_decision, DecisionRecord};
use crate::store::{Backend, Store, StoreError};

/// Rows per INSERT of a JSON array (PostgreSQL's decisions, and subjects on both):
/// bounds the size of one bound value.
const JSON_ROWS: usize = 1000;

/// SQLite re-parses JSON text for every field it reads from it, so it gets multi-row
/// `VALUES` statements instead, of up to this many rows: one statement per size, each
/// prepared once per connection (sqlx keeps 100 per connection).
const SQLITE_ROWS: usize = 64;

/// Subjects remembered as stored; past this the memory is emptied and the next batches
/// write their subjects again (the database ignores them).
const KNOWN_MAX: usize = 65_536;

/// Ids of subjects this process has committed. Subjects are never deleted, so a
/// remembered one is still there.
#[derive(Debug, Default)]
pub(in crate::store) struct KnownSubjects(Mutex<HashSet<String>>);

impl KnownSubjects {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A subject's id: 32 hex digits of the SHA-256 of its fields, each length-prefixed so
/// no two subjects share an encoding. A cryptographic hash because the fields come from
/// admission requests: whoever creates Pods must not be able to make their decisions
/// read as another subject's.
fn subject_id(d: &DecisionRecord, buf: &mut Vec<u8>) -> String {
    fn put(buf: &mut Vec<u8>, field: &str) {
        buf.extend_from_slice(&(field.len() as u64).to_le_bytes());
        buf.extend_from_slice(field.as_bytes());
    }
    buf.clear();
    for field in [&d.cluster, &d.namespace, &d.kind, &d.operation, &d.image] {
        put(buf, field);
    }
    match &d.digest {
        None => buf.push(0),
        Some(digest) => {
            buf.push(1);
            put(buf, digest);
        }
    }
    put(buf, &d.policy);
    buf.extend_from_slice(&d.policy_version.to_le_bytes());
    for field in [&d.rule, &d.result, &d.action, &d.message] {
        put(buf, field);
    }
    buf.push(u8::from(d.dry_run));
    hex::encode(&digest::digest(&digest::SHA256, buf).as_ref()[..16])
}

/// The columns of `decision_subjects` as a literal for `concat!`.
macro_rules! subject_columns {
    () => {
        "id, cluster, namespace, kind, operation, image, digest, policy, policy_version, \
         rule, result, action, message, dry_run"
    };
}

/// PostgreSQL inserts every row of a JSON array (`$1`, text) with one statement that
/// never changes: prepared once per connection, one bound value per batch.
const SUBJECTS_POSTGRES: &str = concat!(
    "INSERT INTO decision_subjects (",
    subject_columns!(),
    ") SELECT ",
    subject_columns!(),
    " FROM json_populate_recordset(NULL::decision_subjects, $1::json) ON CONFLICT (id) DO NOTHING"
);
const EVENTS_POSTGRES: &str = "INSERT INTO decision_events (time, id, subject, name) \
     SELECT time, id, subject, name \
     FROM json_populate_recordset(NULL::decision_events, $1::json) \
     ON CONFLICT (time, id) DO NOTHING";

/// SQLite reads new subjects from a JSON array too: they are few (a warm batch has
/// none), so parsing JSON costs little, and one statement stores them all.
const SUBJECTS_SQLITE: &str = concat!(
    "INSERT OR IGNORE INTO decision_subjects (",
    subject_columns!(),
    ") SELECT value ->> 'id', value ->> 'cluster', value ->> 'namespace', value ->> 'kind', \
     value ->> 'operation', value ->> 'image', value ->> 'digest', value ->> 'policy', \
     value ->> 'policy_version', value ->> 'rule', value ->> 'result', value ->> 'action', \
     value ->> 'message', value ->> 'dry_run' FROM json_each(?)"
);

/// `INSERT OR IGNORE INTO decision_events … VALUES (?, ?, ?, ?), …` for 1 ..=
/// [`SQLITE_ROWS`] rows (index: rows - 1).
///
/// `OR IGNORE` rather than `ON CONFLICT DO NOTHING`: a multi-row statement that may
/// abort midway (any constraint but the upsert's is ABORT) makes SQLite copy every page
/// it touches to a statement journal first, to undo its own rows inside the
/// transaction. IGNORE resolves every constraint without aborting, so there is no
/// journal: 20–25 % less CPU per decision (`--bench decisions`). What it also ignores,
/// NOT NULL, cannot happen: every column is bound from a field that is never null.
///
/// Anonymous `?` rather than `$N`: sqlx asks SQLite for every numbered parameter's name,
/// and SQLite finds a name by walking its list of them, so binding n numbered parameters
/// costs n² steps; anonymous ones have no names to look up.
static EVENTS_SQLITE: LazyLock<Vec<String>> =
    LazyLock::new(|| (1..=SQLITE_ROWS).map(events_sql).collect());

fn events_sql(rows: usize) -> String {
    let values = vec!["(?, ?, ?, ?)"; rows].join(", ");
    format!("INSERT OR IGNORE INTO decision_events (time, id, subject, name) VALUES {values}")
}

/// A decision's subject as [`SUBJECTS_POSTGRES`] and [`SUBJECTS_SQLITE`] read it: keys
/// are the column names, booleans are 0/1 as stored.
#[derive(Serialize)]
struct SubjectRow<'a> {
    id: &'a str,
    cluster: &'a str,
    namespace: &'a str,
    kind: &'a str,
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

/// A decision as [`EVENTS_POSTGRES`] reads it.
#[derive(Serialize)]
struct EventRow<'a> {
    time: i64,
    id: &'a str,
    subject: &'a str,
    name: &'a str,
}

type Statement = sqlx::query::Query<'static, sqlx::Any, AnyArguments>;

fn json<T: Serialize>(rows: &[T]) -> Result<String, StoreError> {
    serde_json::to_string(rows)
        .map_err(|e| StoreError::Internal(format!("encoding decisions: {e}")))
}

/// The statements that store `subjects` (id → a decision with it).
fn subject_statements(
    backend: Backend,
    subjects: &BTreeMap<String, &DecisionRecord>,
) -> Result<Vec<Statement>, StoreError> {
    let rows: Vec<SubjectRow<'_>> = subjects
        .iter()
        .map(|(id, d)| SubjectRow {
            id,
            cluster: &d.cluster,
            namespace: &d.namespace,
            kind: &d.kind,
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
        })
        .collect();
    let sql = match backend {
        Backend::Postgres => SUBJECTS_POSTGRES,
        Backend::Sqlite => SUBJECTS_SQLITE,
    };
    rows.chunks(JSON_ROWS)
        .map(|chunk| Ok(sqlx::query(sql).bind(json(chunk)?)))
        .collect()
}

/// The statements that store the decisions `ds`, whose subjects are `ids`.
fn event_statements(
    backend: Backend,
    ds: &[DecisionRecord],
    ids: &[String],
) -> Result<Vec<Statement>, StoreError> {
    let rows: Vec<EventRow<'_>> = ds
        .iter()
        .zip(ids)
        .map(|(d, subject)| EventRow {
            time: d.time,
            id: &d.id,
            subject,
            name: &d.name,
        })
        .collect();
    if backend == Backend::Postgres {
        return rows
            .chunks(JSON_ROWS)
            .map(|chunk| Ok(sqlx::query(EVENTS_POSTGRES).bind(json(chunk)?)))
            .collect();
    }
    Ok(rows
        .chunks(SQLITE_ROWS)
        .map(|chunk| {
            let sql = &EVENTS_SQLITE[chunk.len() - 1];
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
            for e in chunk {
                q = q
                    .bind(e.time)
                    .bind(e.id.to_owned())
                    .bind(e.subject.to_owned())
                    .bind(e.name.to_owned());
            }
            q
        })
        .collect())
}

impl Store {
    /// Records `ds` atomically and returns once they are committed. Rows whose (time,
    /// id) is already stored are skipped, so a retry is harmless. Nothing is written if
    /// any row is invalid.
    pub async fn insert_decisions(&self, ds: &[DecisionRecord]) -> Result<(), StoreError> {
        if ds.is_empty() {
            return Ok(());
        }
        for d in ds {
            check_decision(d)?;
        }
        let mut buf = Vec::new();
        let ids: Vec<String> = ds.iter().map(|d| subject_id(d, &mut buf)).collect();
        let new: BTreeMap<String, &DecisionRecord> = {
            let known = self.inner.known_subjects.lock();
            ids.iter()
                .zip(ds)
                .filter(|(id, _)| !known.contains(*id))
                .map(|(id, d)| (id.clone(), d))
                .collect()
        };
        let backend = self.inner.backend;
        let mut statements = subject_statements(backend, &new)?;
        statements.extend(event_statements(backend, ds, &ids)?);
        // One statement is atomic by itself: a warm batch that fits in one (every batch
        // of the journal under ordinary load) costs one round trip, not three.
        match <[Statement; 1]>::try_from(statements) {
            Ok([one]) => {
                one.execute(self.pool()).await?;
            }
            Err(statements) => {
                let mut tx = self.begin_write().await?;
                for statement in statements {
                    statement.execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
        }
        let mut known = self.inner.known_subjects.lock();
        if known.len() + new.len() > KNOWN_MAX {
            known.clear();
        }
        known.extend(new.into_keys());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision() -> DecisionRecord {
        DecisionRecord {
            id: "d1".into(),
            time: 1,
            cluster: "prod".into(),
            namespace: "default".into(),
            kind: "Pod".into(),
            name: "web".into(),
            operation: "CREATE".into(),
            image: "ghcr.io/acme/web:1".into(),
            digest: Some("sha256:00".into()),
            policy: "p".into(),
            policy_version: 1,
            rule: "r".into(),
            result: "pass".into(),
            action: "enforce".into(),
            message: "ok".into(),
            dry_run: false,
        }
    }

    #[test]
    fn subject_ids_ignore_the_decision_and_tell_every_field_apart() {
        let mut buf = Vec::new();
        let base = decision();
        let id = subject_id(&base, &mut buf);
        assert_eq!(id.len(), 32);
        let same = DecisionRecord {
            id: "d2".into(),
            time: 2,
            name: "api".into(),
            ..base.clone()
        };
        assert_eq!(
            subject_id(&same, &mut buf),
            id,
            "id, time and name are not the subject"
        );
        let changes: [fn(&mut DecisionRecord); 14] = [
            |d| d.cluster.push('x'),
            |d| d.namespace.push('x'),
            |d| d.kind.push('x'),
            |d| d.operation.push('x'),
            |d| d.image.push('x'),
            |d| d.digest = None,
            |d| d.digest = Some(String::new()),
            |d| d.policy.push('x'),
            |d| d.policy_version += 1,
            |d| d.rule.push('x'),
            |d| d.result = "fail".into(),
            |d| d.action = "audit".into(),
            |d| d.message.push('x'),
            |d| d.dry_run = true,
        ];
        let mut seen = HashSet::from([id]);
        for change in changes {
            let mut d = base.clone();
            change(&mut d);
            assert!(seen.insert(subject_id(&d, &mut buf)), "{d:?}");
        }
        // Length prefixes: moving a character from one field to the next is a new subject.
        let mut shifted = base.clone();
        shifted.cluster = "pro".into();
        shifted.namespace = "ddefault".into();
        assert!(seen.insert(subject_id(&shifted, &mut buf)));
    }

    #[test]
    fn every_sqlite_statement_size_binds_its_rows_exactly() {
        for (i, sql) in EVENTS_SQLITE.iter().enumerate() {
            assert_eq!(sql.matches('?').count(), (i + 1) * 4, "{sql}");
            assert!(!sql.contains('$'), "{sql}");
        }
        assert_eq!(EVENTS_SQLITE.len(), SQLITE_ROWS);
    }
}
