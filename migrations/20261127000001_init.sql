-- Signet store schema. The same file runs on PostgreSQL and on SQLite (the
-- embedded store), so it keeps to what both accept: TEXT ids made by the
-- service, times as BIGINT unix milliseconds, booleans as BIGINT 0/1, JSON as
-- TEXT, no SERIAL / AUTOINCREMENT, no engine-specific types.
--
-- Later migrations only add (tables, nullable or defaulted columns, indexes):
-- during a rolling upgrade, replicas of the previous release keep running
-- against the newer schema. Never edit an applied migration; add a new file.

-- Policies: the document as submitted, verbatim, and its parsed form (JSON).
-- `name` is the qualified name: `name` (ClusterPolicy) or `namespace/name` (Policy).
CREATE TABLE policies (
    name        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    namespace   TEXT,
    document    TEXT NOT NULL,
    parsed      TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- The last version handed out per policy name. Outlives the policy, so a
-- re-created policy never reuses a version that decisions already refer to.
CREATE TABLE policy_versions (
    name     TEXT PRIMARY KEY,
    version  BIGINT NOT NULL
);

-- Every version of every policy document, for reports: a decision's
-- (policy, policy_version) names exactly one row here.
CREATE TABLE policy_revisions (
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    namespace   TEXT,
    document    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);

-- Public keys, named like the Kubernetes Secrets Kyverno reads them from.
-- Public material only.
CREATE TABLE public_keys (
    namespace   TEXT NOT NULL,
    name        TEXT NOT NULL,
    pem         TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (namespace, name)
);

-- Private trust roots (Fulcio CAs, Rekor and CT log keys) as JSON documents.
CREATE TABLE trust_roots (
    name        TEXT PRIMARY KEY,
    document    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Registry credentials. The secret is encrypted by the service before it gets
-- here; the store never sees it in clear.
CREATE TABLE registry_credentials (
    registry           TEXT PRIMARY KEY,
    username           TEXT NOT NULL,
    secret_ciphertext  TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

-- Clusters whose relays call the verifier. `labels` is a JSON object.
CREATE TABLE clusters (
    name           TEXT PRIMARY KEY,
    labels         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_seen      BIGINT,
    relay_version  TEXT
);

-- API tokens (the JWT's id, never the JWT). No foreign key to clusters: deleting
-- a cluster revokes its tokens and keeps them for the record.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    role         TEXT NOT NULL,
    cluster      TEXT,
    description  TEXT,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    revoked      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_cluster ON tokens (cluster);
CREATE INDEX tokens_role ON tokens (role);

-- Every admission decision, one row per (resource, image, policy, rule).
-- `action` is the rule's failure action (enforce | audit): a fail under audit
-- is reported as a warning. No foreign keys: reports outlive clusters and policies.
CREATE TABLE decisions (
    id              TEXT PRIMARY KEY,
    time            BIGINT NOT NULL,
    cluster         TEXT NOT NULL,
    namespace       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    operation       TEXT NOT NULL,
    image           TEXT NOT NULL,
    digest          TEXT,
    policy          TEXT NOT NULL,
    policy_version  BIGINT NOT NULL,
    rule            TEXT NOT NULL,
    result          TEXT NOT NULL,
    action          TEXT NOT NULL,
    message         TEXT NOT NULL,
    dry_run         BIGINT NOT NULL DEFAULT 0
);
-- Pages are read newest first by (time, id); the filtered forms lead with the filter.
CREATE INDEX decisions_time ON decisions (time DESC, id DESC);
CREATE INDEX decisions_cluster_time ON decisions (cluster, time DESC, id DESC);
CREATE INDEX decisions_policy_time ON decisions (policy, time DESC, id DESC);
CREATE INDEX decisions_image ON decisions (image);
CREATE INDEX decisions_digest ON decisions (digest);

-- Service settings written once (the JWT signing key generated at first start).
CREATE TABLE settings (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
