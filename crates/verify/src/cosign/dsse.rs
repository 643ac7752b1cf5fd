//! DSSE envelopes (the `.att` layer of cosign attestations): the JSON form of
//! secure-systems-lab/go-securesystemslib `dsse.Envelope`, which cosign writes through
//! sigstore's `dsse.WrapSigner`.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde::Deserialize;
use signet_policy::SignatureAlgorithm;

use super::gojson;
use crate::crypto::{SignatureError, SigningKey, VerificationKey};
use crate::{Error, Result};

/// The payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// DSSE v1 pre-authentication encoding: `"DSSEv1" SP len(type) SP type SP len(body) SP
/// body`, lengths in ASCII decimal bytes. This is what a DSSE signature covers.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let type_len = payload_type.len().to_string();
    let body_len = payload.len().to_string();
    let mut out = Vec::with_capacity(
        10 + type_len.len() + payload_type.len() + body_len.len() + payload.len(),
    );
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(type_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(body_len.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope, payload and signatures decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `payloadType`, e.g. [`IN_TOTO_PAYLOAD_TYPE`].
    pub payload_type: String,
    /// The payload bytes (base64-decoded).
    pub payload: Vec<u8>,
    /// The signatures, each over [`pae`] of type and payload.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    /// `keyid`; cosign writes `""`, read as `None`.
    pub keyid: Option<String>,
    /// The signature bytes (base64-decoded).
    pub sig: Vec<u8>,
}

#[derive(Deserialize)]
struct RawEnvelope {
    #[serde(rename = "payloadType")]
    payload_type: String,
    payload: String,
    #[serde(default)]
    signatures: Vec<RawSignature>,
}

#[derive(Deserialize)]
struct RawSignature {
    #[serde(default)]
    keyid: Option<String>,
    sig: String,
}

/// DSSE allows standard or URL-safe base64; cosign writes standard, padded.
fn decode_base64(field: &str, text: &str) -> Result<Vec<u8>> {
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .ok_or_else(|| Error::Malformed(format!("DSSE envelope: {field} is not base64")))
}

impl Envelope {
    /// Reads an envelope's JSON.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let raw: RawEnvelope = serde_json::from_slice(bytes)
            .map_err(|e| Error::Malformed(format!("DSSE envelope: {e}")))?;
        let signatures = raw
            .signatures
            .iter()
            .map(|s| {
                Ok(EnvelopeSignature {
                    keyid: s.keyid.clone().filter(|k| !k.is_empty()),
                    sig: decode_base64("signatures[].sig", &s.sig)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Envelope {
            payload_type: raw.payload_type,
            payload: decode_base64("payload", &raw.payload)?,
            signatures,
        })
    }

    /// An envelope of `payload` with one signature by `key` over its PAE, as `cosign attest`
    /// makes it.
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &SigningKey) -> Result<Self> {
        let sig = key.sign(&pae(payload_type, &payload))?;
        Ok(Envelope {
            payload_type: payload_type.to_string(),
            payload,
            signatures: vec![EnvelopeSignature { keyid: None, sig }],
        })
    }

    /// The bytes a signature of this envelope covers.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// `Ok` when at least one signature verifies with `key` over the PAE.
    pub fn verify(
        &self,
        key: &VerificationKey,
        hash: SignatureAlgorithm,
    ) -> Result<(), SignatureError> {
        if self.signatures.is_empty() {
            return Err(SignatureError::new("the DSSE envelope has no signature"));
        }
        let message = self.pae();
        let mut last = None;
        for signature in &self.signatures {
            match key.verify(&message, &signature.sig, hash) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| SignatureError::new("no signature verifies")))
    }

    /// The envelope's JSON as cosign writes it: `{"payloadType","payload","signatures":
    /// [{"keyid","sig"}]}`, standard base64, `keyid` `""` when absent.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.payload.len() * 4 / 3);
        out.extend_from_slice(br#"{"payloadType":"#);
        gojson::write_str(&mut out, &self.payload_type);
        out.extend_from_slice(br#","payload":"#);
        gojson::write_str(&mut out, &STANDARD.encode(&self.payload));
        out.extend_from_slice(br#","signatures":["#);
        for (i, signature) in self.signatures.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"keyid":"#);
            gojson::write_str(&mut out, signature.keyid.as_deref().unwrap_or(""));
            out.extend_from_slice(br#","sig":"#);
            gojson::write_str(&mut out, &STANDARD.encode(&signature.sig));
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signet_policy::pem_material::parse_public_keys;
    use signet_policy::SignatureAlgorithm::Sha256;

    #[test]
    fn pae_matches_the_dsse_spec_vector() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    fn cosign_key() -> VerificationKey {
        let keys = parse_public_keys(include_str!("testdata/cosign.pub")).expect("pub");
        VerificationKey::from_public_key(&keys[0]).expect("key")
    }

    #[test]
    fn reads_and_writes_cosign_envelopes() {
        // `cosign attest --no-upload` output, signed with testdata/cosign.key.
        let raw: &[u8] = include_bytes!("testdata/slsa.env");
        let envelope = Envelope::parse(raw).expect("parses");
        assert_eq!(envelope.payload_type, IN_TOTO_PAYLOAD_TYPE);
        assert_eq!(envelope.signatures.len(), 1);
        assert_eq!(envelope.signatures[0].keyid, None);
        assert_eq!(
            envelope.payload,
            include_bytes!("testdata/stmt_slsaprovenance.json")
        );
        envelope
            .verify(&cosign_key(), Sha256)
            .expect("cosign's signature verifies");
        // cosign prints the envelope with a trailing newline; the JSON is the same bytes.
        assert_eq!(envelope.to_json(), raw.strip_suffix(b"\n").unwrap_or(raw));
        // The envelope cosign pushed as a `.att` layer.
        let layer = Envelope::parse(include_bytes!("testdata/att.layer")).expect("layer");
        assert_eq!(layer.to_json(), include_bytes!("testdata/att.layer"));
        layer.verify(&cosign_key(), Sha256).expect("verifies");

        let mut tampered = envelope.clone();
        tampered.payload_type = "application/json".into();
        assert!(tampered.verify(&cosign_key(), Sha256).is_err());
        let mut tampered = envelope.clone();
        tampered.payload.push(b' ');
        assert!(tampered.verify(&cosign_key(), Sha256).is_err());
        tampered.signatures.clear();
        assert!(tampered.verify(&cosign_key(), Sha256).is_err());
    }

    #[test]
    fn signs_and_accepts_url_safe_base64() {
        let key = SigningKey::generate().expect("key");
        let envelope =
            Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{\"a\":1}".to_vec(), &key).expect("sign");
        let json = envelope.to_json();
        let back = Envelope::parse(&json).expect("parses");
        assert_eq!(back, envelope);
        back.verify(&key.verification_key().expect("vk"), Sha256)
            .expect("verifies");
        assert!(back.verify(&cosign_key(), Sha256).is_err());

        let url_safe = format!(
            r#"{{"payloadType":"t","payload":"{}","signatures":[{{"keyid":"k1","sig":"{}"}}]}}"#,
            URL_SAFE_NO_PAD.encode([0xfb, 0xff]),
            URL_SAFE.encode([0xfe, 0xff, 0xfe])
        );
        let parsed = Envelope::parse(url_safe.as_bytes()).expect("url-safe");
        assert_eq!(parsed.payload, [0xfb, 0xff]);
        assert_eq!(parsed.signatures[0].keyid.as_deref(), Some("k1"));
        assert_eq!(parsed.signatures[0].sig, [0xfe, 0xff, 0xfe]);
    }

    #[test]
    fn refuses_malformed_envelopes() {
        for bad in [
            &b""[..],
            b"{}",
            br#"{"payloadType":"t"}"#,
            br#"{"payloadType":"t","payload":"***"}"#,
            br#"{"payloadType":"t","payload":"","signatures":[{"sig":"%%"}]}"#,
            br#"{"payloadType":"t","payload":"","signatures":[{"keyid":""}]}"#,
        ] {
            assert!(
                Envelope::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
