-- Users, their previous password hashes, and API keys.
-- Times are UTC Unix nanoseconds; 0 means "not set".
-- Scopes are stored space-separated (a scope never contains whitespace).

CREATE TABLE users (
	name                TEXT PRIMARY KEY,
	password_hash       TEXT NOT NULL,
	scopes              TEXT NOT NULL DEFAULT '',
	created_at          INTEGER NOT NULL,
	password_changed_at INTEGER NOT NULL
) STRICT;

CREATE TABLE previous_passwords (
	id          INTEGER PRIMARY KEY,
	user_name   TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
	hash        TEXT NOT NULL,
	replaced_at INTEGER NOT NULL
) STRICT;

CREATE INDEX previous_passwords_by_user ON previous_passwords (user_name, replaced_at DESC);

CREATE TABLE api_keys (
	id            TEXT PRIMARY KEY,
	owner         TEXT NOT NULL,
	secret_hash   BLOB NOT NULL,
	scopes        TEXT NOT NULL DEFAULT '',
	state         TEXT NOT NULL CHECK (state IN ('active', 'rotated', 'revoked')),
	successor     TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	expires_at    INTEGER NOT NULL DEFAULT 0,
	rotated_at    INTEGER NOT NULL DEFAULT 0,
	overlap_until INTEGER NOT NULL DEFAULT 0,
	revoked_at    INTEGER NOT NULL DEFAULT 0
) STRICT;
