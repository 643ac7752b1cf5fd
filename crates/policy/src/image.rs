//! Image references, parsed and normalised as Kyverno and Docker do, and the
//! `imageReferences` / `skipImageReferences` matching of a `verifyImages` entry.
//!
//! Kyverno (`pkg/utils/image/infos.go`, `GetImageInfo`) prefixes `docker.io/` when the first
//! path component is not a registry host, parses the result with
//! `github.com/distribution/reference` v0.6.0 `Parse`, and defaults the tag to `latest` when
//! there is neither tag nor digest. Unlike Docker's `ParseNormalizedNamed` it does not add
//! `library/` nor rewrite `index.docker.io`: Kyverno's `String()` of `nginx` is
//! `docker.io/nginx:latest`, Docker's canonical name is `docker.io/library/nginx:latest`.
//! [`ImageRef`] keeps both: its fields are Docker's canonical ones (what a registry serves),
//! its `Display` is Kyverno's `String()` (what Kyverno matches, reports and patches).

use std::fmt;
use std::hash::{Hash, Hasher};

use self::grammar::{check_digest, check_registry, check_repository, check_tag};
use crate::{wildcard, Error, ImageVerification, Result};

/// Docker Hub, the registry of references that name none.
pub const DOCKER_HUB: &str = "docker.io";
/// Docker Hub's legacy name, which Docker rewrites to `docker.io` (and go-containerregistry,
/// so cosign, writes in a signature's `docker-reference`).
pub const DOCKER_HUB_LEGACY: &str = "index.docker.io";

/// A parsed image reference.
///
/// Equality and hashing use the Docker-canonical parts only, so `nginx` and
/// `docker.io/library/nginx:latest` are equal.
#[derive(Debug, Clone)]
pub struct ImageRef {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
    /// Kyverno's `registry/path`, before Docker's canonicalisation.
    kyverno_name: String,
}

impl ImageRef {
    /// Parses a reference as written in a container spec or a CLI argument.
    pub fn parse(reference: &str) -> Result<ImageRef> {
        let fail = |reason: String| Error::InvalidImageReference {
            reference: reference.to_owned(),
            reason,
        };
        if reference.is_empty() {
            return Err(fail("the reference is empty".into()));
        }
        if let Some(c) = reference
            .chars()
            .find(|c| c.is_whitespace() || c.is_control())
        {
            return Err(fail(format!("it contains the character {c:?}")));
        }
        let (rest, digest) = match reference.split_once('@') {
            Some((rest, d)) => (rest, Some(check_digest(d).map_err(fail)?)),
            None => (reference, None),
        };
        let (name, tag) = match rest.rsplit_once(':') {
            Some((name, t)) if !t.contains('/') => (name, Some(check_tag(t).map_err(fail)?)),
            _ => (rest, None),
        };
        // Kyverno's addDefaultRegistry: the first component is a registry host when it
        // contains '.' or ':', is `localhost`, or has upper-case letters (which a repository
        // cannot have); otherwise the image is on Docker Hub.
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.to_lowercase() != first =>
            {
                (first, path)
            }
            _ => (DOCKER_HUB, name),
        };
        // distribution/reference would read an invalid host as part of the path when that
        // path is valid (`a_b.c/d`), and Kyverno then guesses the registry back from an
        // underscore; such names never reach a real registry, so they are refused instead.
        check_registry(registry).map_err(fail)?;
        check_repository(path).map_err(fail)?;
        let tag = match (tag, &digest) {
            (None, None) => Some("latest".to_owned()),
            (tag, _) => tag.map(str::to_owned),
        };
        let kyverno_name = format!("{registry}/{path}");
        let registry = if registry == DOCKER_HUB_LEGACY {
            DOCKER_HUB
        } else {
            registry
        };
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        Ok(ImageRef {
            registry: registry.to_owned(),
            repository,
            tag,
            digest,
            kyverno_name,
        })
    }

    /// The registry host (and port), `docker.io` for Docker Hub.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path within the registry, with `library/` for official Docker Hub images.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag: as written, `latest` when neither tag nor digest was given, `None` when only
    /// a digest was given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`sha256:<hex>`), when the reference carries one.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// `registry/repository`, Docker-canonical.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same image pinned to `digest` (the tag is kept, as Kyverno keeps it).
    pub fn with_digest(&self, digest: &str) -> Result<ImageRef> {
        let digest = check_digest(digest).map_err(|reason| Error::InvalidImageReference {
            reference: format!("{}@{digest}", self.kyverno_name),
            reason,
        })?;
        Ok(ImageRef {
            digest: Some(digest),
            ..self.clone()
        })
    }

    /// What to ask a registry for: the Docker-canonical name with the digest when there is
    /// one (a digest names the content; the tag is then irrelevant), otherwise the tag.
    pub fn reference_for_pull(&self) -> String {
        join(&self.name(), self.tag.as_deref(), self.digest.as_deref())
    }

    /// Kyverno's `mutateDigest` patch value: `String()` of the tagged image, then `@digest`
    /// (`docker.io/nginx:1.2@sha256:…`); without a digest, the same as `to_string()`.
    pub fn pinned(&self) -> String {
        match (&self.tag, &self.digest) {
            (Some(t), Some(d)) => format!("{}:{t}@{d}", self.kyverno_name),
            _ => self.to_string(),
        }
    }

    /// The strings that `imageReferences` patterns are matched against (see
    /// [`ImageVerification::matches_image`]).
    fn match_forms(&self) -> [String; 2] {
        [self.to_string(), self.reference_for_pull()]
    }
}

/// Kyverno's `ImageInfo.String()`: `registry/path@digest` when there is a digest (the tag
/// is then left out), `registry/path:tag` otherwise.
impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&join(
            &self.kyverno_name,
            self.tag.as_deref(),
            self.digest.as_deref(),
        ))
    }
}

impl PartialEq for ImageRef {
    fn eq(&self, other: &Self) -> bool {
        (&self.registry, &self.repository, &self.tag, &self.digest)
            == (
                &other.registry,
                &other.repository,
                &other.tag,
                &other.digest,
            )
    }
}

impl Eq for ImageRef {}

impl Hash for ImageRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (&self.registry, &self.repository, &self.tag, &self.digest).hash(state);
    }
}

impl ImageVerification {
    /// Whether this entry checks `image`: some `imageReferences` pattern matches it and no
    /// `skipImageReferences` pattern does.
    pub fn matches_image(&self, image: &ImageRef) -> bool {
        // Kyverno matches both lists against `imageInfo.String()` only
        // (pkg/engine/utils/image.go GetMatchingImages → ImageMatches, and
        // pkg/engine/internal/imageverifier.go verifyImage → matchReferences for
        // imageReferences then skipImageReferences). It never tries the reference as written:
        // `nginx:*` does not match `nginx:1.2`, whose String() is `docker.io/nginx:1.2`.
        // DESIGN.md promises Docker's normalisation before matching, so a pattern also
        // matches when it matches the Docker-canonical form (`docker.io/library/nginx:1.2`);
        // the two forms differ only for Docker Hub official images and `index.docker.io`.
        let forms = image.match_forms();
        let any_match = |patterns: &[String]| {
            patterns
                .iter()
                .any(|p| forms.iter().any(|f| wildcard::matches(p, f)))
        };
        any_match(&self.image_references) && !any_match(&self.skip_image_references)
    }
}

fn join(name: &str, tag: Option<&str>, digest: Option<&str>) -> String {
    match (digest, tag) {
        (Some(d), _) => format!("{name}@{d}"),
        (None, Some(t)) => format!("{name}:{t}"),
        (None, None) => name.to_owned(),
    }
}

mod grammar;
#[cfg(test)]
mod tests;
