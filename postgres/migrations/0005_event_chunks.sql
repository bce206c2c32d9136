-- The sign-in log in chunks: a row per run of up to 32 events with
-- consecutive ids (signinlog.ChunkEvents, signinlog/chunk.go) instead of
-- a row per event.
--
-- A row per event cost the server about 10 µs of CPU per event (a tuple of
-- 19 columns, three index entries) and the client as much again, which
-- held one gateway near 60 000 events/s on two cores, short of the
-- 100 000 the sign-in log is built for. A chunk row holds the events'
-- heads (the fields filters, counts and the order read) and their
-- decisions, each part compressed as a whole; filters read the heads and
-- decode only the page's decisions. Request ids and the issuers of
-- events with a clock skew, which had an index of their own, are found
-- through postings (fields q and i) like the other filter fields.
CREATE TABLE event_chunks (
	first_id bigint  PRIMARY KEY,
	last_id  bigint  NOT NULL,
	min_time bigint  NOT NULL,
	max_time bigint  NOT NULL,
	count    integer NOT NULL,
	heads    bytea,           -- NULL for an event kept as before: docs is its stored decision
	docs     bytea   NOT NULL
);

-- The next event id. A batch draws its ids as one range with one update,
-- in a transaction of its own (Write): a nextval per event cost the
-- server a microsecond each, and a range makes the batch's chunks full.
-- New ids start at 2^62, apart from those of the events table's sequence,
-- which gateways of an older version still draw from during a rolling
-- upgrade (nothing of theirs is locked or altered here, so they cannot
-- deadlock with this migration, and no id can be drawn twice).
CREATE TABLE event_ids (next bigint NOT NULL);
INSERT INTO event_ids (next) VALUES (4611686018427387904);

-- Both parts are compressed already: TOAST must not try again. Nor on
-- posting lists, whose ids compress a little for a sixth of the server's
-- CPU: a packed row of request ids is larger than TOAST's 2 KB threshold.
ALTER TABLE event_chunks ALTER COLUMN heads SET STORAGE EXTERNAL, ALTER COLUMN docs SET STORAGE EXTERNAL;
ALTER TABLE event_postings ALTER COLUMN ids SET STORAGE EXTERNAL;

-- Newest first: chunks by their newest event. Purge: chunks by their
-- oldest.
CREATE INDEX event_chunks_newest ON event_chunks (max_time, first_id);
CREATE INDEX event_chunks_oldest ON event_chunks (min_time);
-- Events kept a row each, as below, which Purge packs into chunks.
CREATE INDEX event_chunks_single ON event_chunks (first_id) WHERE heads IS NULL;

-- The events already stored: a chunk of one each, their stored decision
-- as it was (the store packs them into chunks on its first purge, which
-- runs when a gateway starts), and postings for their request ids and
-- skews.
INSERT INTO event_chunks (first_id, last_id, min_time, max_time, count, heads, docs)
SELECT id, id, time, time, 1, NULL, decision FROM events;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'q', convert_to(request_id, 'UTF8'), min(id), string_agg(int8send(id), ''::bytea ORDER BY id)
FROM events WHERE request_id <> '' GROUP BY id >> 12, request_id;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'i', convert_to(iss, 'UTF8'), min(id), string_agg(int8send(id), ''::bytea ORDER BY id)
FROM events WHERE skew IS NOT NULL AND iss <> '' GROUP BY id >> 12, iss;

DELETE FROM events;
DROP TRIGGER events_postings_for_older_writers ON events;
DROP FUNCTION event_postings_for_older_writers();
DROP INDEX events_time, events_request_id, events_iss;

-- The events table stays for gateways of an older version still running
-- while the newer ones start (a rolling upgrade): they insert there, and
-- this trigger keeps each of their events as a chunk of one instead, with
-- the postings they do not write: request id and skew always, every other
-- field for writers older than postings (those that post their own say so
-- with SET LOCAL authgate.postings = 'written'). Their ids come from
-- events_id_seq, below the new ones.
CREATE FUNCTION events_into_chunks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO event_chunks (first_id, last_id, min_time, max_time, count, heads, docs)
	VALUES (NEW.id, NEW.id, NEW.time, NEW.time, 1, NULL, NEW.decision);
	INSERT INTO event_postings (seg, field, value, first_id, ids)
	SELECT NEW.id >> 12, k.field, k.value, NEW.id, int8send(NEW.id)
	FROM (VALUES
		('q', convert_to(NEW.request_id, 'UTF8')),
		('i', CASE WHEN NEW.skew IS NOT NULL THEN convert_to(NEW.iss, 'UTF8') END)
	) AS k (field, value)
	WHERE k.value <> ''::bytea;
	IF current_setting('authgate.postings', true) IS DISTINCT FROM 'written' THEN
		INSERT INTO event_segments (seg, min_time, max_time) VALUES (NEW.id >> 12, NEW.time, NEW.time)
		ON CONFLICT (seg) DO UPDATE SET min_time = least(event_segments.min_time, excluded.min_time),
			max_time = greatest(event_segments.max_time, excluded.max_time);
		INSERT INTO event_postings (seg, field, value, first_id, ids)
		SELECT NEW.id >> 12, k.field, k.value, NEW.id, int8send(NEW.id)
		FROM (VALUES
			('u', convert_to(NEW.claimed, 'UTF8')),
			('u', CASE WHEN NEW.subject <> NEW.claimed THEN convert_to(NEW.subject, 'UTF8') END),
			('k', convert_to(NEW.key_id, 'UTF8')),
			('r', convert_to(NEW.reason, 'UTF8')),
			('f', substring(convert_to(NEW.fingerprint, 'UTF8') FROM 1 FOR 2)),
			('n', CASE WHEN substring(NEW.source_ip FROM 1 FOR 12) = '\x00000000000000000000ffff'::bytea
			           THEN substring(NEW.source_ip FROM 1 FOR 15) ELSE substring(NEW.source_ip FROM 1 FOR 6) END)
		) AS k (field, value)
		WHERE k.value <> ''::bytea;
	END IF;
	RETURN NULL;
END $$;

CREATE TRIGGER events_into_chunks BEFORE INSERT ON events FOR EACH ROW
	EXECUTE FUNCTION events_into_chunks();

ANALYZE event_chunks, event_postings;
