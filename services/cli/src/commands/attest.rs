//! `signet attest --key KEY --type TYPE --predicate FILE IMAGE`

use anyhow::Context;
use signet_policy::image::ImageRef;
use signet_verify::cosign::predicate_type_uri;

use super::progress::Progress;
use crate::cli::AttestArgs;

pub async fn run(args: AttestArgs) -> anyhow::Result<()> {
    let image = ImageRef::parse(&args.image)?;
    let uri = predicate_type_uri(&args.predicate_type).with_context(|| {
        format!(
            "unknown --type {:?}: use slsaprovenance, slsaprovenance1, vuln, spdxjson, cyclonedx, custom, or a URI",
            args.predicate_type
        )
    })?;
    let raw = std::fs::read(&args.predicate)
        .with_context(|| format!("cannot read {}", args.predicate.display()))?;
    let key = super::keys::read_signing_key(&args.key)?;
    let registry = super::registry::client(&args.registry, &[image.registry()])?;
    let _progress = Progress::start(format!("attesting {image}"));
    let signed = signet_verify::signing::attest_image(
        &registry,
        &key,
        &image,
        &args.predicate_type,
        &uri,
        &raw,
    )
    .await?;
    eprintln!("Pushing attestation to: {}", signed.location);
    println!("{}", signed.digest);
    Ok(())
}
