//! Command-line grammar (DESIGN.md, Contracts).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Signet: verify container images against Kyverno policies, once, for the whole fleet.
#[derive(Debug, Parser)]
#[command(name = "signet", version, about)]
pub struct Cli {
    /// Verifier URL for administration commands (else SIGNET_SERVER, else `signet login`'s).
    #[arg(long, global = true, env = "SIGNET_SERVER")]
    pub server: Option<String>,
    /// Bearer token for administration commands (else SIGNET_TOKEN, else `signet login`'s).
    #[arg(long, global = true, env = "SIGNET_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Work with Kyverno policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// JMESPath with the Kyverno functions.
    #[command(subcommand)]
    Jp(JpCommand),
    /// Write a cosign-compatible key pair: PREFIX.key (encrypted with COSIGN_PASSWORD) and PREFIX.pub.
    GenerateKeyPair {
        /// File name prefix.
        #[arg(long, default_value = "cosign")]
        output_key_prefix: String,
    },
    /// Sign an image the way `cosign sign --key` does (no transparency-log upload).
    Sign(SignArgs),
    /// Attach a signed in-toto attestation the way `cosign attest --key` does.
    Attest(AttestArgs),
    /// Verify images with a key (like `cosign verify`) or with Kyverno policies.
    /// Exit 0 when all pass, 1 when any is denied, 2 when Signet could not decide.
    Verify(VerifyArgs),
    /// Verify a Sigstore bundle for a file or a sha256:<hex> digest, offline (the
    /// sigstore-conformance client protocol). Exit 0 verified, 1 not, 2 when Signet could
    /// not decide.
    VerifyBundle(VerifyBundleArgs),
    /// Store the verifier's URL and token given with --server and --token (in the user's
    /// config directory, mode 0600) for later commands.
    Login,
    /// Named keys on the verifier.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Registry credentials on the verifier: its own per registry, or in named sets that
    /// policies name in `imageRegistryCredentials.secrets`.
    #[command(subcommand)]
    RegistryCredentials(RegistryCredentialsCommand),
    /// Clusters on the verifier.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Tokens on the verifier.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Recorded decisions across the fleet.
    Reports(ReportsArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Store a public key under NAMESPACE/NAME (what policies name as `secret`).
    Create {
        /// Key name.
        name: String,
        /// Key namespace.
        #[arg(short = 'n', long)]
        namespace: String,
        /// PEM file.
        #[arg(long)]
        from_file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum RegistryCredentialsCommand {
    /// Store (or replace) the credentials for a registry. The password is read from
    /// standard input with --password-stdin, else prompted for; it is sealed by the
    /// verifier and never shown again.
    Create {
        /// Registry host (`ghcr.io`, `registry.example.com:5000`; `docker.io` for Docker Hub).
        #[arg(long)]
        registry: String,
        /// User name.
        #[arg(long)]
        username: String,
        /// Read the password (or token) from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Store them in this named set: a name that policies write in
        /// `imageRegistryCredentials.secrets` (`regcred`, or `namespace/regcred`). Without
        /// it, they are the verifier's own, used by rules that name no secrets.
        #[arg(long, value_name = "NAME")]
        secret: Option<String>,
    },
    /// List stored credentials (registry, user and set; never a password).
    List,
    /// Delete the credentials for a registry: the verifier's own, or those in --secret NAME.
    Delete {
        /// Registry host.
        #[arg(long)]
        registry: String,
        /// The named set to delete them from.
        #[arg(long, value_name = "NAME")]
        secret: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Register a cluster; prints its relay's token alone on the last line.
    Register {
        /// Cluster name.
        name: String,
        /// Label KEY=VALUE; repeatable.
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
    },
    /// List clusters.
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Revoke a token by id.
    Revoke {
        /// Token id.
        id: String,
    },
}

/// The filters of `GET /v1/reports`, paging, and the output format.
#[derive(Debug, Args)]
pub struct ReportsArgs {
    /// Cluster.
    #[arg(long)]
    pub cluster: Option<String>,
    /// Namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Policy (name, or namespace/name for a namespaced Policy).
    #[arg(long)]
    pub policy: Option<String>,
    /// Image as written in the resource; ending in `*`, every image that starts with the rest
    /// (`ghcr.io/acme/*`).
    #[arg(long)]
    pub image: Option<String>,
    /// Image digest (sha256:…).
    #[arg(long)]
    pub digest: Option<String>,
    /// Result: pass, fail, warn (a fail under Audit), error or skip; fail includes warn.
    #[arg(long, value_parser = ["pass", "fail", "warn", "error", "skip"])]
    pub result: Option<String>,
    /// Decisions from this time on: RFC 3339 (2026-01-31T12:00:00Z) or a duration before
    /// now (90s, 15m, 1h, 7d, 2w, 1h30m).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Decisions before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Decisions per page, newest first (1–1000; default 100, or 1000 with --all).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: Option<u32>,
    /// Start after this cursor (printed on stderr when more decisions follow a page).
    #[arg(long)]
    pub cursor: Option<String>,
    /// Every matching decision: follow the cursor through every page.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "table")]
    pub output: Output,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check policy files; prints one line per error (FILE: document N: field.path: message).
    /// Exit 0 when every file is valid, 2 otherwise.
    Lint {
        /// Policy files (YAML with one or many documents, or JSON).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Create or replace the policies of FILE on the verifier.
    Apply {
        /// Policy file (one or many documents).
        #[arg(short = 'f', long = "filename")]
        file: PathBuf,
    },
    /// Print a stored policy's document.
    Get {
        /// Policy name (or namespace/name).
        name: String,
    },
    /// List stored policies.
    List,
    /// Delete a stored policy.
    Delete {
        /// Policy name (or namespace/name).
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum JpCommand {
    /// Evaluate EXPRESSION over a JSON (or YAML) document read from FILE or stdin; prints the result as JSON.
    Query {
        /// Input file; standard input when absent.
        #[arg(short = 'i', long = "input")]
        input: Option<PathBuf>,
        /// The JMESPath expression.
        expression: String,
    },
}

/// How to reach registries (sign, attest, verify).
#[derive(Debug, Args, Clone)]
pub struct RegistryArgs {
    /// Talk plain HTTP to registries.
    #[arg(long)]
    pub allow_http_registry: bool,
    /// Accept registry TLS certificates without verifying them.
    #[arg(long)]
    pub allow_insecure_registry: bool,
    /// Trust this CA certificate (PEM) for registry TLS; repeatable.
    #[arg(long, value_name = "FILE")]
    pub registry_ca: Vec<PathBuf>,
    /// Registry user name (else the Docker config's credentials are used).
    #[arg(long, env = "SIGNET_REGISTRY_USERNAME")]
    pub registry_username: Option<String>,
    /// Registry password or token.
    #[arg(long, env = "SIGNET_REGISTRY_PASSWORD", hide_env_values = true)]
    pub registry_password: Option<String>,
    /// Seconds to wait for one registry request.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub registry_timeout: u64,
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// Private key (cosign's encrypted format; password from COSIGN_PASSWORD).
    #[arg(long)]
    pub key: PathBuf,
    /// Annotation KEY=VALUE to sign into the payload; repeatable.
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The image (tag or digest).
    pub image: String,
}

#[derive(Debug, Args)]
pub struct AttestArgs {
    /// Private key (cosign's encrypted format; password from COSIGN_PASSWORD).
    #[arg(long)]
    pub key: PathBuf,
    /// Predicate type: slsaprovenance, slsaprovenance1, vuln, spdxjson, cyclonedx, custom, or a URI.
    #[arg(long = "type", default_value = "custom")]
    pub predicate_type: String,
    /// The predicate (JSON file).
    #[arg(long)]
    pub predicate: PathBuf,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The image (tag or digest).
    pub image: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Public key(s) (PEM); any one key that verifies suffices.
    #[arg(long, conflicts_with = "policy", required_unless_present = "policy")]
    pub key: Option<PathBuf>,
    /// Kyverno policy files; images are judged as a Pod in --namespace.
    #[arg(long, num_args = 1..)]
    pub policy: Vec<PathBuf>,
    /// With --key: accept signatures that are not in the transparency log.
    #[arg(long)]
    pub insecure_ignore_tlog: bool,
    /// With --policy: the namespace the Pod would run in.
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    /// With --policy: a label of that namespace, KEY=VALUE; repeatable.
    #[arg(long = "namespace-label", value_name = "KEY=VALUE")]
    pub namespace_labels: Vec<String>,
    /// A key that policies name as `secret: {namespace, name}`: NAMESPACE/NAME=PEMFILE; repeatable.
    #[arg(long = "secret", value_name = "NAMESPACE/NAME=FILE")]
    pub secrets: Vec<String>,
    /// With --policy: registry credentials that policies name in
    /// `imageRegistryCredentials.secrets`, NAME=FILE where FILE is a Docker config
    /// (`{"auths": {HOST: {"auth": base64(user:password)}}}` or `username`/`password`
    /// fields, as `docker login` writes it); repeatable. A rule naming secrets reads each
    /// registry with the first named set holding it, and only with those (not with the
    /// --registry-username or Docker config credentials); a rule naming a secret not given
    /// here is an error.
    #[arg(long = "registry-secret", value_name = "NAME=FILE")]
    pub registry_secrets: Vec<String>,
    /// Trust root (trusted_root.json) instead of the embedded Sigstore public-good root.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// With --policy: a trust root that policies name in their `signet.dev/trust-root`
    /// annotation, NAME=FILE (a trusted_root.json); repeatable.
    #[arg(long = "trust-root", value_name = "NAME=FILE")]
    pub trust_roots: Vec<String>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "table")]
    pub output: Output,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Images to verify.
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VerifyBundleArgs {
    /// The Sigstore bundle (JSON, v0.1 to v0.3).
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// The identity (SAN) the signing certificate must be issued to.
    #[arg(long, requires = "certificate_oidc_issuer", conflicts_with = "key")]
    pub certificate_identity: Option<String>,
    /// The OIDC issuer the signing certificate must name.
    #[arg(long, requires = "certificate_identity", conflicts_with = "key")]
    pub certificate_oidc_issuer: Option<String>,
    /// A public key (PEM), for bundles signed with a key instead of a certificate.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "certificate_identity"
    )]
    pub key: Option<PathBuf>,
    /// A trusted_root.json instead of the embedded Sigstore public-good root.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    /// Use the Sigstore staging instance: its root is not embedded, so this needs
    /// --trusted-root with the staging trusted_root.json.
    #[arg(long)]
    pub staging: bool,
    /// The artifact: a file, or sha256:<hex> of it.
    #[arg(value_name = "FILE_OR_DIGEST")]
    pub artifact: String,
}
