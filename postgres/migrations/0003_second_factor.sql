-- Second factors, the same shape and meaning as the SQLite store's
-- (sqlite/migrations/0003_second_factor.sql): a user's sealed TOTP secret
-- (NULL until it enrolls; the caller encrypts it, the store keeps the
-- bytes as given), when it enrolled, when its sessions were last revoked,
-- and the digests of its unused recovery codes. Times as in 0002.
ALTER TABLE users
	ADD COLUMN totp_secret         bytea  CHECK (octet_length(totp_secret) > 0),
	ADD COLUMN totp_enrolled_at    bigint NOT NULL DEFAULT 0,
	ADD COLUMN sessions_revoked_at bigint NOT NULL DEFAULT 0;

-- Recovery codes have a table of their own rather than a bytea[] column:
-- using one is a single DELETE of one row, so that when two gateways race
-- with the same code the second DELETE waits for the first one's row lock
-- and then finds nothing, with no list to read and rewrite; the primary
-- key refuses a repeated digest; and ON DELETE CASCADE removes them with
-- their user. position keeps them in the order they were enrolled in.
CREATE TABLE recovery_codes (
	user_name text    NOT NULL REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
	position  integer NOT NULL,
	digest    bytea   NOT NULL CHECK (octet_length(digest) BETWEEN 1 AND 64),
	PRIMARY KEY (user_name, digest)
);

-- Every gateway reloads its snapshot when a code is used or enrolled, as
-- for the tables of 0002.
CREATE TRIGGER recovery_codes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON recovery_codes
	FOR EACH STATEMENT EXECUTE FUNCTION account_changed();
