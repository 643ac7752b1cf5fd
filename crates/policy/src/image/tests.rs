use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use super::ImageRef;
use crate::{load_policies, Error, ImageVerification};

const D256: &str = "sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f";

fn parse(s: &str) -> ImageRef {
    ImageRef::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

#[test]
fn normalises_like_kyverno_and_docker() {
    // (input, Kyverno String(), Docker-canonical reference, registry, repository, tag, digest)
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        bool,
    );
    let cases: &[Case<'_>] = &[
        ("nginx", "docker.io/nginx:latest", "docker.io/library/nginx:latest", "docker.io", "library/nginx", Some("latest"), false),
        ("nginx:1.25", "docker.io/nginx:1.25", "docker.io/library/nginx:1.25", "docker.io", "library/nginx", Some("1.25"), false),
        ("user/app", "docker.io/user/app:latest", "docker.io/user/app:latest", "docker.io", "user/app", Some("latest"), false),
        ("docker.io/nginx", "docker.io/nginx:latest", "docker.io/library/nginx:latest", "docker.io", "library/nginx", Some("latest"), false),
        ("docker.io/library/nginx:1", "docker.io/library/nginx:1", "docker.io/library/nginx:1", "docker.io", "library/nginx", Some("1"), false),
        ("index.docker.io/nginx", "index.docker.io/nginx:latest", "docker.io/library/nginx:latest", "docker.io", "library/nginx", Some("latest"), false),
        ("index.docker.io/user/app:v1", "index.docker.io/user/app:v1", "docker.io/user/app:v1", "docker.io", "user/app", Some("v1"), false),
        ("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest", "localhost:5000", "app", Some("latest"), false),
        ("localhost/app:v1", "localhost/app:v1", "localhost/app:v1", "localhost", "app", Some("v1"), false),
        ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t", "127.0.0.1:5000", "a/b", Some("t"), false),
        ("[::1]:5000/app:v1", "[::1]:5000/app:v1", "[::1]:5000/app:v1", "[::1]:5000", "app", Some("v1"), false),
        ("my-registry:5000/app", "my-registry:5000/app:latest", "my-registry:5000/app:latest", "my-registry:5000", "app", Some("latest"), false),
        ("Registry.Example.com/app", "Registry.Example.com/app:latest", "Registry.Example.com/app:latest", "Registry.Example.com", "app", Some("latest"), false),
        ("ghcr.io/org/team/app:v1.2.3-rc_1", "ghcr.io/org/team/app:v1.2.3-rc_1", "ghcr.io/org/team/app:v1.2.3-rc_1", "ghcr.io", "org/team/app", Some("v1.2.3-rc_1"), false),
        ("a__b/c-d---e.f:tag", "docker.io/a__b/c-d---e.f:tag", "docker.io/a__b/c-d---e.f:tag", "docker.io", "a__b/c-d---e.f", Some("tag"), false),
        // A bare `name:port` is a name and a tag, not a registry.
        ("app:5000", "docker.io/app:5000", "docker.io/library/app:5000", "docker.io", "library/app", Some("5000"), false),
        // A digest alone: no default tag; String() uses the digest.
        ("reg.io/app@sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f",
         "reg.io/app@sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f",
         "reg.io/app@sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f",
         "reg.io", "app", None, true),
        // Tag and digest: both kept, String() shows the digest only.
        ("reg.io/app:v1@sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f",
         "reg.io/app@sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f",
         "reg.io/app@sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f",
         "reg.io", "app", Some("v1"), true),
        ("nginx@sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f",
         "docker.io/nginx@sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f",
         "docker.io/library/nginx@sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f",
         "docker.io", "library/nginx", None, true),
    ];
    for (input, kyverno, canonical, registry, repository, tag, has_digest) in cases {
        let r = parse(input);
        assert_eq!(r.to_string(), *kyverno, "String() of {input:?}");
        assert_eq!(r.reference_for_pull(), *canonical, "canonical of {input:?}");
        assert_eq!(r.registry(), *registry, "registry of {input:?}");
        assert_eq!(r.repository(), *repository, "repository of {input:?}");
        assert_eq!(
            r.name(),
            format!("{registry}/{repository}"),
            "name of {input:?}"
        );
        assert_eq!(r.tag(), *tag, "tag of {input:?}");
        assert_eq!(
            r.digest(),
            has_digest.then_some(D256),
            "digest of {input:?}"
        );
    }
}

#[test]
fn accepts_sha384_and_sha512() {
    for (alg, n) in [("sha384", 96), ("sha512", 128)] {
        let d = format!("{alg}:{}", "a".repeat(n));
        assert_eq!(parse(&format!("reg.io/app@{d}")).digest(), Some(d.as_str()));
    }
}

#[test]
fn rejects_invalid_references_with_reasons() {
    let long_tag = format!("reg.io/app:{}", "t".repeat(129));
    let long_repo = format!("reg.io/{}", "a/".repeat(128) + "a");
    let upper_hex = format!("reg.io/app@sha256:{}", "A".repeat(64));
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("nginx latest", "character ' '"),
        ("nginx:", "tag \"\" is not valid"),
        ("nginx:-bad", "tag \"-bad\" is not valid"),
        (&long_tag, "1 to 128"),
        ("Nginx", "repository \"Nginx\" must be lowercase"),
        ("reg.io/MyApp:v1", "must be lowercase"),
        ("reg.io/", "repository name is empty"),
        ("reg.io//app", "component \"\""),
        ("reg.io/app_", "component \"app_\""),
        ("reg.io/a___b", "component \"a___b\""),
        ("reg.io/a.-b", "component \"a.-b\""),
        (&long_repo, "longer than 255"),
        ("reg.io:abc/app", "invalid port"),
        ("-reg.io/app", "registry \"-reg.io\" is not a valid host"),
        ("[::1/app", "is not a valid host"),
        ("reg_x.io/app", "is not a valid host"),
        ("reg.io/app@sha256:abc", "64 hex digits, found 3"),
        (&upper_hex, "lowercase hexadecimal"),
        (
            "reg.io/app@md5:d41d8cd98f00b204e9800998ecf8427e",
            "\"md5\" is not supported",
        ),
        ("reg.io/app@sha256", "not algorithm:hex"),
    ];
    for (input, reason_part) in cases {
        match ImageRef::parse(input) {
            Err(Error::InvalidImageReference { reference, reason }) => {
                assert_eq!(reference, *input);
                assert!(
                    reason.contains(reason_part),
                    "{input:?}: {reason:?} lacks {reason_part:?}"
                );
            }
            other => panic!("{input:?} should be rejected, got {other:?}"),
        }
    }
}

#[test]
fn equality_uses_canonical_parts() {
    let hash = |r: &ImageRef| {
        let mut h = DefaultHasher::new();
        r.hash(&mut h);
        h.finish()
    };
    let a = parse("nginx");
    let b = parse("index.docker.io/library/nginx:latest");
    assert_eq!(a, b);
    assert_eq!(hash(&a), hash(&b));
    assert_ne!(a, parse("nginx:1"));
    assert_ne!(a, parse("ghcr.io/nginx"));
}

#[test]
fn with_digest_keeps_the_tag() {
    let r = parse("nginx:1.2").with_digest(D256).expect("valid digest");
    assert_eq!(r.to_string(), format!("docker.io/nginx@{D256}"));
    assert_eq!(r.pinned(), format!("docker.io/nginx:1.2@{D256}"));
    assert_eq!(
        r.reference_for_pull(),
        format!("docker.io/library/nginx@{D256}")
    );
    assert_eq!(r.tag(), Some("1.2"));
    assert_eq!(parse("nginx:1.2").pinned(), "docker.io/nginx:1.2");
    assert!(matches!(
        parse("nginx").with_digest("sha256:1234"),
        Err(Error::InvalidImageReference { .. })
    ));
}

fn entry(refs: &[&str], skips: &[&str]) -> ImageVerification {
    let yaml = format!(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: p}}\nspec:\n  rules:\n  \
         - name: r\n    match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n    verifyImages:\n    \
         - imageReferences: {}\n      skipImageReferences: {}\n      required: false\n",
        serde_json::json!(refs),
        serde_json::json!(skips),
    );
    let mut policies = load_policies(&yaml).expect("test policy loads");
    let mut rule = policies.remove(0).spec.rules.remove(0);
    rule.verify_images.remove(0)
}

#[test]
fn image_references_and_skips() {
    let digest_ref = format!("reg.io/app:v1@{D256}");
    // (imageReferences, skipImageReferences, image, checked)
    let cases: &[(&[&str], &[&str], &str, bool)] = &[
        (&["*"], &[], "nginx", true),
        (&["docker.io/nginx:*"], &[], "nginx:1.2", true),
        (&["docker.io/library/nginx:*"], &[], "nginx:1.2", true),
        // Kyverno never matches the reference as written.
        (&["nginx:*"], &[], "nginx:1.2", false),
        (&["nginx*"], &[], "nginx", false),
        (&["*:latest"], &[], "nginx", true),
        (&["*:latest"], &[], "nginx:1", false),
        (&["reg.io/app:v?"], &[], "reg.io/app:v1", true),
        (&["reg.io/app:v?"], &[], "reg.io/app:v10", false),
        (&["ghcr.io/org/*"], &[], "ghcr.io/other/app", false),
        (
            &["ghcr.io/org/*"],
            &["ghcr.io/org/test-*"],
            "ghcr.io/org/test-app:v1",
            false,
        ),
        (
            &["ghcr.io/org/*"],
            &["ghcr.io/org/test-*"],
            "ghcr.io/org/app:v1",
            true,
        ),
        (&["a.io/*", "b.io/*"], &[], "b.io/x", true),
        (&["*"], &["a.io/*", "b.io/*"], "b.io/x", false),
        // With a digest, String() drops the tag: a tag pattern no longer matches.
        (&["reg.io/app:v1"], &[], &digest_ref, false),
        (&["reg.io/app@sha256:*"], &[], &digest_ref, true),
        (
            &["index.docker.io/*"],
            &[],
            "index.docker.io/user/app",
            true,
        ),
        (&["index.docker.io/*"], &[], "user/app", false),
        (&["docker.io/*"], &[], "index.docker.io/user/app", true),
        (&["*"], &["docker.io/library/*"], "nginx", false),
        (&["*"], &["docker.io/library/*"], "user/app", true),
    ];
    for (refs, skips, image, expected) in cases {
        let e = entry(refs, skips);
        assert_eq!(
            e.matches_image(&parse(image)),
            *expected,
            "refs {refs:?} skips {skips:?} image {image:?}"
        );
    }
}
