//! Pushing a small random OCI image through the registry API.

use anyhow::{bail, Context as _};
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{StatusCode, Url};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::Registry;

const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";

/// Pushes a small random image (config blob, one uncompressed tar layer holding a random
/// file, OCI image manifest) to `repository:tag` with monolithic POST/PUT blob uploads,
/// using the registry's test CA and credentials. Returns the manifest digest
/// `sha256:<hex>`.
pub async fn push_random_image(
    registry: &Registry,
    repository: &str,
    tag: &str,
) -> anyhow::Result<String> {
    let client = registry.http_client()?;
    let base = Url::parse(&registry.base_url())?;

    let mut content = [0u8; 256];
    rand::fill(&mut content[..]);
    let layer = tar_with_one_file("random.bin", &content);
    let layer_digest = sha256_digest(&layer);
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Labels": { "dev.signet.testkit.nonce": hex::encode(&content[..16]) } },
        "rootfs": { "type": "layers", "diff_ids": [layer_digest] },
        "history": [{ "created_by": "signet-testkit push_random_image" }],
    }))?;

    let config_digest = upload_blob(registry, &client, &base, repository, &config).await?;
    let layer_digest = upload_blob(registry, &client, &base, repository, &layer).await?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": { "mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": config.len() },
        "layers": [{ "mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest, "size": layer.len() }],
    }))?;
    let digest = sha256_digest(&manifest);

    let url = base.join(&format!("/v2/{repository}/manifests/{tag}"))?;
    let response = registry
        .authorize(client.put(url.clone()))
        .header(CONTENT_TYPE, MANIFEST_MEDIA_TYPE)
        .body(manifest)
        .send()
        .await
        .with_context(|| format!("PUT {url}"))?;
    let status = response.status();
    let answered_digest = response
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if status != StatusCode::CREATED {
        bail!(
            "PUT {url}: {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    if let Some(answered) = answered_digest {
        if answered != digest {
            bail!("PUT {url}: registry answered digest {answered}, expected {digest}");
        }
    }
    Ok(digest)
}

/// `sha256:<hex>` of `bytes`.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

async fn upload_blob(
    registry: &Registry,
    client: &reqwest::Client,
    base: &Url,
    repository: &str,
    blob: &[u8],
) -> anyhow::Result<String> {
    let digest = sha256_digest(blob);
    let url = base.join(&format!("/v2/{repository}/blobs/uploads/"))?;
    let response = registry
        .authorize(client.post(url.clone()))
        .header(reqwest::header::CONTENT_LENGTH, "0")
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    if response.status() != StatusCode::ACCEPTED {
        bail!(
            "POST {url}: {}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .context("upload answer without a Location header")?;
    // Location may be absolute or relative to the registry.
    let mut upload = base.join(location)?;
    upload.query_pairs_mut().append_pair("digest", &digest);
    let response = registry
        .authorize(client.put(upload.clone()))
        .header(CONTENT_TYPE, "application/octet-stream")
        .body(blob.to_vec())
        .send()
        .await
        .with_context(|| format!("PUT {upload}"))?;
    if response.status() != StatusCode::CREATED {
        bail!(
            "PUT {upload}: {}: {}",
            response.status(),
            response.text().await.unwrap_or_default()
        );
    }
    Ok(digest)
}

/// A ustar archive holding one regular file.
fn tar_with_one_file(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |field: &mut [u8], value: usize| {
        let text = format!("{value:0width$o}\0", width = field.len() - 1);
        field.copy_from_slice(text.as_bytes());
    };
    octal(&mut header[100..108], 0o644); // mode
    octal(&mut header[108..116], 0); // uid
    octal(&mut header[116..124], 0); // gid
    octal(&mut header[124..136], content.len()); // size
    octal(&mut header[136..148], 0); // mtime
    header[156] = b'0'; // regular file
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    // The checksum is computed with its own field as spaces.
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());

    let mut archive = header.to_vec();
    archive.extend_from_slice(content);
    archive.resize(archive.len().next_multiple_of(512), 0);
    archive.extend_from_slice(&[0u8; 1024]); // end-of-archive marker
    archive
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_is_block_aligned_with_a_valid_checksum() {
        let archive = tar_with_one_file("random.bin", &[7u8; 100]);
        assert_eq!(archive.len(), 512 + 512 + 1024);
        let mut header = archive[..512].to_vec();
        let stored = std::str::from_utf8(&header[148..154]).expect("ascii");
        let stored = u32::from_str_radix(stored, 8).expect("octal");
        header[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, header.iter().map(|&b| u32::from(b)).sum::<u32>());
        assert_eq!(&archive[512..612], &[7u8; 100][..]);
    }

    #[test]
    fn digest_format() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
