-- Account states: disabled users and keys, locks after repeated failures,
-- and passwords an admin marked for change. Times as in 0001.

ALTER TABLE users ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN lock_cause TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN unlocked_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

ALTER TABLE api_keys ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0;
