//! `signet reports`: the filters of `GET /v1/reports`, one page or every page, as a table
//! or JSON.

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::Value;

use super::client::Client;
use super::resources::{s, table, urlencode};
use crate::cli::{Output, ReportsArgs};

/// Page size when none is given: one screen for a page, the largest the API serves for
/// `--all`.
const PAGE: u32 = 100;
const PAGE_ALL: u32 = 1000;

/// `signet reports [filters] [--limit N] [--cursor C | --all]`
pub async fn reports(c: &Client, a: &ReportsArgs) -> anyhow::Result<()> {
    let now = Utc::now().timestamp_millis();
    let mut query = Vec::new();
    for (k, v) in [
        ("cluster", &a.cluster),
        ("namespace", &a.namespace),
        ("policy", &a.policy),
        ("image", &a.image),
        ("digest", &a.digest),
        ("result", &a.result),
    ] {
        if let Some(v) = v {
            query.push(format!("{k}={}", urlencode(v)));
        }
    }
    for (k, v) in [("since", &a.since), ("until", &a.until)] {
        if let Some(v) = v {
            let ms = time_ms(v, now).with_context(|| format!("--{k} {v:?}"))?;
            query.push(format!("{k}={ms}"));
        }
    }
    let limit = a.limit.unwrap_or(if a.all { PAGE_ALL } else { PAGE });
    query.push(format!("limit={limit}"));

    let mut items = Vec::new();
    let mut cursor = a.cursor.clone();
    loop {
        let mut q = query.clone();
        if let Some(cur) = &cursor {
            q.push(format!("cursor={}", urlencode(cur)));
        }
        let (_, mut page) = c
            .call(Method::GET, &format!("/v1/reports?{}", q.join("&")), None)
            .await?;
        if let Value::Array(page_items) = page["items"].take() {
            items.extend(page_items);
        }
        cursor = page["next"].as_str().map(str::to_owned);
        if !a.all || cursor.is_none() {
            break;
        }
    }

    match a.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&items)?),
        Output::Table => print_table(&items),
    }
    if let Some(next) = cursor {
        eprintln!("more decisions follow: --cursor {next} (or --all for every page)");
    }
    Ok(())
}

fn print_table(items: &[Value]) {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|d| {
            // A fail under Audit admitted the resource: shown as the warning it was.
            let result = match (d["result"].as_str(), d["action"].as_str()) {
                (Some("fail"), Some("audit")) => "WARN".to_owned(),
                _ => s(&d["result"]).to_uppercase(),
            };
            vec![
                d["time"].as_i64().map(rfc3339).unwrap_or_default(),
                s(&d["cluster"]),
                s(&d["namespace"]),
                s(&d["image"]),
                format!("{}/{}", s(&d["policy"]), s(&d["rule"])),
                result,
                s(&d["message"]),
            ]
        })
        .collect();
    table(
        &[
            "TIME",
            "CLUSTER",
            "NAMESPACE",
            "IMAGE",
            "POLICY/RULE",
            "RESULT",
            "MESSAGE",
        ],
        &rows,
    );
}

fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

/// `--since`/`--until` as the API takes them (Unix milliseconds): an RFC 3339 time, or a
/// duration before `now_ms`.
fn time_ms(text: &str, now_ms: i64) -> anyhow::Result<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    let ago = duration_ms(text).context(
        "expected an RFC 3339 time (2026-01-31T12:00:00Z) or a duration before now (15m, 1h, 7d, 1h30m)",
    )?;
    Ok(now_ms.saturating_sub(ago))
}

/// `90s`, `15m`, `1h`, `7d`, `2w` and sums of them (`1h30m`), in milliseconds.
fn duration_ms(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut digits = String::new();
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let unit: i64 = match ch {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            'd' => 86_400_000,
            'w' => 7 * 86_400_000,
            _ => return None,
        };
        let n: i64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        digits.clear();
    }
    // A number without a unit is ambiguous (seconds? milliseconds?), so it is refused.
    (digits.is_empty() && !text.is_empty()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_durations_before_now() {
        let now = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        assert_eq!(time_ms("2026-01-01T00:00:00Z", 0).ok(), Some(now));
        assert_eq!(time_ms("2026-01-01T01:00:00+01:00", 0).ok(), Some(now));
        assert_eq!(time_ms("2026-01-01T00:00:00.250Z", 0).ok(), Some(now + 250));
        assert_eq!(time_ms("90s", now).ok(), Some(now - 90_000));
        assert_eq!(time_ms("1h30m", now).ok(), Some(now - 5_400_000));
        assert_eq!(time_ms("2w", now).ok(), Some(now - 14 * 86_400_000));
        for bad in ["", "1", "h", "1x", "1h30", "yesterday", "2026-01-01"] {
            assert!(time_ms(bad, now).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn table_times_are_utc_seconds() {
        assert_eq!(rfc3339(1_767_225_600_999), "2026-01-01T00:00:00Z");
    }
}
