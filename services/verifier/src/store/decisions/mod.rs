//! Decisions: one per (resource, image, policy, rule) judged at admission or by a
//! verify call, queryable across the fleet.
//!
//! [`Store::insert_decisions`] returns only after the rows are committed, so a
//! caller that acknowledges an admission afterwards never acknowledges a
//! decision that is then lost. Inserting is idempotent by (time, id): a caller that
//! retries after an unknown outcome (a commit whose answer was lost) does not
//! duplicate rows.
//!
//! How they are stored: [`write`] (each subject once, a narrow row per decision) and
//! [`read`] (pages and summaries over those and the table of earlier builds).

mod read;
mod write;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{check_name, StoreError};

pub(super) use write::KnownSubjects;

/// The largest page [`Store::query_decisions`] returns.
pub const MAX_PAGE: u32 = 1000;

/// Results a decision may have.
const RESULTS: [&str; 4] = ["pass", "fail", "skip", "error"];
/// Results a [`DecisionFilter`] may select: those recorded, and `warn` (a fail under
/// audit), as the summary counts them.
pub const RESULT_FILTERS: [&str; 5] = ["pass", "fail", "warn", "error", "skip"];
/// Failure actions a decision may have been taken under.
const ACTIONS: [&str; 2] = ["enforce", "audit"];

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Made by the caller, unique among the decisions of its millisecond; a retried
    /// insert with the same time and id is ignored.
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
}
