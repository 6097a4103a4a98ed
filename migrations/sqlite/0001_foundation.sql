-- Foundation schema: workspaces, their application clients and secrets,
-- signing keys (sealed under the master key) and the sync epochs that let
-- every node notice credential and key changes.
-- Times are Unix seconds in INTEGER columns, as in the PostgreSQL schema.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id          TEXT PRIMARY KEY,
    workspace_id       TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    kind               TEXT NOT NULL,
    name               TEXT NOT NULL,
    secret_rotated_at  INTEGER,
    tokens_issued      INTEGER NOT NULL DEFAULT 0,
    last_used_at       INTEGER,
    created_at         INTEGER NOT NULL
);

-- A workspace has exactly one application token.
CREATE UNIQUE INDEX clients_one_application_per_workspace
    ON clients (workspace_id) WHERE kind = 'application';

-- Secret history: the current secret has expires_at NULL; a superseded one
-- keeps working until expires_at (the rotation grace period).
CREATE TABLE client_secrets (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    secret_hash   BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    last_used_at  INTEGER
);
CREATE INDEX client_secrets_by_client ON client_secrets (client_id);

CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    alg          TEXT NOT NULL CHECK (alg IN ('ES256', 'RS256', 'EdDSA')),
    private_key  BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    retired_at   INTEGER
);

CREATE TABLE sync_epochs (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    credentials   INTEGER NOT NULL,
    signing_keys  INTEGER NOT NULL
);
INSERT INTO sync_epochs (id, credentials, signing_keys) VALUES (1, 0, 0);
