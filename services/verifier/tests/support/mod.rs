//! What the suites share: a PostgreSQL database of each test's own, and a verifier served
//! as the binary serves it with a registry beside it.

// Each test binary uses part of this.
#![allow(dead_code)]

pub mod harness;
pub mod postgres;
