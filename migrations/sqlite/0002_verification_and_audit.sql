-- Revocation, the legacy appkey option and the audit log.

-- Access tokens revoked one by one (RFC 7009), kept until they expire.
CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

-- Every token a client was issued before this time is revoked.
ALTER TABLE clients ADD COLUMN tokens_revoked_before INTEGER;

-- Operators may let old integrations send the application key alone.
ALTER TABLE workspaces ADD COLUMN allow_appkey_only INTEGER NOT NULL DEFAULT 0;

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    occurred_at   INTEGER NOT NULL,
    event         TEXT NOT NULL,
    actor_type    TEXT NOT NULL,
    actor_id      TEXT,
    workspace_id  TEXT,
    ip            TEXT,
    user_agent    TEXT,
    details       TEXT NOT NULL
);
CREATE INDEX audit_log_by_workspace ON audit_log (workspace_id, id);

-- Append-only.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Moves whenever a token or a client's tokens are revoked.
ALTER TABLE sync_epochs ADD COLUMN revocations INTEGER NOT NULL DEFAULT 0;
