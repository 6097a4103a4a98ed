-- The console: platform admins, invitations into workspaces, and one-time
-- links (the first-run setup link, password resets). Links and invitations
-- are keyed by a keyed hash of the token the link carries, never by the
-- token itself.

-- A platform admin sees every workspace, user and third-party client.
ALTER TABLE users ADD COLUMN platform_admin INTEGER NOT NULL DEFAULT 0;

CREATE TABLE invitations (
    id            TEXT PRIMARY KEY,
    token_hash    BLOB NOT NULL UNIQUE,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- Lower-cased, as users.email.
    email         TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    invited_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    -- Set once: an invitation works once, and a revoked one never.
    accepted_at   INTEGER,
    accepted_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    revoked_at    INTEGER
);
CREATE INDEX invitations_by_workspace ON invitations (workspace_id, created_at);

-- 'setup' creates the first platform admin (no user_id); 'password_reset'
-- sets a user's password. Each works once, until expires_at.
CREATE TABLE one_time_links (
    token_hash  BLOB PRIMARY KEY,
    purpose     TEXT NOT NULL CHECK (purpose IN ('setup', 'password_reset')),
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);

-- Shown on the account page's list of active sessions.
ALTER TABLE sessions ADD COLUMN ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- When owners were last told that the application secret is due for
-- rotation; a notice goes out once per secret (see rotation notices).
ALTER TABLE clients ADD COLUMN rotation_notice_at INTEGER;
