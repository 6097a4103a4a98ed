-- Usage analytics: how each use of an API key, and each token request of a
-- client, ended, counted per UTC day. Nodes count in memory and add their
-- counts here in batches (the usage flush), so no request writes a row.
-- Rows older than the retention (90 days by default) are pruned.
-- day: days since 1970-01-01 UTC. outcome: success, invalid, expired,
-- disabled (deactivated or revoked), insufficient_scope, rate_limited.
CREATE TABLE api_key_usage_daily (
    api_key_id  TEXT NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    day         INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (api_key_id, day, outcome)
);
CREATE INDEX api_key_usage_daily_by_day ON api_key_usage_daily (day);

CREATE TABLE client_usage_daily (
    client_id  TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    day        INTEGER NOT NULL,
    outcome    TEXT NOT NULL,
    count      INTEGER NOT NULL,
    PRIMARY KEY (client_id, day, outcome)
);
CREATE INDEX client_usage_daily_by_day ON client_usage_daily (day);

-- The console's key table, paged in each of its orders (newest or oldest
-- first, last used first) by walking one of these indexes.
DROP INDEX api_keys_by_workspace;
CREATE INDEX api_keys_page ON api_keys (workspace_id, created_at, id);
CREATE INDEX api_keys_by_last_use ON api_keys (workspace_id, last_used_at, created_at, id);
