-- Revocation, the legacy appkey option and the audit log.

-- Access tokens revoked one by one (RFC 7009), kept until they expire.
CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_by_expiry ON revoked_tokens (expires_at);

-- Every token a client was issued before this time is revoked.
ALTER TABLE clients ADD COLUMN tokens_revoked_before BIGINT;

-- Operators may let old integrations send the application key alone.
ALTER TABLE workspaces ADD COLUMN allow_appkey_only BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE audit_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   BIGINT NOT NULL,
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
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Moves whenever a token or a client's tokens are revoked.
ALTER TABLE sync_epochs ADD COLUMN revocations BIGINT NOT NULL DEFAULT 0;
