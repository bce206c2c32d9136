-- The sign-in log. One row per decision; the indexed columns are copies of
-- decision fields that filters name, the decision column holds the whole
-- decision (trace included) as JSON. Times and durations are nanoseconds
-- (Unix nanoseconds for times), so events come back exactly as written.
CREATE TABLE events (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	time        INTEGER NOT NULL,
	request_id  TEXT    NOT NULL,
	route       TEXT    NOT NULL,
	method      TEXT    NOT NULL,
	outcome     TEXT    NOT NULL,   -- allow | deny
	reason      TEXT    NOT NULL,   -- '' when allowed
	status      INTEGER NOT NULL,
	claimed     TEXT    NOT NULL,
	subject     TEXT    NOT NULL,   -- the resolved principal, '' when none
	key_id      TEXT    NOT NULL,   -- Principal.KeyID, or Claimed for api_key
	source      TEXT    NOT NULL,   -- the address as text, for people
	source_ip   BLOB,               -- 16 bytes, IPv4 mapped into IPv6; NULL when unknown
	user_agent  TEXT    NOT NULL,
	fingerprint TEXT    NOT NULL,
	iss         TEXT    NOT NULL,   -- TokenInfo.Issuer, '' without a token
	skew        INTEGER,            -- Decision.ClockSkew, NULL when none
	latency     INTEGER NOT NULL,
	decision    BLOB    NOT NULL    -- encoding/json of authgate.Decision
) STRICT;

-- Every index implicitly ends with the rowid (id), so "one user, last 24 h,
-- newest first, a page of 100" walks one index range backwards and stops
-- after 100 rows; the (time, id) cursor continues inside the same range.
-- Indexes are the cost of writing, so where most rows would hold an empty
-- or redundant key the index is partial, and the queries repeat its
-- condition verbatim so SQLite uses it: reason only for refusals, key_id
-- only for API key events, subject only where it differs from the claimed
-- name.
CREATE INDEX events_time        ON events (time);
CREATE INDEX events_claimed     ON events (claimed, time);
CREATE INDEX events_subject     ON events (subject, time) WHERE subject <> claimed;
CREATE INDEX events_key_id      ON events (key_id, time) WHERE key_id <> '';
CREATE INDEX events_route       ON events (route, time);
CREATE INDEX events_reason      ON events (reason, time) WHERE reason <> '';
CREATE INDEX events_request_id  ON events (request_id);
CREATE INDEX events_fingerprint ON events (fingerprint, time) WHERE fingerprint <> '';
CREATE INDEX events_source_ip   ON events (source_ip);
CREATE INDEX events_iss         ON events (iss, time) WHERE skew IS NOT NULL;

-- Events dropped because the spool was full, per reason; RecordDropped adds.
CREATE TABLE dropped (
	reason TEXT    PRIMARY KEY,
	count  INTEGER NOT NULL
) STRICT;
