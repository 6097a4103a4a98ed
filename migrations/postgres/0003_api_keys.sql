-- API keys: named, typed, scoped, expiring keys of a workspace. Only a
-- keyed hash of the key is stored; `prefix` (for example sk_19656ea) is
-- the lookup handle shown in listings.
CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    key_type      TEXT NOT NULL CHECK (key_type IN ('secret', 'client', 'read_only')),
    prefix        TEXT NOT NULL UNIQUE,
    key_hash      BYTEA NOT NULL,
    scopes        TEXT NOT NULL,
    rate_limits   TEXT,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    expires_at    BIGINT,
    deactivated   BOOLEAN NOT NULL DEFAULT FALSE,
    revoked_at    BIGINT,
    last_used_at  BIGINT,
    usage_count   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, created_at);

-- Rate limits shared by every node: GCRA's theoretical arrival time (Unix
-- microseconds) per bucket, for example '<key id>:read'.
CREATE TABLE rate_limit_state (
    bucket  TEXT PRIMARY KEY,
    tat     BIGINT NOT NULL
);
