-- The sign-in log in chunks, as PostgreSQL keeps it
-- (postgres/migrations/0005_event_chunks.sql, signinlog/chunk.go): a row
-- per run of up to 32 events with consecutive ids instead of a row per
-- event.
--
-- A row per event cost about 12 µs of the writer's CPU per event (19
-- values bound through the driver, a row and three index entries), most of
-- what the sign-in log adds to a forward-auth check. A chunk row holds the
-- events' heads (the fields filters, counts and the order read) and their
-- decisions, each part compressed as a whole; filters read the heads and
-- decode only the page's decisions. Request ids and the issuers of events
-- with a clock skew, which had an index of their own, are found through
-- postings (fields q and i) like the other filter fields.
CREATE TABLE event_chunks (
	first_id INTEGER PRIMARY KEY,
	last_id  INTEGER NOT NULL,
	min_time INTEGER NOT NULL,
	max_time INTEGER NOT NULL,
	count    INTEGER NOT NULL,
	heads    BLOB,             -- NULL for an event kept as before: docs is its stored decision
	docs     BLOB    NOT NULL
) STRICT;

-- Newest first: chunks by their newest event. Purge: chunks by their
-- oldest. Events kept a row each, which Purge packs into chunks.
CREATE INDEX event_chunks_newest ON event_chunks (max_time, first_id);
CREATE INDEX event_chunks_oldest ON event_chunks (min_time);
CREATE INDEX event_chunks_single ON event_chunks (first_id) WHERE heads IS NULL;

-- The next event id: a batch draws its ids as one range.
CREATE TABLE event_ids (next INTEGER NOT NULL) STRICT;
INSERT INTO event_ids (next)
SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), coalesce((SELECT max(id) FROM events), 0)) + 1;

-- The events already stored: a chunk of one each, their stored decision
-- as it was (the store packs them into chunks on its first purge, which
-- runs when the gateway starts), and postings for their request ids and
-- skews.
INSERT INTO event_chunks (first_id, last_id, min_time, max_time, count, heads, docs)
SELECT id, id, time, time, 1, NULL, decision FROM events;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'q', CAST(request_id AS BLOB), min(id), unhex(group_concat(printf('%016x', id), '' ORDER BY id))
FROM events WHERE request_id <> '' GROUP BY id >> 12, request_id;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'i', CAST(iss AS BLOB), min(id), unhex(group_concat(printf('%016x', id), '' ORDER BY id))
FROM events WHERE skew IS NOT NULL AND iss <> '' GROUP BY id >> 12, iss;

DROP TABLE events;
