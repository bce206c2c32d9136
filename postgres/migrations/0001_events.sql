-- The sign-in log, the same shape as the SQLite store's: one row per
-- decision; indexed copies of the fields filters name; the whole decision
-- (trace included) as JSON text in bytea: jsonb would let SQL look inside,
-- but parsing it on the server halves COPY's rate; convert_from(decision,
-- 'UTF8')::jsonb gives it back when needed. Times and durations are bigint nanoseconds
-- (Unix nanoseconds for times) rather than timestamptz, which keeps only
-- microseconds: events come back exactly as written and (time, id) cursors
-- mean the same on both stores.
CREATE TABLE events (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	time        bigint   NOT NULL,
	request_id  text     NOT NULL,
	route       text     NOT NULL,
	method      text     NOT NULL,
	outcome     text     NOT NULL,  -- allow | deny
	reason      text     NOT NULL,  -- '' when allowed
	status      integer  NOT NULL,
	claimed     text     NOT NULL,
	subject     text     NOT NULL,  -- the resolved principal, '' when none
	key_id      text     NOT NULL,  -- Principal.KeyID, or Claimed for api_key
	source      text     NOT NULL,  -- the address as text, for people
	source_ip   bytea,              -- 16 bytes, IPv4 mapped into IPv6; NULL when unknown
	user_agent  text     NOT NULL,
	fingerprint text     NOT NULL,
	iss         text     NOT NULL,  -- TokenInfo.Issuer, '' without a token
	skew        bigint,             -- Decision.ClockSkew, NULL when none
	latency     bigint   NOT NULL,
	decision    bytea    NOT NULL   -- encoding/json of authgate.Decision (JSON text)
);

-- Each filter index ends with (time, id), so "one user, last 24 h, newest
-- first, a page of 100" is one backward index range scan that stops after
-- 100 rows, and the (time, id) cursor continues inside the same range.
-- Indexes are the cost of writing (each one about halves COPY's rate), so
-- where most rows would hold an empty or redundant key the index is
-- partial, and the queries repeat its condition so the planner can use it:
-- reason only for refusals, key_id only for API key events, subject only
-- where it differs from the claimed name.
CREATE INDEX events_time        ON events (time, id);
CREATE INDEX events_claimed     ON events (claimed, time, id);
CREATE INDEX events_subject     ON events (subject, time, id) WHERE subject <> claimed;
CREATE INDEX events_key_id      ON events (key_id, time, id) WHERE key_id <> '';
CREATE INDEX events_route       ON events (route, time, id);
CREATE INDEX events_reason      ON events (reason, time, id) WHERE reason <> '';
CREATE INDEX events_request_id  ON events (request_id);
CREATE INDEX events_fingerprint ON events (fingerprint, time, id) WHERE fingerprint <> '';
CREATE INDEX events_source_ip   ON events (source_ip);
CREATE INDEX events_iss         ON events (iss, time) WHERE skew IS NOT NULL;

-- Events dropped because a gateway's spool was full, per reason; every
-- gateway adds to the same counters.
CREATE TABLE dropped (
	reason text   PRIMARY KEY,
	count  bigint NOT NULL
);
