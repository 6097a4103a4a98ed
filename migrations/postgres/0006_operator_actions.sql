-- An operator can disable a user without deleting them: a disabled user
-- cannot sign in, and every grant they had was ended when it happened.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
