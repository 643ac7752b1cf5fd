//! The `signet` binary as scripts call it: output lines and exit codes (DESIGN.md, Contracts).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn testdata(sub: &str) -> PathBuf {
    let base = std::env::var_os("SIGNET_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        });
    base.join(sub)
}

fn signet(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_signet"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run signet");
    if let Some(input) = stdin {
        let written = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes());
        // A command that fails on its arguments exits before it reads stdin;
        // the exit code, not the pipe, is what the test asserts.
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
        }
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn lint_seed_policies_reports_the_truncated_key_only() {
    let dir = testdata("policies");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("policies")
        .map(|e| e.expect("entry").path().display().to_string())
        .collect();
    files.sort();
    let args: Vec<&str> = ["policy", "lint"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    let out = signet(&args, None);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    let bad = dir
        .join("verify-image-signatures.yaml")
        .display()
        .to_string();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].starts_with(&format!(
            "{bad}: document 1: spec.rules[0].verifyImages[0].attestors[0].entries[0].keys.publicKeys: not a valid public key"
        )),
        "{}",
        lines[0]
    );
}

#[test]
fn lint_valid_files_exits_zero() {
    let file = testdata("policies").join("verify-attestations.yaml");
    let out = signet(&["policy", "lint", &file.display().to_string()], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn lint_missing_file_is_an_error() {
    let out = signet(&["policy", "lint", "/nonexistent/policy.yaml"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).starts_with("/nonexistent/policy.yaml: cannot read"));
}

#[test]
fn jp_query_from_stdin_and_file() {
    let out = signet(
        &[
            "jp",
            "query",
            "length(scanner.result.vulnerabilities[?severity=='CRITICAL'])",
        ],
        Some(
            r#"{"scanner":{"result":{"vulnerabilities":[{"severity":"CRITICAL"},{"severity":"LOW"}]}}}"#,
        ),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out).trim(), "1");

    let dir = std::env::temp_dir().join(format!("signet-jp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let file = dir.join("in.yaml");
    std::fs::write(&file, "builder:\n  id: https://example.com/b\n").expect("write");
    let out = signet(
        &[
            "jp",
            "query",
            "-i",
            &file.display().to_string(),
            "to_upper(builder.id)",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out).trim(), "\"HTTPS://EXAMPLE.COM/B\"");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn jp_query_errors_exit_two() {
    let out = signet(&["jp", "query", "foo[?"], Some("{}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(!out.stderr.is_empty());
    let out = signet(&["jp", "query", "foo"], Some("{not json"));
    assert_eq!(out.status.code(), Some(2));
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A valid policy named `name`, with `extra` spec lines.
fn lint_policy(name: &str, extra: &str) -> String {
    format!(
        "apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: {name}
spec:
{extra}  rules:
    - name: r
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      verifyImages:
        - imageReferences: [\"*\"]
          required: false
"
    )
}

#[test]
fn lint_reports_every_error_of_every_document_on_its_own_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let many = dir.path().join("many.yaml");
    let text = [
        lint_policy("fine", ""),
        lint_policy("two-errors", "  webhookTimeoutSeconds: 99\n  bogus: 1\n"),
        lint_policy("Bad_Name", ""),
    ]
    .join("---\n");
    std::fs::write(&many, text).expect("write");
    let other = dir.path().join("other.yaml");
    std::fs::write(&other, lint_policy("other", "  failurePolicy: Never\n")).expect("write");
    let valid = dir.path().join("valid.yaml");
    std::fs::write(&valid, lint_policy("valid", "")).expect("write");
    let (many, other, valid) = (
        many.display().to_string(),
        other.display().to_string(),
        valid.display().to_string(),
    );

    let out = signet(&["policy", "lint", &many, &valid, &other], None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "{many}: document 2: spec.webhookTimeoutSeconds: 99 is out of range: must be 1 to 30 seconds"
            ),
            format!("{many}: document 2: spec.bogus: unknown field"),
            format!(
                "{many}: document 3: metadata.name: \"Bad_Name\" is not a valid name (lowercase letters, digits, '-' and '.', at most 253)"
            ),
            format!(
                "{other}: document 1: spec.failurePolicy: \"Never\" is not valid: expected Fail or Ignore"
            ),
        ],
        "{text}"
    );
    assert!(
        stderr(&out).contains("3 file(s) checked: 1 valid (1 policies), 2 invalid"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn jp_query_runtime_errors_and_unreadable_input_exit_two() {
    // Compiles, then fails on the data: to_upper takes a string.
    let out = signet(&["jp", "query", "to_upper(`1`)"], Some("{}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(
        stderr(&out).starts_with(
            "error: JMESPath \"to_upper(`1`)\": Runtime error: Argument 0 expects type string"
        ),
        "{}",
        stderr(&out)
    );

    let dir = tempfile::tempdir().expect("tmp");
    let missing = dir.path().join("missing.json").display().to_string();
    let folder = dir.path().display().to_string();
    for unreadable in [&missing, &folder] {
        let out = signet(&["jp", "query", "-i", unreadable, "a"], None);
        assert_eq!(out.status.code(), Some(2), "{unreadable}");
        assert!(stdout(&out).is_empty());
        assert!(
            stderr(&out).starts_with(&format!("error: cannot read {unreadable}: ")),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn jp_query_prints_objects_and_arrays_as_json() {
    let input = r#"{"items":[{"name":"a","n":1},{"name":"b","n":2}]}"#;
    let out = signet(
        &["jp", "query", "{names: items[*].name, first: items[0]}"],
        Some(input),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON output");
    assert_eq!(
        printed,
        serde_json::json!({"names": ["a", "b"], "first": {"name": "a", "n": 1}})
    );
    let out = signet(&["jp", "query", "items[?n > `1`]"], Some(input));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON output");
    assert_eq!(printed, serde_json::json!([{"name": "b", "n": 2}]));
}
