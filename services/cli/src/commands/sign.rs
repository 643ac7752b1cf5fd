//! `signet sign --key KEY [-a key=value]... IMAGE`

use std::collections::BTreeMap;

use anyhow::Context;
use signet_policy::image::ImageRef;

use super::progress::Progress;
use crate::cli::SignArgs;

pub async fn run(args: SignArgs) -> anyhow::Result<()> {
    let image = ImageRef::parse(&args.image)?;
    let mut annotations = BTreeMap::new();
    for a in &args.annotations {
        let (k, v) = a
            .split_once('=')
            .with_context(|| format!("annotation {a:?} is not KEY=VALUE"))?;
        annotations.insert(k.to_owned(), v.to_owned());
    }
    let key = super::keys::read_signing_key(&args.key)?;
    let registry = super::registry::client(&args.registry, &[image.registry()])?;
    let _progress = Progress::start(format!("signing {image}"));
    let signed = signet_verify::signing::sign_image(&registry, &key, &image, &annotations).await?;
    eprintln!("Pushing signature to: {}", signed.location);
    println!("{}", signed.digest);
    Ok(())
}
