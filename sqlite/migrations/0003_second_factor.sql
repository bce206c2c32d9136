-- Second factors: a user's sealed TOTP secret (NULL until it enrolls; the
-- caller encrypts it, the store keeps the bytes as given), when it
-- enrolled, when its sessions were last revoked, and the digests of its
-- unused recovery codes. Times as in 0001.
--
-- Recovery codes have a table of their own rather than a column of
-- users: using one is then a single DELETE of one row, which the database
-- makes atomic (two gateways racing with the same code see one row
-- deleted between them) without reading and rewriting a list; the primary
-- key refuses a repeated digest; and ON DELETE CASCADE removes them with
-- their user, as previous_passwords are. position keeps them in the order
-- they were enrolled in.

ALTER TABLE users ADD COLUMN totp_secret BLOB CHECK (totp_secret IS NULL OR length(totp_secret) > 0);
ALTER TABLE users ADD COLUMN totp_enrolled_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN sessions_revoked_at INTEGER NOT NULL DEFAULT 0;

CREATE TABLE recovery_codes (
	user_name TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE ON UPDATE CASCADE,
	position  INTEGER NOT NULL,
	digest    BLOB    NOT NULL CHECK (length(digest) BETWEEN 1 AND 64),
	PRIMARY KEY (user_name, digest)
) STRICT;
