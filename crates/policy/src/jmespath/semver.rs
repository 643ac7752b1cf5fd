//! Semantic versions as `github.com/blang/semver/v4` reads them: `Parse`, `Compare` and
//! `ParseRange` (used by Kyverno's numeric condition operators on `1.2.3`-shaped strings
//! and by its `semver_compare` JMESPath function).

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pre {
    Num(u64),
    Alpha(String),
}

/// A parsed `MAJOR.MINOR.PATCH[-pre][+build]` version (build metadata is ignored in
/// comparisons, as semver requires).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    core: [u64; 3],
    pre: Vec<Pre>,
}

fn numeric(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

fn alphanumeric(s: &str) -> bool {
    s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
}

impl Version {
    /// blang's strict `semver.Parse` (no `v` prefix, no leading zeros).
    pub(crate) fn parse(s: &str) -> Option<Version> {
        let mut parts = s.splitn(3, '.');
        let major = numeric(parts.next()?)?;
        let minor = numeric(parts.next()?)?;
        let mut patch = parts.next()?;
        if let Some((head, build)) = patch.split_once('+') {
            if build.split('.').any(|b| b.is_empty() || !alphanumeric(b)) {
                return None;
            }
            patch = head;
        }
        let mut pre = Vec::new();
        if let Some((head, pres)) = patch.split_once('-') {
            for p in pres.split('.') {
                if p.is_empty() {
                    return None;
                }
                if p.bytes().all(|c| c.is_ascii_digit()) {
                    pre.push(Pre::Num(numeric(p)?));
                } else if alphanumeric(p) {
                    pre.push(Pre::Alpha(p.to_owned()));
                } else {
                    return None;
                }
            }
            patch = head;
        }
        Some(Version {
            core: [major, minor, numeric(patch)?],
            pre,
        })
    }

    fn zero() -> Version {
        Version {
            core: [0; 3],
            pre: Vec::new(),
        }
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let c = match (a, b) {
                            (Pre::Num(x), Pre::Num(y)) => x.cmp(y),
                            (Pre::Num(_), Pre::Alpha(_)) => Ordering::Less,
                            (Pre::Alpha(_), Pre::Num(_)) => Ordering::Greater,
                            (Pre::Alpha(x), Pre::Alpha(y)) => x.cmp(y),
                        };
                        if c != Ordering::Equal {
                            return c;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// blang's `splitAndTrim`: split on spaces except right after `>`, `<` or `=`.
fn split_and_trim(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let (mut out, mut last, mut last_char) = (Vec::new(), 0usize, 0u8);
    for i in 0..b.len() {
        if b[i] == b' ' && !b"><=".contains(&last_char) {
            if last + 1 < i {
                out.push(s[last..i].replace(' ', ""));
            }
            last = i + 1;
        } else if b[i] != b' ' {
            last_char = b[i];
        }
    }
    if last + 1 < b.len() {
        out.push(s[last..].replace(' ', ""));
    }
    out
}

fn split_comparator(s: &str) -> Option<(&str, &str)> {
    let i = s.find(|c: char| c.is_ascii_digit())?;
    Some((s[..i].trim(), &s[i..]))
}

fn bump(v: &str, index: usize) -> String {
    let mut parts: Vec<String> = v.split('.').map(str::to_owned).collect();
    if let Some(n) = parts.get(index).and_then(|p| p.parse::<i64>().ok()) {
        parts[index] = n.saturating_add(1).to_string();
    }
    parts.join(".")
}

/// blang's `expandWildcardVersion` for one comparator containing an `x`.
fn expand_wildcard(part: &str, out: &mut Vec<String>) -> Option<()> {
    let (op, v) = split_comparator(part)?;
    let nparts = v.split('.').count();
    let wildcard = v.rsplit('.').next() == Some("x");
    let mut flat = v.replacen(".x.x", ".x", 1).replacen(".x", ".0", 1);
    if flat.split('.').count() == 2 {
        flat.push_str(".0");
    }
    let (result_op, increment) = match op {
        ">" => (">=", true),
        ">=" => (">=", false),
        "<" => ("<", false),
        "<=" => ("<", true),
        "" | "=" | "==" => {
            out.push(format!(">={flat}"));
            ("<", true)
        }
        "!=" | "!" => {
            out.push(format!("<{flat}"));
            (">=", true)
        }
        _ => ("", false),
    };
    let version = match (increment, wildcard, nparts) {
        (false, _, _) => flat,
        (true, true, 3) => bump(&flat, 1),
        (true, true, 2) => bump(&flat, 0),
        (true, _, _) => String::new(),
    };
    out.push(format!("{result_op}{version}"));
    Some(())
}

/// `semver.ParseRange(range)(semver.Parse(version))`, the check of `semver_compare`; an
/// unparsable version counts as `0.0.0` as in Kyverno. `None` for a malformed range.
pub(crate) fn range_matches(version: &str, range: &str) -> Option<bool> {
    let v = Version::parse(version).unwrap_or_else(Version::zero);
    let parts = split_and_trim(range);
    if parts.is_empty()
        || parts.first().map(String::as_str) == Some("||")
        || parts.last().map(String::as_str) == Some("||")
    {
        return None;
    }
    let mut any = false;
    let mut saw_group = false;
    for group in parts.split(|p| p == "||") {
        saw_group = true;
        let mut expanded = Vec::new();
        for p in group {
            if p.contains('x') {
                expand_wildcard(p, &mut expanded)?;
            } else {
                expanded.push(p.clone());
            }
        }
        let mut all = true;
        for p in &expanded {
            let (op, text) = split_comparator(p)?;
            let bound = Version::parse(text)?;
            let ok = match op {
                "" | "=" | "==" => v == bound,
                ">" => v > bound,
                ">=" => v >= bound,
                "<" => v < bound,
                "<=" => v <= bound,
                "!" | "!=" => v != bound,
                _ => return None,
            };
            all &= ok;
        }
        any |= all;
    }
    saw_group.then_some(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders_like_blang() {
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.2.3",
            "1.10.0",
        ];
        for w in order.windows(2) {
            let (a, b) = (Version::parse(w[0]), Version::parse(w[1]));
            assert!(a.is_some() && b.is_some() && a < b, "{} < {}", w[0], w[1]);
        }
        assert_eq!(Version::parse("1.2.3+build.5"), Version::parse("1.2.3"));
        for bad in [
            "1.2", "v1.2.3", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.x", "", "1.2.3+",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ranges_like_kyverno_tests() {
        assert_eq!(range_matches("4.1.3", ">=4.1.x"), Some(true));
        assert_eq!(range_matches("4.1.3", "!4.x.x"), Some(false));
        assert_eq!(range_matches("1.8.6", ">1.0.0 <2.0.0"), Some(true));
        assert_eq!(range_matches("2.1.5", "<2.0.0 || >=3.0.0"), Some(false));
        assert_eq!(range_matches("3.1.5", "<2.0.0 || >=3.0.0"), Some(true));
        assert_eq!(range_matches("1.2.7", "1.2.x"), Some(true));
        assert_eq!(range_matches("1.3.0", "1.2.x"), Some(false));
        assert_eq!(range_matches("1.2.3", "|| >1.0.0"), None);
        assert_eq!(range_matches("1.2.3", "~1.2.3"), None);
    }
}
