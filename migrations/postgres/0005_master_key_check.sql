-- One value sealed under the master key when the database is set up, so
-- that any process can tell with one decryption whether it holds the key
-- this database was set up with, even before any signing key exists.
CREATE TABLE master_key_check (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    sealed      BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
