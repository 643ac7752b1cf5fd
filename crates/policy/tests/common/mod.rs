//! Locating the shared test data: `../shared/testdata` beside the checkout, or
//! `$SIGNET_TESTDATA`; and policies to vary in validation tests ([`build`]).

// Each test file uses only some of the helpers.
#![allow(dead_code)]

pub mod build;

use std::path::PathBuf;

pub fn testdata(sub: &str) -> PathBuf {
    let base = std::env::var_os("SIGNET_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        });
    let dir = base.join(sub);
    assert!(
        dir.is_dir(),
        "test data {} is missing (set SIGNET_TESTDATA to the shared testdata folder)",
        dir.display()
    );
    dir
}

pub fn read(sub: &str, file: &str) -> String {
    let path = testdata(sub).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
