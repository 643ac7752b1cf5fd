//! `signet verify (--key PUB | --policy FILE...) [--output table|json] IMAGE...`

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use futures_util::future::join_all;
use signet_policy::image::ImageRef;
use signet_policy::pem_material::parse_public_keys;
use signet_policy::{
    Attestor, AttestorKind, AttestorSet, ImageVerification, KeySource, KeysAttestor, Rekor,
    SignatureAlgorithm, VerificationType,
};
use signet_verify::registry::{docker_config, CredentialSet};
use signet_verify::trust::{TrustRoot, TrustRoots};
use signet_verify::{ArtifactCache, StaticKeys, Verdict, VerdictResult, Verifier};

use super::progress::Progress;
use crate::cli::{Output, VerifyArgs};

pub async fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let images: Vec<ImageRef> = args
        .images
        .iter()
        .map(|i| ImageRef::parse(i))
        .collect::<Result<_, _>>()?;
    let hosts: Vec<&str> = images.iter().map(|i| i.registry()).collect();
    let registry = super::registry::client(&args.registry, &hosts)?;
    registry.set_named_credentials(registry_secrets(&args.registry_secrets)?);
    let trust = match &args.trusted_root {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            TrustRoot::from_trusted_root_json(&bytes)?
        }
        None => TrustRoot::public_good()?,
    };
    let verifier = Verifier::new(registry, Arc::new(secrets(&args.secrets)?), trust);
    verifier.set_trust_roots(&named_roots(&args.trust_roots)?);
    let _progress = Progress::start(format!("verifying {} image(s)", images.len()));
    let (allowed, verdicts) = match &args.key {
        Some(key) => {
            by_key(
                &verifier,
                key,
                args.insecure_ignore_tlog,
                &args.images,
                &images,
            )
            .await?
        }
        None => by_policy(&verifier, &args).await?,
    };
    drop(_progress);
    print(args.output, allowed, &verdicts)?;
    let undecided = verdicts.iter().any(|v| v.result == VerdictResult::Error);
    Ok(if undecided {
        ExitCode::from(super::EXIT_ERROR)
    } else if !allowed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `--key`: like `cosign verify --key`, any key of the file suffices.
async fn by_key(
    verifier: &Verifier,
    key: &std::path::Path,
    ignore_tlog: bool,
    written: &[String],
    images: &[ImageRef],
) -> anyhow::Result<(bool, Vec<Verdict>)> {
    let text =
        std::fs::read_to_string(key).with_context(|| format!("cannot read {}", key.display()))?;
    let keys = parse_public_keys(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a public key: {e}", key.display()))?;
    let entry = key_entry(keys, ignore_tlog);
    let cache = ArtifactCache::default();
    let verdicts = join_all(images.iter().zip(written).map(|(image, written)| {
        let (cache, entry) = (&cache, &entry);
        async move {
            let started = Instant::now();
            let v = verifier.verify_entry(cache, image, entry).await;
            Verdict {
                image: written.clone(),
                digest: v.digest,
                policy: "--key".into(),
                rule: "-".into(),
                result: v.result,
                message: v.message,
                audit: false,
                attestors_satisfied: v.attestors_satisfied,
                duration: started.elapsed(),
            }
        }
    }))
    .await;
    let allowed = verdicts.iter().all(|v| v.result == VerdictResult::Pass);
    Ok((allowed, verdicts))
}

fn key_entry(
    keys: Vec<signet_policy::pem_material::PublicKey>,
    ignore_tlog: bool,
) -> ImageVerification {
    let keys_attestor = KeysAttestor {
        source: KeySource::PublicKeys(keys),
        signature_algorithm: SignatureAlgorithm::Sha256,
        rekor: Some(Rekor {
            url: "https://rekor.sigstore.dev".into(),
            pubkey: None,
            ignore_tlog,
        }),
        ctlog: None,
    };
    ImageVerification {
        failure_action: None,
        verification_type: VerificationType::Cosign,
        image_references: vec!["*".into()],
        skip_image_references: Vec::new(),
        attestors: vec![AttestorSet {
            count: Some(1),
            entries: vec![Attestor {
                kind: AttestorKind::Keys(keys_attestor),
                annotations: Vec::new(),
                repository: None,
            }],
        }],
        attestations: Vec::new(),
        repository: None,
        mutate_digest: false,
        verify_digest: false,
        required: true,
        use_cache: false,
        image_registry_credentials: None,
        trust_root: None,
        written_digest: Default::default(),
    }
}

/// `--policy`: the images as containers of a Pod created in `--namespace`.
async fn by_policy(verifier: &Verifier, args: &VerifyArgs) -> anyhow::Result<(bool, Vec<Verdict>)> {
    let mut policies = Vec::new();
    for file in &args.policy {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let loaded = signet_policy::load_policies(&text)
            .map_err(|e| anyhow::anyhow!("{}:\n{e}", file.display()))?;
        policies.extend(loaded);
    }
    let mut labels = BTreeMap::new();
    for l in &args.namespace_labels {
        let (k, v) = l
            .split_once('=')
            .with_context(|| format!("--namespace-label {l:?} is not KEY=VALUE"))?;
        labels.insert(k.to_owned(), v.to_owned());
    }
    let request = signet_verify::pod_request(&args.namespace, &args.images);
    let decision = verifier.review(&policies, &request, &labels).await?;
    Ok((decision.allowed, decision.verdicts))
}

/// `--secret NAMESPACE/NAME=FILE` → named keys.
fn secrets(specs: &[String]) -> anyhow::Result<StaticKeys> {
    let mut keys = StaticKeys::new();
    for spec in specs {
        let parsed = spec
            .split_once('=')
            .and_then(|(name, file)| name.split_once('/').map(|(ns, n)| (ns, n, file)));
        let Some((ns, name, file)) = parsed else {
            anyhow::bail!("--secret {spec:?} is not NAMESPACE/NAME=FILE");
        };
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?;
        let parsed = parse_public_keys(&text)
            .map_err(|e| anyhow::anyhow!("{file}: not a public key: {e}"))?;
        keys.insert(ns, name, parsed);
    }
    Ok(keys)
}

/// The two non-empty halves of a `NAME=FILE` value of `flag`.
fn name_and_file<'a>(flag: &str, spec: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    spec.split_once('=')
        .filter(|(n, f)| !n.is_empty() && !f.is_empty())
        .with_context(|| format!("{flag} {spec:?} is not NAME=FILE"))
}

/// `--registry-secret NAME=FILE`: the named credential sets policies may name in
/// `imageRegistryCredentials.secrets`, each from a Docker config file.
fn registry_secrets(specs: &[String]) -> anyhow::Result<HashMap<String, CredentialSet>> {
    let mut sets = HashMap::new();
    for spec in specs {
        let (name, file) = name_and_file("--registry-secret", spec)?;
        anyhow::ensure!(
            signet_policy::is_secret_reference(name),
            "--registry-secret {spec:?}: {name:?} is not a name policies can write in \
             imageRegistryCredentials.secrets (a Secret name, or namespace/name)"
        );
        // No verdict cache here: the file's path is revision enough.
        let mut set = CredentialSet::new(file);
        for (host, credentials) in docker_config::read(std::path::Path::new(file))? {
            set.insert(host, credentials);
        }
        sets.insert(name.to_owned(), set);
    }
    Ok(sets)
}

/// `--trust-root NAME=FILE`: the roots policies may name.
fn named_roots(specs: &[String]) -> anyhow::Result<TrustRoots> {
    let mut roots = TrustRoots::new()?;
    for spec in specs {
        let (name, file) = name_and_file("--trust-root", spec)?;
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {file}"))?;
        let root = TrustRoot::from_trusted_root_json(&bytes)
            .with_context(|| format!("{file}: not a trusted_root.json"))?;
        roots.insert(name, root);
    }
    Ok(roots)
}

fn print(output: Output, allowed: bool, verdicts: &[Verdict]) -> anyhow::Result<()> {
    match output {
        Output::Json => {
            let doc = serde_json::json!({"allowed": allowed, "verdicts": verdicts});
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Output::Table => {
            let rows: Vec<[String; 4]> = verdicts
                .iter()
                .map(|v| {
                    [
                        v.image.clone(),
                        v.result.as_str().to_uppercase(),
                        format!("{}/{}", v.policy, v.rule),
                        v.message.clone(),
                    ]
                })
                .collect();
            let header = ["IMAGE", "RESULT", "POLICY/RULE", "MESSAGE"].map(str::to_owned);
            let widths: Vec<usize> = (0..3)
                .map(|i| {
                    rows.iter()
                        .chain([&header])
                        .map(|r| r[i].len())
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            for row in std::iter::once(&header).chain(rows.iter()) {
                println!(
                    "{:w0$}  {:w1$}  {:w2$}  {}",
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    w0 = widths[0],
                    w1 = widths[1],
                    w2 = widths[2]
                );
            }
            if verdicts.is_empty() {
                println!("(no rule matched these images)");
            }
            println!("{}", if allowed { "allowed" } else { "denied" });
        }
    }
    Ok(())
}
