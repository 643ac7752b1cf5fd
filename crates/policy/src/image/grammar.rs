//! The grammar of image references: distribution/reference v0.6.0 (`regexp.go`) for names
//! and tags, go-digest v1.0.0 for digests. Each check returns a reason for a person.

/// distribution/reference `RepositoryNameTotalLengthMax`.
const MAX_REPOSITORY_LEN: usize = 255;

/// `host[:port]`: DNS-like labels of letters, digits and inner '-', or `[ipv6]`.
pub(super) fn check_registry(registry: &str) -> std::result::Result<(), String> {
    let invalid = || Err(format!("registry {registry:?} is not a valid host[:port]"));
    let (host, port) = if let Some(inner) = registry.strip_prefix('[') {
        let Some((addr, after)) = inner.split_once(']') else {
            return invalid();
        };
        if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return invalid();
        }
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(p) => Some(p),
                None => return invalid(),
            },
        };
        (None, port)
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(registry), None),
        }
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.is_some_and(|h| !h.split('.').all(label_ok)) {
        return invalid();
    }
    if port.is_some_and(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit())) {
        return Err(format!("registry {registry:?} has an invalid port"));
    }
    Ok(())
}

/// Path components of lowercase letters and digits joined by `.`, `_`, `__` or dashes.
pub(super) fn check_repository(path: &str) -> std::result::Result<(), String> {
    if path.is_empty() {
        return Err("the repository name is empty".into());
    }
    if path.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("repository {path:?} must be lowercase"));
    }
    if path.len() > MAX_REPOSITORY_LEN {
        return Err(format!(
            "repository name is longer than {MAX_REPOSITORY_LEN} characters"
        ));
    }
    for component in path.split('/') {
        if !component_ok(component) {
            return Err(format!(
                "repository path component {component:?} is not valid: use lowercase letters \
                 and digits, separated by '.', '_', '__' or dashes"
            ));
        }
    }
    Ok(())
}

fn component_ok(c: &str) -> bool {
    let alnum = |ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit();
    if !c.starts_with(alnum) || !c.ends_with(alnum) {
        return false;
    }
    // Every run of non-alphanumerics must be one separator: ".", "_", "__" or "-"+.
    c.split(alnum)
        .filter(|sep| !sep.is_empty())
        .all(|sep| matches!(sep, "." | "_" | "__") || sep.chars().all(|ch| ch == '-'))
}

/// `[\w][\w.-]{0,127}`.
pub(super) fn check_tag(tag: &str) -> std::result::Result<&str, String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let ok = tag.len() <= 128
        && tag.starts_with(word)
        && tag.chars().all(|c| word(c) || c == '.' || c == '-');
    if ok {
        Ok(tag)
    } else {
        Err(format!(
            "tag {tag:?} is not valid: 1 to 128 letters, digits, '_', '.' or '-', \
             not starting with '.' or '-'"
        ))
    }
}

/// `algorithm:hex`, checked as go-digest does: sha256, sha384 or sha512 with exactly
/// 64, 96 or 128 lowercase hex digits.
pub(super) fn check_digest(digest: &str) -> std::result::Result<String, String> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(format!("digest {digest:?} is not algorithm:hex"));
    };
    let expected = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            return Err(format!(
                "digest algorithm {algorithm:?} is not supported (sha256, sha384, sha512)"
            ))
        }
    };
    if !hex
        .chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    {
        return Err(format!("{algorithm} digest must be lowercase hexadecimal"));
    }
    if hex.len() != expected {
        return Err(format!(
            "{algorithm} digest must have {expected} hex digits, found {}",
            hex.len()
        ));
    }
    Ok(digest.to_owned())
}
