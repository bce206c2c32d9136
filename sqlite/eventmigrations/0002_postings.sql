-- Postings instead of per-event filter indexes.
--
-- 0001 kept an index per filter field. Most keys of those indexes are
-- near-random (claimed name, subject, key id, reason, fingerprint, source
-- address), so each batch of 1000 events changed a page in hundreds of
-- places across every index; once the indexes outgrew the cache, every
-- event cost tens of pages written to the WAL and checkpointed back, and
-- the write rate fell from about 30 000 events/s on an empty log to 7 000
-- at a million events.
--
-- What stays indexed per event is appended at one end: time (newest-first
-- pages and time windows) and request_id (the gateway's ids begin with the
-- time; a proxy's ids are one in twenty, the only random inserts left);
-- and iss for events with a skew, which has a handful of values.
-- Route, method and outcome have few values: a filter on them walks
-- events_time and finds a page within a few thousand rows.
DROP INDEX events_claimed;
DROP INDEX events_subject;
DROP INDEX events_key_id;
DROP INDEX events_route;
DROP INDEX events_reason;
DROP INDEX events_fingerprint;
DROP INDEX events_source_ip;

-- The times of each segment's events: a segment is 4096 consecutive ids
-- (id >> 12, signinlog.SegmentBits). A query reads the postings of the
-- segments its time window covers, newest first, and stops once no
-- segment left can hold a newer event than its page's last.
CREATE TABLE event_segments (
	seg      INTEGER PRIMARY KEY,
	min_time INTEGER NOT NULL,
	max_time INTEGER NOT NULL
) STRICT;

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
	seg      INTEGER NOT NULL,
	field    TEXT    NOT NULL,
	value    BLOB    NOT NULL,
	first_id INTEGER NOT NULL,
	ids      BLOB    NOT NULL,
	PRIMARY KEY (seg, field, value, first_id)
) STRICT, WITHOUT ROWID;

-- The events already stored: one posting row per segment and value.
INSERT INTO event_segments (seg, min_time, max_time)
SELECT id >> 12, min(time), max(time) FROM events GROUP BY id >> 12;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'u', v, min(id), unhex(group_concat(printf('%016x', id), '' ORDER BY id))
FROM (SELECT id, CAST(claimed AS BLOB) AS v FROM events WHERE claimed <> ''
      UNION ALL
      SELECT id, CAST(subject AS BLOB) FROM events WHERE subject <> '' AND subject <> claimed)
GROUP BY id >> 12, v;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'k', CAST(key_id AS BLOB), min(id), unhex(group_concat(printf('%016x', id), '' ORDER BY id))
FROM events WHERE key_id <> '' GROUP BY id >> 12, key_id;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'r', CAST(reason AS BLOB), min(id), unhex(group_concat(printf('%016x', id), '' ORDER BY id))
FROM events WHERE reason <> '' GROUP BY id >> 12, reason;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'f', v, min(id), unhex(group_concat(printf('%016x', id), '' ORDER BY id))
FROM (SELECT id, substr(CAST(fingerprint AS BLOB), 1, 2) AS v FROM events WHERE fingerprint <> '')
GROUP BY id >> 12, v;

INSERT INTO event_postings (seg, field, value, first_id, ids)
SELECT id >> 12, 'n', v, min(id), unhex(group_concat(printf('%016x', id), '' ORDER BY id))
FROM (SELECT id, CASE WHEN substr(source_ip, 1, 12) = x'00000000000000000000ffff'
                      THEN substr(source_ip, 1, 15) ELSE substr(source_ip, 1, 6) END AS v
      FROM events WHERE source_ip IS NOT NULL)
GROUP BY id >> 12, v;
