//! `signet-e2e` holds integration tests only: see `tests/` beside this file. They run
//! the workspace binaries (`signet-verifier`, `signet-relay`, `signet`) as processes;
//! build them first with `cargo build --workspace --bins` (the tests build them when
//! they are missing).
