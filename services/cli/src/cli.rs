//! Command-line grammar (DESIGN.md, Contracts).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Signet: verify container images against Kyverno policies, once, for the whole fleet.
#[derive(Debug, Parser)]
#[command(name = "signet", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with Kyverno policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// JMESPath with the Kyverno functions.
    #[command(subcommand)]
    Jp(JpCommand),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check policy files; prints one line per error (FILE: document N: field.path: message).
    /// Exit 0 when every file is valid, 2 otherwise.
    Lint {
        /// Policy files (YAML with one or many documents, or JSON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum JpCommand {
    /// Evaluate EXPRESSION over a JSON (or YAML) document read from FILE or stdin; prints the result as JSON.
    Query {
        /// Input file; standard input when absent.
        #[arg(short = 'i', long = "input")]
        input: Option<PathBuf>,
        /// The JMESPath expression.
        expression: String,
    },
}
