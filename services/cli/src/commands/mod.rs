//! One module per command; each returns the process exit code.

mod attest;
mod jp;
mod keys;
mod policy_lint;
mod progress;
mod registry;
mod sign;
mod verify;

use std::process::ExitCode;

use crate::cli::{Cli, Command, JpCommand, PolicyCommand};

/// Exit code for "could not do it" (bad input, unreachable registry), per DESIGN.md.
pub const EXIT_ERROR: u8 = 2;

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Policy(PolicyCommand::Lint { files }) => policy_lint::run(&files),
        Command::Jp(JpCommand::Query { input, expression }) => {
            jp::query(input.as_deref(), &expression)
        }
        Command::GenerateKeyPair { output_key_prefix } => {
            report(keys::generate(&output_key_prefix))
        }
        Command::Sign(args) => report(block_on(sign::run(args))),
        Command::Attest(args) => report(block_on(attest::run(args))),
        Command::Verify(args) => match block_on(verify::run(args)) {
            Ok(code) => code,
            Err(e) => report::<()>(Err(e)),
        },
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(EXIT_ERROR.into())
        }
    }
}

/// Prints an error with its causes and maps it to exit code 2.
fn report<T>(result: anyhow::Result<T>) -> ExitCode {
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// The password of an encrypted key: `COSIGN_PASSWORD` (as cosign reads it), else a prompt
/// on the terminal.
fn key_password(confirm: bool) -> anyhow::Result<zeroize::Zeroizing<String>> {
    if let Ok(p) = std::env::var("COSIGN_PASSWORD") {
        return Ok(zeroize::Zeroizing::new(p));
    }
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("set COSIGN_PASSWORD to the key's password (no terminal to ask on)");
    }
    let first = rpassword::prompt_password("Enter password for private key: ")?;
    if confirm {
        let second = rpassword::prompt_password("Enter password for private key again: ")?;
        anyhow::ensure!(first == second, "passwords do not match");
    }
    Ok(zeroize::Zeroizing::new(first))
}
