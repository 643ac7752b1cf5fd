//! `deploy/` and `docker-compose.yml` agree with the code: every manifest parses, the
//! webhook paths, ports and names are the ones `signet-relay` serves, the verifier's
//! probes and ports are the ones `signet-verifier` listens on, every flag passed to a
//! binary exists in its source, and the Dockerfiles are multi-stage, pinned and non-root.
//! (No container engine runs here, so the files are checked as text and YAML.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Every YAML document of a file, as JSON values (empty documents skipped).
fn documents(path: &Path) -> Vec<Value> {
    let text = read(path);
    let mut docs = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let value: Value = serde::Deserialize::deserialize(doc)
            .unwrap_or_else(|e| panic!("{}: not valid YAML: {e}", path.display()));
        if !value.is_null() {
            docs.push(value);
        }
    }
    docs
}

fn manifests() -> Vec<(PathBuf, Value)> {
    let dir = root().join("deploy/kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no manifests in {}", dir.display());
    files
        .into_iter()
        .flat_map(|f| documents(&f).into_iter().map(move |d| (f.clone(), d)))
        .collect()
}

fn find<'a>(docs: &'a [(PathBuf, Value)], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .map(|(_, d)| d)
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in deploy/kubernetes"))
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| match s {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The value following `flag` in an argument list.
fn flag_value(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1).cloned())
}

fn port_of(addr: &str) -> u64 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {addr}"))
}

/// Long flags a clap-derive binary accepts: each `#[arg(long…)]` field's name, kebab-cased.
fn clap_flags(sources: &[&str]) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    for source in sources {
        let text = read(&root().join(source));
        let mut pending = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with("#[arg(") && line.contains("long") {
                pending = true;
                continue;
            }
            if pending && !line.starts_with("#[") && !line.starts_with("///") {
                if let Some((name, _)) = line
                    .trim_start_matches("pub ")
                    .split_once(':')
                    .filter(|(n, _)| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                {
                    flags.insert(format!("--{}", name.replace('_', "-")));
                }
                pending = false;
            }
        }
    }
    flags
}

fn relay_flags() -> BTreeSet<String> {
    clap_flags(&["services/relay/src/main.rs"])
}

fn verifier_flags() -> BTreeSet<String> {
    let mut files = vec!["services/verifier/src/main.rs".to_string()];
    if root().join("services/verifier/src/config.rs").exists() {
        files.push("services/verifier/src/config.rs".into());
    }
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    clap_flags(&files)
}

fn assert_known_flags(args: &[String], known: &BTreeSet<String>, what: &str) {
    for arg in args.iter().filter(|a| a.starts_with("--")) {
        let flag = arg.split('=').next().unwrap_or(arg);
        assert!(
            known.contains(flag),
            "{what} passes {flag}, which the binary does not define (it has {known:?})"
        );
    }
}

/// The relay's default `--listen` address, from its source.
fn relay_default_listen() -> String {
    let main = read(&root().join("services/relay/src/main.rs"));
    let at = main
        .find("listen: SocketAddr")
        .expect("relay has a listen flag");
    let before = &main[..at];
    let attr = before
        .rfind("default_value = \"")
        .expect("listen has a default value");
    let rest = &before[attr + "default_value = \"".len()..];
    rest[..rest.find('"').expect("closing quote")].to_string()
}

#[test]
fn every_manifest_parses_and_names_itself() {
    let docs = manifests();
    for (file, doc) in &docs {
        for field in ["apiVersion", "kind"] {
            assert!(
                doc[field].as_str().is_some_and(|s| !s.is_empty()),
                "{}: a document without {field}",
                file.display()
            );
        }
        assert!(
            doc["metadata"]["name"].as_str().is_some(),
            "{}: {} without metadata.name",
            file.display(),
            doc["kind"]
        );
    }
    let kinds: BTreeSet<&str> = docs
        .iter()
        .filter_map(|(_, d)| d["kind"].as_str())
        .collect();
    for kind in [
        "Namespace",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ClusterRole",
        "ClusterRoleBinding",
        "ServiceAccount",
        "Certificate",
    ] {
        assert!(kinds.contains(kind), "no {kind} in deploy/kubernetes");
    }
}

#[test]
fn relay_webhooks_match_the_relay_code() {
    let docs = manifests();
    let server = read(&root().join("services/relay/src/server.rs"));
    for path in ["/mutate", "/validate", "/healthz"] {
        assert!(
            server.contains(&format!(".route(\"{path}\"")),
            "the relay serves no {path}"
        );
    }
    let listen_port = port_of(&relay_default_listen());

    let deployment = find(&docs, "Deployment", "signet-relay");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let args = strs(&container["args"]);
    assert_known_flags(&args, &relay_flags(), "the relay Deployment");
    let listen = flag_value(&args, "--listen").unwrap_or_else(relay_default_listen);
    assert_eq!(
        port_of(&listen),
        listen_port,
        "deploy listens where the relay does by default"
    );
    let container_port = container["ports"][0]["containerPort"]
        .as_u64()
        .expect("port");
    assert_eq!(container_port, listen_port);
    let port_name = container["ports"][0]["name"].as_str().expect("port name");
    for probe in ["livenessProbe", "readinessProbe"] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"], "/healthz", "{probe}");
        assert_eq!(get["scheme"], "HTTPS", "{probe}");
        assert_eq!(get["port"], port_name, "{probe}");
    }
    assert!(pod["securityContext"]["runAsNonRoot"] == true);

    // The Service maps the webhook port to the container port.
    let service = find(&docs, "Service", "signet-relay");
    let namespace = service["metadata"]["namespace"].as_str().expect("ns");
    let ports = service["spec"]["ports"].as_array().expect("ports");
    let service_ports: BTreeMap<u64, u64> = ports
        .iter()
        .map(|p| {
            let target = match &p["targetPort"] {
                Value::Number(n) => n.as_u64().expect("number"),
                Value::String(s) if s == port_name => container_port,
                other => panic!("unknown targetPort {other}"),
            };
            (p["port"].as_u64().expect("port"), target)
        })
        .collect();
    assert_eq!(
        service["spec"]["selector"],
        deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
            .as_str()
            .map(|n| serde_json::json!({"app.kubernetes.io/name": n}))
            .expect("label")
    );

    // Each webhook: the relay's path, the Service's name and port, a timeout the
    // relay's deadline fits in, a failure policy, v1 reviews, no side effects.
    let timeout_flag: f64 = flag_value(&args, "--timeout-seconds")
        .map(|t| t.parse().expect("number"))
        .unwrap_or(9.0);
    for (kind, path) in [
        ("MutatingWebhookConfiguration", "/mutate"),
        ("ValidatingWebhookConfiguration", "/validate"),
    ] {
        let config = find(&docs, kind, "signet-relay");
        let annotation = config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
            .as_str()
            .expect("cert-manager injects the CA");
        let certificate = find(&docs, "Certificate", "signet-relay");
        assert_eq!(
            annotation,
            format!(
                "{}/{}",
                certificate["metadata"]["namespace"].as_str().expect("ns"),
                "signet-relay"
            )
        );
        let webhooks = config["webhooks"].as_array().expect("webhooks");
        assert!(!webhooks.is_empty());
        for hook in webhooks {
            let name = hook["name"].as_str().expect("name");
            assert!(name.contains('.'), "webhook names are qualified: {name}");
            let svc = &hook["clientConfig"]["service"];
            assert_eq!(svc["path"], path, "{kind} {name}");
            assert_eq!(svc["name"], "signet-relay");
            assert_eq!(svc["namespace"], namespace);
            let port = svc["port"].as_u64().unwrap_or(443);
            assert_eq!(
                service_ports.get(&port),
                Some(&listen_port),
                "{kind} {name}: port {port} reaches the relay"
            );
            let timeout = hook["timeoutSeconds"].as_f64().expect("timeoutSeconds");
            assert!((1.0..=30.0).contains(&timeout), "{kind}: timeout {timeout}");
            assert!(
                timeout_flag < timeout,
                "{kind}: the relay's deadline ({timeout_flag}s) is below the webhook timeout ({timeout}s)"
            );
            assert!(
                matches!(hook["failurePolicy"].as_str(), Some("Fail" | "Ignore")),
                "{kind}: failurePolicy"
            );
            assert_eq!(
                hook["failurePolicy"].as_str().map(str::to_lowercase),
                flag_value(&args, "--failure-policy"),
                "{kind}: the relay's own failure policy matches the webhook's"
            );
            assert!(strs(&hook["admissionReviewVersions"]).contains(&"v1".to_string()));
            assert!(matches!(
                hook["sideEffects"].as_str(),
                Some("None" | "NoneOnDryRun")
            ));
            let resources: Vec<String> = hook["rules"]
                .as_array()
                .expect("rules")
                .iter()
                .flat_map(|r| strs(&r["resources"]))
                .collect();
            for r in ["pods", "deployments", "cronjobs"] {
                assert!(resources.contains(&r.to_string()), "{kind} covers {r}");
            }
            let skipped = strs(&hook["namespaceSelector"]["matchExpressions"][0]["values"]);
            assert!(
                skipped.contains(&namespace.to_string()),
                "{kind} skips its own namespace"
            );
        }
    }

    // TLS and token come from Secrets the Deployment mounts where the args point.
    let certificate = find(&docs, "Certificate", "signet-relay");
    let tls_secret = certificate["spec"]["secretName"].as_str().expect("secret");
    let dns = strs(&certificate["spec"]["dnsNames"]);
    assert!(dns.contains(&format!("signet-relay.{namespace}.svc")));
    let volumes = pod["volumes"].as_array().expect("volumes");
    let mounts = container["volumeMounts"].as_array().expect("mounts");
    let mount_of = |secret: &str| -> String {
        let volume = volumes
            .iter()
            .find(|v| v["secret"]["secretName"] == secret)
            .unwrap_or_else(|| panic!("no volume for Secret {secret}"));
        let mount = mounts
            .iter()
            .find(|m| m["name"] == volume["name"])
            .expect("mounted");
        mount["mountPath"].as_str().expect("path").to_string()
    };
    let tls_dir = mount_of(tls_secret);
    assert_eq!(
        flag_value(&args, "--tls-cert"),
        Some(format!("{tls_dir}/tls.crt"))
    );
    assert_eq!(
        flag_value(&args, "--tls-key"),
        Some(format!("{tls_dir}/tls.key"))
    );
    let token_dir = mount_of("signet-relay-token");
    assert!(flag_value(&args, "--token-file")
        .expect("token file")
        .starts_with(&token_dir));

    // The relay reaches the verifier's gRPC Service port.
    let verifier_url = flag_value(&args, "--verifier").expect("--verifier");
    let verifier_service = find(&docs, "Service", "signet-verifier");
    let grpc = verifier_service["spec"]["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .find(|p| p["name"] == "grpc")
        .expect("grpc port");
    assert_eq!(
        verifier_url,
        format!(
            "http://signet-verifier.{}.svc:{}",
            verifier_service["metadata"]["namespace"]
                .as_str()
                .expect("ns"),
            grpc["port"]
        )
    );

    // RBAC: watch Namespaces, bound to the relay's ServiceAccount.
    let role = find(&docs, "ClusterRole", "signet-relay");
    let rule = role["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| strs(&r["resources"]).contains(&"namespaces".to_string()))
        .expect("a rule on namespaces");
    for verb in ["get", "list", "watch"] {
        assert!(strs(&rule["verbs"]).contains(&verb.to_string()));
    }
    let binding = find(&docs, "ClusterRoleBinding", "signet-relay");
    assert_eq!(binding["roleRef"]["name"], "signet-relay");
    assert_eq!(
        binding["subjects"][0]["name"],
        pod["serviceAccountName"].as_str().expect("sa")
    );
}

#[test]
fn verifier_manifests_match_the_verifier_code() {
    let docs = manifests();
    let routes = read(&root().join("services/verifier/src/http/mod.rs"));
    let deployment = find(&docs, "Deployment", "signet-verifier");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    let args = strs(&container["args"]);
    let known = verifier_flags();
    assert_known_flags(&args, &known, "the verifier Deployment");
    for init in pod["initContainers"].as_array().into_iter().flatten() {
        let init_args = strs(&init["args"]);
        assert_eq!(init_args.first().map(String::as_str), Some("migrate"));
    }
    let ports: BTreeMap<String, u64> = container["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_string(),
                p["containerPort"].as_u64().expect("port"),
            )
        })
        .collect();
    let http = flag_value(&args, "--http-addr").expect("--http-addr");
    let grpc = flag_value(&args, "--grpc-addr").expect("--grpc-addr");
    assert!(http.starts_with("0.0.0.0:") && grpc.starts_with("0.0.0.0:"));
    assert_eq!(ports.get("http"), Some(&port_of(&http)));
    assert_eq!(ports.get("grpc"), Some(&port_of(&grpc)));
    for (probe, path) in [
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ] {
        assert_eq!(container[probe]["httpGet"]["path"], path, "{probe}");
        assert_eq!(container[probe]["httpGet"]["port"], "http", "{probe}");
        assert!(
            routes.contains(&format!(".route(\"{path}\"")),
            "{path} is served"
        );
    }
    // Postgres and Redis from Secrets, under the variables the verifier reads.
    let env = container["env"].as_array().expect("env");
    for (var, flag) in [
        ("DATABASE_URL", "--database-url"),
        ("REDIS_URL", "--redis-url"),
    ] {
        assert!(known.contains(flag), "the verifier has {flag}");
        let entry = env
            .iter()
            .find(|e| e["name"] == var)
            .unwrap_or_else(|| panic!("no {var}"));
        assert!(
            entry["valueFrom"]["secretKeyRef"]["name"].is_string(),
            "{var} comes from a Secret"
        );
    }
    assert!(pod["securityContext"]["runAsNonRoot"] == true);

    let service = find(&docs, "Service", "signet-verifier");
    for p in service["spec"]["ports"].as_array().expect("ports") {
        let target = p["targetPort"].as_str().expect("named target port");
        assert_eq!(ports.get(target).copied(), p["port"].as_u64(), "{target}");
    }
    let selector = &deployment["spec"]["selector"]["matchLabels"];
    assert_eq!(&service["spec"]["selector"], selector);
    let hpa = find(&docs, "HorizontalPodAutoscaler", "signet-verifier");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["kind"], "Deployment");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "signet-verifier");
    assert!(hpa["spec"]["minReplicas"].as_u64() >= Some(2));
    let pdb = find(&docs, "PodDisruptionBudget", "signet-verifier");
    assert_eq!(&pdb["spec"]["selector"]["matchLabels"], selector);
}

#[test]
fn compose_runs_the_five_services_wired_together() {
    let compose = documents(&root().join("docker-compose.yml"))
        .pop()
        .expect("a document");
    let services = compose["services"].as_object().expect("services");
    for name in ["postgres", "redis", "registry", "verifier", "relay"] {
        assert!(services.contains_key(name), "compose has no {name}");
    }
    for (name, service) in services {
        if let Some(image) = service["image"].as_str() {
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
            assert!(
                !tag.is_empty() && tag != "latest" && !tag.contains('/'),
                "{name}: image {image} must carry a pinned tag"
            );
        }
        if let Some(dockerfile) = service["build"]["dockerfile"].as_str() {
            assert!(root().join(dockerfile).is_file(), "{name}: {dockerfile}");
        }
    }
    let verifier = &services["verifier"];
    let args = strs(&verifier["command"]);
    assert_known_flags(&args, &verifier_flags(), "compose verifier");
    let grpc_port = port_of(&flag_value(&args, "--grpc-addr").expect("grpc addr"));
    let database = verifier["environment"]["DATABASE_URL"]
        .as_str()
        .expect("db");
    assert!(database.starts_with("postgres://") && database.contains("@postgres:5432/"));
    let redis = verifier["environment"]["REDIS_URL"]
        .as_str()
        .expect("redis");
    assert!(redis.starts_with("redis://redis:6379"));

    let relay = &services["relay"];
    let relay_args = strs(&relay["command"]);
    assert_known_flags(&relay_args, &relay_flags(), "compose relay");
    assert_eq!(
        flag_value(&relay_args, "--verifier"),
        Some(format!("http://verifier:{grpc_port}"))
    );
    let labels = flag_value(&relay_args, "--namespace-labels").expect("labels");
    let file = labels.strip_prefix("/etc/signet/").expect("mounted file");
    let parsed = documents(&root().join("deploy/compose").join(file));
    assert!(parsed[0]["production"]["environment"] == "production");
    let listen = port_of(&flag_value(&relay_args, "--listen").expect("listen"));
    assert!(strs(&relay["ports"])
        .iter()
        .any(|p| p.ends_with(&format!(":{listen}"))));
}

#[test]
fn dockerfiles_are_multi_stage_pinned_and_non_root() {
    for (file, binary, package) in [
        ("verifier.Dockerfile", "signet-verifier", "signet-verifier"),
        ("relay.Dockerfile", "signet-relay", "signet-relay"),
        ("cli.Dockerfile", "signet", "signet"),
    ] {
        let text = read(&root().join("deploy").join(file));
        let froms: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().to_ascii_uppercase().starts_with("FROM "))
            .collect();
        assert!(froms.len() >= 2, "{file}: multi-stage");
        for from in &froms {
            let image = from.split_whitespace().nth(1).expect("image");
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
            assert!(
                !tag.is_empty() && tag != "latest",
                "{file}: base image {image} must carry a pinned tag"
            );
        }
        assert!(
            froms.last().is_some_and(|f| f.contains("distroless")),
            "{file}: small runtime image"
        );
        let user = text
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_prefix("USER "))
            .unwrap_or_else(|| panic!("{file}: no USER"));
        let uid: u32 = user
            .split(':')
            .next()
            .and_then(|u| u.parse().ok())
            .unwrap_or_else(|| panic!("{file}: USER {user} is not numeric"));
        assert_ne!(uid, 0, "{file}: runs as root");
        assert!(
            text.contains(&format!("-p {package} --bin {binary}")),
            "{file}: builds {binary}"
        );
        assert!(text.contains("--locked"), "{file}: builds from Cargo.lock");
        assert!(
            text.contains(&format!("/usr/local/bin/{binary}\"]")),
            "{file}: runs {binary}"
        );
        let ignore = read(&root().join("deploy").join(format!("{file}.dockerignore")));
        assert!(ignore.lines().any(|l| l.trim() == "target"));
    }
    // Inside a cluster the relay learns namespace labels from its watch, which the
    // manifest's RBAC allows: the image must be built with it.
    let relay = read(&root().join("deploy/relay.Dockerfile"));
    assert!(
        relay.contains("--bin signet-relay --features kube"),
        "relay.Dockerfile: build with the `kube` feature"
    );
    // The package names exist in the workspace.
    for (dir, package) in [
        ("services/verifier", "signet-verifier"),
        ("services/relay", "signet-relay"),
        ("services/cli", "signet"),
    ] {
        let manifest = read(&root().join(dir).join("Cargo.toml"));
        assert!(manifest.contains(&format!("name = \"{package}\"")));
    }
}
