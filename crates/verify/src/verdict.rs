//! What Signet decided about one image under one rule.

use std::time::Duration;

use serde::Serialize;

/// The outcome of checking one image against one `verifyImages` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictResult {
    /// Signed and attested as the entry demands.
    Pass,
    /// Not signed or attested as demanded.
    Fail,
    /// The entry does not demand anything of this image (`required: false`, skipped reference).
    Skip,
    /// Signet could not decide (registry unreachable, timeout, malformed data).
    Error,
}

impl VerdictResult {
    /// The lowercase name used in reports and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictResult::Pass => "pass",
            VerdictResult::Fail => "fail",
            VerdictResult::Skip => "skip",
            VerdictResult::Error => "error",
        }
    }
}

/// The verdict on one image under one rule of one policy.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// The image as written in the resource.
    pub image: String,
    /// The digest it resolved to, when it did.
    pub digest: Option<String>,
    /// Policy name (`namespace/name` for a namespaced Policy).
    pub policy: String,
    /// Rule name.
    pub rule: String,
    /// Result.
    pub result: VerdictResult,
    /// Why, for a person.
    pub message: String,
    /// Whether the entry's failure action is Audit (a failure warns instead of denying).
    pub audit: bool,
    /// The attestors that verified, as field paths (`attestors[0].entries[1]`).
    pub attestors_satisfied: Vec<String>,
    /// Time spent deciding this verdict.
    #[serde(serialize_with = "as_micros", rename = "durationMicros")]
    pub duration: Duration,
}

fn as_micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_micros().min(u64::MAX as u128) as u64)
}
