//! What a cached verdict holds: the outcome of the checks, independent of how the image
//! was written in the request.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use signet_policy::image::ImageRef;

use super::VerdictCache;
use crate::engine::EntryVerdict;
use crate::verdict::VerdictResult;

/// Stands for the image reference in a cached message; the reference of the request
/// being answered replaces it.
const IMAGE: &str = "\u{1}image\u{1}";

/// The cryptographic outcome of one entry on one digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedVerdict {
    /// Whether the checks passed (otherwise they failed; errors are never cached).
    pub pass: bool,
    /// The message, with the image reference replaced by a placeholder.
    pub message: String,
    /// Field paths of the attestors that verified.
    pub attestors_satisfied: Vec<String>,
    /// How long it is kept in process.
    #[serde(skip)]
    pub ttl: Duration,
}

impl CachedVerdict {
    pub(super) fn from_verdict(
        verdict: &EntryVerdict,
        image: &ImageRef,
        cache: &VerdictCache,
    ) -> Self {
        let pass = verdict.result == VerdictResult::Pass;
        CachedVerdict {
            pass,
            message: verdict.message.replace(&image.to_string(), IMAGE),
            attestors_satisfied: verdict.attestors_satisfied.clone(),
            ttl: cache.ttl_for(pass),
        }
    }

    /// Whether this is a passing verdict.
    pub fn passed(&self) -> bool {
        self.pass
    }

    pub(super) fn to_verdict(&self, image: &ImageRef, digest: &str) -> EntryVerdict {
        EntryVerdict {
            result: if self.pass {
                VerdictResult::Pass
            } else {
                VerdictResult::Fail
            },
            message: self.message.replace(IMAGE, &image.to_string()),
            digest: Some(digest.to_owned()),
            attestors_satisfied: self.attestors_satisfied.clone(),
            pinned: None,
        }
    }
}
