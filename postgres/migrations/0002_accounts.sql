-- Users, their previous password hashes and API keys, shared by every
-- gateway and the CLI: the same shape and meaning as the SQLite store's
-- tables (sqlite/migrations). Times are bigint Unix nanoseconds, 0 for
-- "not set", for the reason given in 0001: timestamptz keeps only
-- microseconds, and a lock or an expiry must come back exactly as written.
CREATE TABLE users (
	name                 text    PRIMARY KEY,
	password_hash        text    NOT NULL,
	scopes               text[]  NOT NULL DEFAULT '{}',
	created_at           bigint  NOT NULL,
	password_changed_at  bigint  NOT NULL,
	disabled_at          bigint  NOT NULL DEFAULT 0,
	locked_until         bigint  NOT NULL DEFAULT 0,
	locked_at            bigint  NOT NULL DEFAULT 0,
	lock_cause           text    NOT NULL DEFAULT '',
	unlocked_at          bigint  NOT NULL DEFAULT 0,
	must_change_password boolean NOT NULL DEFAULT false
);

CREATE TABLE previous_passwords (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_name   text   NOT NULL REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
	hash        text   NOT NULL,
	replaced_at bigint NOT NULL
);

CREATE INDEX previous_passwords_by_user ON previous_passwords (user_name, replaced_at DESC, id DESC);

CREATE TABLE api_keys (
	id            text   PRIMARY KEY,
	owner         text   NOT NULL,
	secret_hash   bytea  NOT NULL,  -- SHA-256 of the secret part, never the key
	scopes        text[] NOT NULL DEFAULT '{}',
	state         text   NOT NULL CHECK (state IN ('active', 'rotated', 'revoked')),
	successor     text   NOT NULL DEFAULT '',
	created_at    bigint NOT NULL,
	expires_at    bigint NOT NULL DEFAULT 0,
	rotated_at    bigint NOT NULL DEFAULT 0,
	overlap_until bigint NOT NULL DEFAULT 0,
	revoked_at    bigint NOT NULL DEFAULT 0,
	disabled_at   bigint NOT NULL DEFAULT 0
);

-- One row counting changes to the three tables above. Every gateway polls
-- it (one primary-key read a second) and reloads its snapshot when it
-- moved. Triggers bump it, so that changes made with plain SQL (a restore,
-- a hand-made fix) reach the gateways too; and the stores lock it first in
-- each write, so that writers from several gateways take turns and every
-- check they make still holds when they commit.
CREATE TABLE account_changes (
	only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
	version  bigint  NOT NULL
);

INSERT INTO account_changes (version) VALUES (0);

CREATE FUNCTION account_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE account_changes SET version = version + 1;
	RETURN NULL;
END $$;

CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
	FOR EACH STATEMENT EXECUTE FUNCTION account_changed();
CREATE TRIGGER previous_passwords_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON previous_passwords
	FOR EACH STATEMENT EXECUTE FUNCTION account_changed();
CREATE TRIGGER api_keys_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_keys
	FOR EACH STATEMENT EXECUTE FUNCTION account_changed();
