//! One module per command; each returns the process exit code.

mod jp;
mod policy_lint;

use std::process::ExitCode;

use crate::cli::{Cli, Command, JpCommand, PolicyCommand};

/// Exit code for "could not do it" (bad input, unreadable file), per DESIGN.md.
pub const EXIT_ERROR: u8 = 2;

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Policy(PolicyCommand::Lint { files }) => policy_lint::run(&files),
        Command::Jp(JpCommand::Query { input, expression }) => {
            jp::query(input.as_deref(), &expression)
        }
    }
}
