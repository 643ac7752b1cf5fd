//! One module per command; each returns the process exit code.

mod admin;
mod attest;
mod jp;
mod keys;
mod policy_lint;
mod progress;
mod registry;
mod sign;
mod verify;
mod verify_bundle;

use std::process::ExitCode;

use crate::cli::{
    Cli, ClusterCommand, Command, JpCommand, KeyCommand, PolicyCommand, TokenCommand,
};

/// Exit code for "could not do it" (bad input, unreachable registry), per DESIGN.md.
pub const EXIT_ERROR: u8 = 2;

pub fn run(cli: Cli) -> ExitCode {
    let (server, token) = (cli.server.clone(), cli.token.clone());
    let admin = move || admin::Client::new(server.as_deref(), token.as_deref());
    match cli.command {
        Command::Policy(PolicyCommand::Lint { files }) => policy_lint::run(&files),
        Command::Policy(PolicyCommand::Apply { file }) => {
            report(block_on(async { admin::apply(&admin()?, &file).await }))
        }
        Command::Policy(PolicyCommand::Get { name }) => report(block_on(async {
            admin::get_policy(&admin()?, &name).await
        })),
        Command::Policy(PolicyCommand::List) => {
            report(block_on(async { admin::list_policies(&admin()?).await }))
        }
        Command::Policy(PolicyCommand::Delete { name }) => report(block_on(async {
            admin::delete_policy(&admin()?, &name).await
        })),
        Command::Login => report(match (&cli.server, &cli.token) {
            (Some(server), Some(token)) => admin::login::store(server, token)
                .map(|p| eprintln!("login stored in {}", p.display())),
            _ => Err(anyhow::anyhow!(
                "signet login needs --server URL and --token TOKEN"
            )),
        }),
        Command::Key(KeyCommand::Create {
            name,
            namespace,
            from_file,
        }) => report(block_on(async {
            admin::key_create(&admin()?, &name, &namespace, &from_file).await
        })),
        Command::RegistryCredentials(command) => report(block_on(async {
            admin::registry_credentials(&admin()?, command).await
        })),
        Command::Cluster(ClusterCommand::Register { name, labels }) => report(block_on(async {
            admin::cluster_register(&admin()?, &name, &labels).await
        })),
        Command::Cluster(ClusterCommand::List) => {
            report(block_on(async { admin::cluster_list(&admin()?).await }))
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            report(block_on(async { admin::revoke(&admin()?, &id).await }))
        }
        Command::Reports(args) => {
            report(block_on(async { admin::reports(&admin()?, &args).await }))
        }
        Command::Jp(JpCommand::Query { input, expression }) => {
            jp::query(input.as_deref(), &expression)
        }
        Command::GenerateKeyPair { output_key_prefix } => {
            report(keys::generate(&output_key_prefix))
        }
        Command::VerifyBundle(args) => match verify_bundle::run(&args) {
            Ok(code) => code,
            Err(e) => report::<()>(Err(e)),
        },
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
