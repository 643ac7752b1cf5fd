//! Kyverno wildcards: `*` matches any sequence of characters (including none), `?` matches
//! exactly one character, everything else matches itself. There is no escape character and
//! no character class.
//!
//! Kyverno (`ext/wildcard/match.go`) delegates to `github.com/IGLOU-EU/go-wildcard` v1.0.3,
//! whose `Match` works on runes (Unicode scalar values), treats an empty pattern as matching
//! only the empty text, and a lone `*` as matching everything. Its implementation recurses
//! on every `*`, which is exponential on patterns such as `a*a*a*a*b`; this one splits the
//! pattern at its stars and places each piece at its leftmost possible position, which
//! gives the same answers without backtracking.

/// Whether `text` matches `pattern` under Kyverno's wildcard rules.
///
/// Runs in linear time for patterns whose star-separated pieces contain no `?`; a piece
/// with `?` is searched position by position, O(len(text) · len(piece)) in the worst case,
/// never exponential.
pub fn matches(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split('*');
    // `split` always yields at least one item, even for an empty pattern.
    let first = pieces.next().unwrap_or_default();
    let Some(rest_pattern) = pattern
        .strip_prefix(first)
        .and_then(|p| p.strip_prefix('*'))
    else {
        // No star at all: the whole text must be exactly this piece.
        return match_at(text, first) == Some(text.len());
    };
    let Some(prefix_len) = match_at(text, first) else {
        return false;
    };
    let mut rest = &text[prefix_len..];

    // The last piece is anchored at the end of the text; it consumes exactly as many
    // characters as it has, so its start is found by counting back.
    let (middle, last) = match rest_pattern.rfind('*') {
        Some(i) => (&rest_pattern[..i], &rest_pattern[i + 1..]),
        None => ("", rest_pattern),
    };
    let last_chars = last.chars().count();
    let Some(suffix_start) = nth_char_from_end(rest, last_chars) else {
        return false;
    };
    if match_at(&rest[suffix_start..], last) != Some(rest.len() - suffix_start) {
        return false;
    }
    rest = &rest[..suffix_start];

    // Middle pieces, in order, each at its leftmost occurrence: taking the leftmost one
    // never removes a way to place the pieces after it.
    for piece in middle.split('*').filter(|p| !p.is_empty()) {
        match find(rest, piece) {
            Some((_, end)) => rest = &rest[end..],
            None => return false,
        }
    }
    true
}

/// Whether a string contains a Kyverno wildcard character (`*` or `?`).
pub fn contains_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Matches a star-free piece at the start of `text`; returns the bytes it consumed.
fn match_at(text: &str, piece: &str) -> Option<usize> {
    let mut chars = text.char_indices();
    for p in piece.chars() {
        let (_, t) = chars.next()?;
        if p != '?' && p != t {
            return None;
        }
    }
    Some(chars.next().map_or(text.len(), |(i, _)| i))
}

/// The leftmost occurrence of a star-free piece in `text`, as a byte range.
fn find(text: &str, piece: &str) -> Option<(usize, usize)> {
    if !piece.contains('?') {
        // The standard library's substring search is linear.
        return text.find(piece).map(|start| (start, start + piece.len()));
    }
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .find_map(|start| match_at(&text[start..], piece).map(|len| (start, start + len)))
}

/// Byte index where the last `n` characters of `text` start, if it has that many.
fn nth_char_from_end(text: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(text.len());
    }
    text.char_indices().rev().nth(n - 1).map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_go_wildcard() {
        // (pattern, text, expected) — cases follow go-wildcard v1.0.3's behaviour.
        let cases: &[(&str, &str, bool)] = &[
            ("", "", true),
            ("", "a", false),
            ("*", "", true),
            ("*", "anything/at:all", true),
            ("**", "", true),
            ("?", "", false),
            ("?", "a", true),
            ("?", "ab", false),
            ("??", "ab", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("abc", "abc", true),
            ("abc", "abcd", false),
            ("abc", "ab", false),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*", "ba", false),
            ("*c", "abc", true),
            ("*c", "abcd", false),
            ("a*c", "ac", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbbd", false),
            ("*b*", "abc", true),
            ("*b*", "ac", false),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXcYb", false),
            ("a*b?d", "abbcd", true),
            ("*?", "", false),
            ("*?", "x", true),
            ("?*?", "x", false),
            ("?*?", "xy", true),
            // Overlap between the prefix and the suffix is not allowed.
            ("ab*ba", "aba", false),
            ("ab*ba", "abba", true),
            ("*aa*aa", "aaa", false),
            ("*aa*aa", "aaaa", true),
            // Characters, not bytes: `?` consumes one multi-byte character.
            ("?", "é", true),
            ("h?llo*", "héllo wörld", true),
            ("*ö?ld", "héllo wörld", true),
            // Image references.
            ("ghcr.io/kyverno/*", "ghcr.io/kyverno/test:v1", true),
            ("ghcr.io/kyverno/*", "ghcr.io/other/test:v1", false),
            ("docker.io/nginx:1.?", "docker.io/nginx:1.2", true),
            ("*:latest", "docker.io/nginx:latest", true),
            ("nginx:*", "docker.io/nginx:1.2", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                matches(pattern, text),
                *expected,
                "matches({pattern:?}, {text:?})"
            );
        }
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        // Recursive matchers take exponential time on these; the answers are still right.
        let text = "a".repeat(5_000);
        let pattern = "a*".repeat(200) + "b";
        assert!(!matches(&pattern, &text));
        let pattern = "*a".repeat(200);
        assert!(matches(&pattern, &text));
        let pattern = "?*".repeat(300) + "?a";
        assert!(matches(&pattern, &text));
        let long_text = "ab".repeat(20_000);
        assert!(!matches("*a?b*", &long_text));
        assert!(matches("*a?a*", &long_text));
        assert!(matches("*b?b*", &("ab".repeat(20_000) + "x")));
    }

    #[test]
    fn detects_wildcards() {
        for (s, expected) in [
            ("a*", true),
            ("a?b", true),
            ("", false),
            ("plain/name:tag", false),
        ] {
            assert_eq!(contains_wildcard(s), expected, "{s:?}");
        }
    }
}
