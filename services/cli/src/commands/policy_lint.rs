//! `signet policy lint FILE...`

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use signet_policy::{load_policies, Error};

use super::EXIT_ERROR;

pub fn run(files: &[impl AsRef<Path>]) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut invalid = 0usize;
    let mut policies = 0usize;
    for file in files {
        let file = file.as_ref();
        let shown = file.display();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                invalid += 1;
                let _ = writeln!(out, "{shown}: cannot read: {e}");
                continue;
            }
        };
        match load_policies(&text) {
            Ok(loaded) => policies += loaded.len(),
            Err(Error::InvalidPolicy(diagnostics)) => {
                invalid += 1;
                for e in diagnostics.errors() {
                    let _ = writeln!(out, "{shown}: {e}");
                }
            }
            Err(other) => {
                invalid += 1;
                let _ = writeln!(out, "{shown}: {other}");
            }
        }
    }
    let _ = out.flush();
    eprintln!(
        "{} file(s) checked: {} valid ({policies} policies), {invalid} invalid",
        files.len(),
        files.len() - invalid
    );
    if invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_ERROR)
    }
}
