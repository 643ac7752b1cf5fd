//! `signet verify-bundle --bundle FILE (--certificate-identity ID --certificate-oidc-issuer
//! URL | --key FILE) [--trusted-root FILE] [--staging] FILE_OR_sha256:DIGEST`: the
//! sigstore-conformance client protocol. Exit 0 verified, 1 not verified, 2 when Signet
//! could not decide (unreadable files, a malformed trust root or key).

use std::process::ExitCode;

use anyhow::{bail, Context};
use signet_policy::pem_material::parse_public_keys;
use signet_verify::bundle::{self, Artifact, Signer};
use signet_verify::crypto::VerificationKey;
use signet_verify::trust::TrustRoot;

use crate::cli::VerifyBundleArgs;

fn trust_root(args: &VerifyBundleArgs) -> anyhow::Result<TrustRoot> {
    if let Some(path) = &args.trusted_root {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        return TrustRoot::from_trusted_root_json(&bytes)
            .with_context(|| format!("{} is not a usable trust root", path.display()));
    }
    if args.staging {
        return Ok(TrustRoot::staging()?);
    }
    Ok(TrustRoot::public_good()?)
}

fn signer(args: &VerifyBundleArgs) -> anyhow::Result<Signer> {
    match (
        &args.key,
        &args.certificate_identity,
        &args.certificate_oidc_issuer,
    ) {
        (Some(path), None, None) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let keys = parse_public_keys(&text)
                .map_err(|e| anyhow::anyhow!("{}: not a public key: {e}", path.display()))?;
            let [key] = keys.as_slice() else {
                bail!(
                    "{}: holds {} keys, one is expected",
                    path.display(),
                    keys.len()
                );
            };
            Ok(Signer::Key(VerificationKey::from_public_key(key)?))
        }
        (None, Some(identity), Some(issuer)) => Ok(Signer::Identity {
            identity: identity.clone(),
            issuer: issuer.clone(),
        }),
        _ => {
            bail!("give either --key, or both --certificate-identity and --certificate-oidc-issuer")
        }
    }
}

/// Runs the command; `Err` means Signet could not decide.
pub fn run(args: &VerifyBundleArgs) -> anyhow::Result<ExitCode> {
    let trust = trust_root(args)?;
    let signer = signer(args)?;
    let bundle_json = std::fs::read(&args.bundle)
        .with_context(|| format!("cannot read {}", args.bundle.display()))?;
    let bytes;
    let artifact = if args.artifact.starts_with("sha256:") {
        match Artifact::parse_digest(&args.artifact) {
            Some(digest) => Artifact::Sha256(digest),
            None => bail!("{:?} is not sha256:<64 hex digits>", args.artifact),
        }
    } else {
        bytes = std::fs::read(&args.artifact)
            .with_context(|| format!("cannot read {}", args.artifact))?;
        Artifact::Bytes(&bytes)
    };
    match bundle::verify(&bundle_json, &artifact, &signer, &trust) {
        Ok(verified) => {
            let who = match &verified.identity {
                Some(id) => format!(
                    "{} ({})",
                    id.sans.join(", "),
                    id.issuer.as_deref().unwrap_or("no issuer")
                ),
                None => "the given key".to_owned(),
            };
            eprintln!(
                "Verified OK: sha256:{} signed by {who}, log index {:?}, signed at {:?} (Unix)",
                verified
                    .artifact_sha256
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
                verified.log_indexes,
                verified.signing_times
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("verification failed: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
