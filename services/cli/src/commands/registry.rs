//! Registry flags → the verification crate's registry settings.

use std::time::Duration;

use anyhow::Context;
use signet_verify::registry::{
    docker_config, Credentials, RegistryClient, RegistryConfig, Transport,
};

use crate::cli::RegistryArgs;

/// Builds a registry client; explicit credentials apply to `hosts` (the registries of the
/// images on the command line), Docker config credentials to the hosts they name.
pub fn client(args: &RegistryArgs, hosts: &[&str]) -> anyhow::Result<RegistryClient> {
    let mut config = RegistryConfig {
        request_timeout: Duration::from_secs(args.registry_timeout.max(1)),
        ..RegistryConfig::default()
    };
    if let Some(path) = docker_config::default_path() {
        config.credentials = docker_config::load(&path)?;
    }
    match (&args.registry_username, &args.registry_password) {
        (Some(username), Some(password)) => {
            for host in hosts {
                config.credentials.insert(
                    (*host).to_owned(),
                    Credentials::Basic {
                        username: username.clone(),
                        password: password.clone(),
                    },
                );
            }
        }
        (None, None) => {}
        _ => anyhow::bail!("--registry-username and --registry-password go together"),
    }
    config.default_transport = match (args.allow_http_registry, args.allow_insecure_registry) {
        (true, _) => Transport::Http,
        (false, true) => Transport::HttpsUnverified,
        (false, false) => Transport::Https,
    };
    for path in &args.registry_ca {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read --registry-ca {}", path.display()))?;
        config.ca_certificates_pem.push(pem);
    }
    Ok(RegistryClient::new(config)?)
}
