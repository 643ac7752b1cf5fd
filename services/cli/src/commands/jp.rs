//! `signet jp query [-i FILE] EXPRESSION`

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::EXIT_ERROR;

pub fn query(input: Option<&Path>, expression: &str) -> ExitCode {
    match evaluate(input, expression) {
        Ok(result) => {
            println!("{result}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn evaluate(input: Option<&Path>, expression: &str) -> anyhow::Result<String> {
    // Compile first: a bad expression is reported as such even when the input is bad too.
    let compiled = signet_policy::jmespath::compile(expression)?;
    let text = match input {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("cannot read standard input")?;
            s
        }
    };
    let data = signet_policy::parse_json_or_yaml(&text).context("input is not JSON or YAML")?;
    let result = compiled.search(&data)?;
    Ok(serde_json::to_string_pretty(&result)?)
}
