//! Just enough DER for tests to take certificates apart and put them back together.

#![allow(dead_code)]

use base64::Engine;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `(tag, whole element, content)`.
pub type Element<'a> = (u8, &'a [u8], &'a [u8]);

/// Splits one element off the front of `input`.
pub fn read(input: &[u8]) -> Option<(Element<'_>, &[u8])> {
    let (&tag, after_tag) = input.split_first()?;
    let (&first, after_len) = after_tag.split_first()?;
    let (len, body) = if first < 0x80 {
        (usize::from(first), after_len)
    } else {
        let count = usize::from(first & 0x7f);
        let len = after_len
            .get(..count)?
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &after_len[count..])
    };
    let header = input.len() - body.len();
    let content = body.get(..len)?;
    Some(((tag, &input[..header + len], content), &body[len..]))
}

/// The elements inside a constructed value's content.
pub fn children(mut content: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (element, rest) = read(content)?;
        out.push(element);
        content = rest;
    }
    Some(out)
}

/// One DER element.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

/// `1.3.6.1.4.1.11129.2.4.2`, the SCT list extension.
pub const SCT_OID: &[u8] = &[
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02,
];

/// `(TBSCertificate, signature AlgorithmIdentifier)` of a DER certificate.
pub fn split_certificate(der: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (cert, _) = read(der).expect("certificate");
    let parts = children(cert.2).expect("parts");
    (parts[0].1.to_vec(), parts[1].1.to_vec())
}

/// Unix seconds now (std only: the verifier's tests include this file too).
pub fn unix_now() -> i64 {
    unix_now_millis() / 1000
}

/// Unix milliseconds now.
pub fn unix_now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .expect("clock after 1970")
}

/// ASN.1 UTCTime `YYMMDDHHMMSSZ` of `unix` (civil date from days since the epoch).
fn utc_time(unix: i64) -> Vec<u8> {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let text = format!(
        "{:02}{month:02}{day:02}{:02}{:02}{:02}Z",
        year % 100,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    encode(0x17, text.as_bytes())
}

/// `tbs` with its validity replaced.
pub fn with_validity(tbs: &[u8], not_before: i64, not_after: i64) -> Vec<u8> {
    let (outer, _) = read(tbs).expect("tbs");
    let fields = children(outer.2).expect("fields");
    let index = if fields[0].0 == 0xa0 { 4 } else { 3 };
    let validity = encode(0x30, &[utc_time(not_before), utc_time(not_after)].concat());
    let content: Vec<u8> = fields
        .iter()
        .enumerate()
        .flat_map(|(i, f)| {
            if i == index {
                validity.clone()
            } else {
                f.1.to_vec()
            }
        })
        .collect();
    encode(0x30, &content)
}

/// `tbs` with one more extension `(oid, value)` at the end of its extension list.
pub fn with_extension(tbs: &[u8], oid: &[u8], value: &[u8]) -> Vec<u8> {
    let (outer, _) = read(tbs).expect("tbs");
    let extension = encode(0x30, &[oid, &encode(0x04, value)].concat());
    let content: Vec<u8> = children(outer.2)
        .expect("fields")
        .iter()
        .flat_map(|f| {
            if f.0 != 0xa3 {
                return f.1.to_vec();
            }
            let (list, _) = read(f.2).expect("extensions");
            encode(0xa3, &encode(0x30, &[list.2, &extension].concat()))
        })
        .collect();
    encode(0x30, &content)
}

pub fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body.trim()).expect("pem base64")
}

pub fn der_to_pem(der: &[u8]) -> String {
    let b64 = B64.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).expect("ascii"))
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}
