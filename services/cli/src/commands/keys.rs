//! `signet generate-key-pair`

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use signet_verify::crypto::SigningKey;

pub fn generate(prefix: &str) -> anyhow::Result<()> {
    let key_path = format!("{prefix}.key");
    let pub_path = format!("{prefix}.pub");
    for path in [&key_path, &pub_path] {
        anyhow::ensure!(
            !Path::new(path).exists(),
            "{path} exists: refusing to overwrite a key"
        );
    }
    let password = super::key_password(true)?;
    let key = SigningKey::generate()?;
    let encrypted = key.to_encrypted_pem(password.as_bytes())?;
    // The private key is created owner-only, like cosign's.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_path)
        .with_context(|| format!("cannot create {key_path}"))?;
    file.write_all(encrypted.as_bytes())?;
    std::fs::write(&pub_path, key.public_key_pem()?)
        .with_context(|| format!("cannot write {pub_path}"))?;
    eprintln!("Private key written to {key_path}");
    eprintln!("Public key written to {pub_path}");
    Ok(())
}

/// Reads an encrypted private key with the password from the environment or a prompt.
pub fn read_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let password = super::key_password(false)?;
    SigningKey::from_encrypted_pem(&pem, password.as_bytes())
        .with_context(|| format!("cannot decrypt {}", path.display()))
}
