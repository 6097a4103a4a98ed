-- Users and the authorization code flow (RFC 6749 §4.1, OIDC Core §3.1):
-- people who sign in and their roles in workspaces, third-party clients'
-- OAuth settings, browser sessions, consent, authorization codes, refresh
-- tokens, and the access tokens issued from them.
-- Sessions, codes and refresh tokens are keyed by a keyed hash (BLOB) of
-- the value the browser or client holds, never by the value itself.
-- Times are Unix seconds in INTEGER columns, as in the PostgreSQL schema.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    -- Lower-cased before it gets here, so UNIQUE is case-insensitive.
    email          TEXT NOT NULL UNIQUE,
    name           TEXT,
    -- Argon2id PHC string.
    password_hash  TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);

CREATE TABLE memberships (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, workspace_id)
);

-- The OAuth settings of a third-party client, beside its clients row.
-- The URI lists are JSON arrays of strings, in registration order.
CREATE TABLE oauth_clients (
    client_id                  TEXT PRIMARY KEY REFERENCES clients (client_id) ON DELETE CASCADE,
    public                     INTEGER NOT NULL,
    redirect_uris              TEXT NOT NULL,
    post_logout_redirect_uris  TEXT NOT NULL,
    scopes                     TEXT NOT NULL,
    logo_uri                   TEXT,
    id_token_alg               TEXT NOT NULL CHECK (id_token_alg IN ('ES256', 'RS256', 'EdDSA'))
);

CREATE TABLE sessions (
    id_hash     BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time   INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE consents (
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id     TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    scope         TEXT NOT NULL,
    granted_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id, workspace_id)
);

-- A code stays after its exchange, marked 'exchanged', so that a replay is
-- recognised and its family revoked (RFC 6749 §4.1.2).
CREATE TABLE authorization_codes (
    code_hash       BLOB PRIMARY KEY,
    family_id       TEXT NOT NULL,
    client_id       TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    redirect_uri    TEXT NOT NULL,
    scope           TEXT NOT NULL,
    -- RFC 8707 resource indicators the grant is limited to, space-separated.
    resources       TEXT NOT NULL DEFAULT '',
    code_challenge  TEXT NOT NULL,
    nonce           TEXT,
    auth_time       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'exchanged', 'revoked'))
);
-- Revoking a consent finds the families its codes started.
CREATE INDEX authorization_codes_by_grant ON authorization_codes (user_id, client_id, workspace_id);

-- Rotated tokens stay (rotated_at set) so that reuse is recognised and the
-- family revoked (RFC 9700 §4.14.2).
CREATE TABLE refresh_tokens (
    token_hash    BLOB PRIMARY KEY,
    family_id     TEXT NOT NULL,
    client_id     TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    scope         TEXT NOT NULL,
    resources     TEXT NOT NULL DEFAULT '',
    auth_time     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    rotated_at    INTEGER,
    revoked_at    INTEGER
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_grant ON refresh_tokens (user_id, client_id, workspace_id);

-- Access tokens issued to a user's grant, kept until they expire, so that
-- revoking the grant can put them on the denylist (revoked_tokens).
CREATE TABLE issued_access_tokens (
    jti         TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL,
    client_id   TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX issued_access_tokens_by_family ON issued_access_tokens (family_id);
