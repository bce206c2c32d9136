-- The sign-in log: postings instead of per-event filter indexes, as in the
-- SQLite store (sqlite/eventmigrations/0002_postings.sql).
--
-- 0001 kept a B-tree per filter field; each costs a few microseconds of the
-- server's time per event, and seven of them on near-random keys made COPY
-- four times slower than into the table alone (25 000 against 100 000
-- rows/s on two cores). What stays indexed per event is cheap: the key,
-- time (appended at the end), request_id (the gateway's ids begin with the
-- time) and iss for events with a skew. Route, method and outcome have few
-- values: a filter on them walks events_time and finds a page within a few
-- thousand rows.
DROP INDEX events_claimed, events_subject, events_key_id, events_route, events_reason,
	events_fingerprint, events_source_ip;

-- The times of each segment's events: a segment is 4096 consecutive ids
-- (id >> 12, signinlog.SegmentBits). A query reads the postings of the
-- segments its time window covers, newest first, and stops once no
-- segment left can hold a newer event than its page's last.
CREATE TABLE event_segments (
	seg      bigint PRIMARY KEY,
	min_time bigint NOT NULL,
	max_time bigint NOT NULL
);

-- Postings: per segment, batch and filter value, the ids of the batch's
-- events with that value (ids: 8-byte big-endian, ascending), instead of
-- an index entry per event and field. The key starts with the segment, so
-- a batch's rows all go into the newest segment's few pages, whatever the
-- log's size. Fields (signinlog.PostingKeys): u the claimed name and a
-- subject that differs from it, k the key id, r the reason of a refusal,
-- f the first two bytes of the fingerprint, n the /24 (IPv4) or /48
-- (IPv6) of the source. A batch of 128 events or more packs its values:
-- per field in upper case, 16 rows whose value is a hash bucket
-- (signinlog.PackBucket) and whose ids list each value of the bucket with
-- its ids (signinlog.PostedIDs). A query checks each candidate against
-- every condition of its filter.
CREATE TABLE event_postings (
	seg      bigint NOT NULL,
	field    text   NOT NULL,
	value    bytea  NOT NULL,
	first_id bigint NOT NULL,
	ids      bytea  NOT NULL,
	PRIMARY KEY (seg, field, value, first_id)
);

-- The events already stored: one posting row per segment and value.
INSERT INTO event_segments (seg, min_time, max_time)
SELECT id >> 12, min(time), max(time) FROM events GROUP BY id >> 12;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'u', v, min(id), string_agg(int8send(id), ''::bytea ORDER BY id)
FROM (SELECT id, convert_to(claimed, 'UTF8') AS v FROM events WHERE claimed <> ''
      UNION ALL
      SELECT id, convert_to(subject, 'UTF8') FROM events WHERE subject <> '' AND subject <> claimed) AS u
GROUP BY id >> 12, v;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'k', convert_to(key_id, 'UTF8'), min(id), string_agg(int8send(id), ''::bytea ORDER BY id)
FROM events WHERE key_id <> '' GROUP BY id >> 12, key_id;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'r', convert_to(reason, 'UTF8'), min(id), string_agg(int8send(id), ''::bytea ORDER BY id)
FROM events WHERE reason <> '' GROUP BY id >> 12, reason;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'f', v, min(id), string_agg(int8send(id), ''::bytea ORDER BY id)
FROM (SELECT id, substring(convert_to(fingerprint, 'UTF8') FROM 1 FOR 2) AS v FROM events WHERE fingerprint <> '') AS f
GROUP BY id >> 12, v;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'n', v, min(id), string_agg(int8send(id), ''::bytea ORDER BY id)
FROM (SELECT id, CASE WHEN substring(source_ip FROM 1 FOR 12) = '\x00000000000000000000ffff'::bytea
                      THEN substring(source_ip FROM 1 FOR 15) ELSE substring(source_ip FROM 1 FOR 6) END AS v
      FROM events WHERE source_ip IS NOT NULL) AS n
GROUP BY id >> 12, v;

ANALYZE event_segments, event_postings;

-- Gateways of an older version, still running while the newer ones start
-- (a rolling upgrade), keep writing events without postings, and filters
-- would never find those. This trigger posts them, one row per value and
-- event: slow, but only for writers that do not post their own, which say
-- so with SET LOCAL authgate.postings = 'written'.
CREATE FUNCTION event_postings_for_older_writers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
	RETURN NULL;
END $$;

CREATE TRIGGER events_postings_for_older_writers AFTER INSERT ON events FOR EACH ROW
	WHEN (current_setting('authgate.postings', true) IS DISTINCT FROM 'written')
	EXECUTE FUNCTION event_postings_for_older_writers();
