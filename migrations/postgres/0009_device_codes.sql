-- Device authorizations (RFC 8628): a client without a browser asks for a
-- device code and a user code; the person enters the user code at /device
-- and allows or denies; the client polls the token endpoint with the
-- device code. Both codes are stored only as keyed hashes. A row stays
-- until an hour after expiry, so that a late poll is still answered
-- expired_token and a replay is recognised.
CREATE TABLE device_codes (
    device_code_hash  BYTEA PRIMARY KEY,
    user_code_hash    BYTEA NOT NULL UNIQUE,
    -- The family of the tokens issued from it, as for authorization codes.
    family_id         TEXT NOT NULL,
    client_id         TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scope             TEXT NOT NULL,
    -- RFC 8707 resource indicators of the request, space-separated.
    resources         TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    -- Seconds between polls; grows by 5 on each slow_down (RFC 8628 §3.5).
    poll_interval     BIGINT NOT NULL,
    last_polled_at    BIGINT,
    state             TEXT NOT NULL CHECK (state IN ('pending', 'allowed', 'denied', 'redeemed')),
    -- Set when the person allows it: who, in which workspace, what.
    user_id           TEXT REFERENCES users (id) ON DELETE CASCADE,
    workspace_id      TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    granted_scope     TEXT,
    auth_time         BIGINT
);
CREATE INDEX device_codes_by_expiry ON device_codes (expires_at);
-- Revoking a consent finds the families its device grants started.
CREATE INDEX device_codes_by_grant ON device_codes (user_id, client_id, workspace_id);

-- RFC 8628: the client may use the device authorization grant; off for existing clients.
ALTER TABLE oauth_clients ADD COLUMN device_grant BOOLEAN NOT NULL DEFAULT FALSE;
