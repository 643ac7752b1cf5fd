-- Named registry-credential sets: what Kyverno reads from the
-- kubernetes.io/dockerconfigjson Secrets that a verifyImages entry names in
-- imageRegistryCredentials.secrets. `name` is the string the policy writes
-- (`regcred`, or `namespace/regcred`); one row per registry of the set. The
-- password is sealed by the service, bound to both `name` and `registry`, before
-- it gets here; the store never sees it in clear.
--
-- Only adds (see the header of 20261127000001_init.sql).
CREATE TABLE registry_credential_sets (
    name               TEXT NOT NULL,
    registry           TEXT NOT NULL,
    username           TEXT NOT NULL,
    secret_ciphertext  TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    PRIMARY KEY (name, registry)
);
