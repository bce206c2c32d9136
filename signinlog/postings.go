package signinlog

import (
	"cmp"
	"slices"
	"strings"
)

// Stores do not index the filter fields event by event: an index entry per
// event and field, at a random place in a large index, made writes slow
// down as the log grew. They keep postings instead: per segment of
// SegmentEvents consecutive event ids, rows that list, for a batch and a
// posting key (a field and a value), the ids of the batch's events with
// that value (Postings; a large batch packs its keys, PackFrom). A
// batch's postings go into its own segment, a small part of the table,
// whatever the log's size; a query reads the postings of the segments
// whose times it covers, newest segment first (NewestInSegments), and
// checks every candidate against its whole filter.

// SegmentBits sets the segment size: SegmentEvents = 1<<SegmentBits.
const SegmentBits = 12

// SegmentEvents is how many consecutive event ids a segment holds.
const SegmentEvents = 1 << SegmentBits

// Segment returns the segment of the event with id id.
func Segment(id int64) int64 { return id >> SegmentBits }

// The fields postings are kept for, as PostingKey.Field.
const (
	PostUser        = "u" // the claimed name, and the subject where it differs
	PostKey         = "k" // KeyID
	PostReason      = "r" // refusals only
	PostFingerprint = "f" // FingerprintBucket of the fingerprint
	PostNetwork     = "n" // NetworkBucket of the source address
	// Only with Postings.Lookups, for stores without an index per event:
	PostRequestID = "q" // the request id
	PostSkew      = "i" // the issuer of an event with a clock skew
)

// PostingKey names one posting list: a field and a value (text as its
// bytes, a network bucket as AddressKey bytes).
type PostingKey struct {
	Field, Value string
}

// PostingKeys appends to dst the posting keys of an event with columns c;
// lookups adds, when it has a skew, its issuer. No key has an empty
// value. Request ids, nearly all of a batch's distinct values, are posted
// apart (Postings.Add).
func PostingKeys(dst []PostingKey, c *Columns, lookups bool) []PostingKey {
	if lookups {
		if c.Skew != nil && c.Issuer != "" {
			dst = append(dst, PostingKey{PostSkew, c.Issuer})
		}
	}
	if c.Claimed != "" {
		dst = append(dst, PostingKey{PostUser, c.Claimed})
	}
	if c.Subject != "" && c.Subject != c.Claimed {
		dst = append(dst, PostingKey{PostUser, c.Subject})
	}
	if c.KeyID != "" {
		dst = append(dst, PostingKey{PostKey, c.KeyID})
	}
	if c.Reason != "" {
		dst = append(dst, PostingKey{PostReason, c.Reason})
	}
	if c.Fingerprint != "" {
		dst = append(dst, PostingKey{PostFingerprint, FingerprintBucket(c.Fingerprint)})
	}
	if c.SourceIP != nil {
		dst = append(dst, PostingKey{PostNetwork, NetworkBucket(c.SourceIP)})
	}
	return dst
}

// FingerprintBucket is the posting value of a fingerprint: its first two
// bytes. Fingerprints are hex digests, all but unique, so exact postings
// would cost a row per event; a bucket holds 1/256 of them, and a query
// checks each candidate's fingerprint.
func FingerprintBucket(fp string) string {
	return fp[:min(len(fp), 2)]
}

// NetworkBucket is the posting value of a source address key (AddressKey):
// its IPv4 /24 or its IPv6 /48, so that one posting list serves a query
// for a network of that size or smaller.
func NetworkBucket(key []byte) string {
	if len(key) != 16 {
		return string(key)
	}
	v4Lo, _ := IPv4Keys()
	if string(key[:12]) == string(v4Lo[:12]) {
		return string(key[:15])
	}
	return string(key[:6])
}

// FilterPosting returns the posting list that holds every event f matches
// (and others, which the store's conditions on the columns drop), and
// false when no field f names has postings: a filter by request id
// without lookups (a store that indexes it), by a network larger than a
// bucket, or by route, method, outcome and time only. Of several, it
// picks the one likely to be shortest.
func FilterPosting(f Filter, lookups bool) (PostingKey, bool) {
	switch {
	case f.RequestID != "" && lookups:
		return PostingKey{PostRequestID, TextColumn(f.RequestID)}, true
	case f.RequestID != "":
		return PostingKey{}, false
	case f.Fingerprint != "":
		return PostingKey{PostFingerprint, FingerprintBucket(TextColumn(f.Fingerprint))}, true
	case f.KeyID != "":
		return PostingKey{PostKey, TextColumn(f.KeyID)}, true
	case f.User != "":
		return PostingKey{PostUser, TextColumn(f.User)}, true
	case f.Reason != "":
		return PostingKey{PostReason, string(f.Reason)}, true
	case f.Network.IsValid():
		lo, hi, _ := AddressRange(f.Network)
		if b := NetworkBucket(lo[:]); b == NetworkBucket(hi[:]) {
			return PostingKey{PostNetwork, b}, true
		}
	}
	return PostingKey{}, false
}

// SegmentSpan is a segment and the times of its events.
type SegmentSpan struct {
	Seg, MinTime, MaxTime int64
}

// Position is an event's place in the newest-first order: by time, then
// by id, larger first.
type Position struct {
	Time, ID int64
}

// Before reports whether p comes before q newest first.
func (p Position) Before(q Position) bool {
	return p.Time > q.Time || p.Time == q.Time && p.ID > q.ID
}

// maxSegmentsPerCall bounds how many segments one call of find covers.
const maxSegmentsPerCall = 256

// NewestInSegments returns the first n positions, newest first, of the
// events that find returns for spans. find(segs) returns the newest n (or
// fewer) matching events of those segments; NewestInSegments calls it
// for the segments with the newest events first, one segment and then
// twice as many each time, and stops once no segment left can hold an
// event newer than the n-th found: segments are apart in time as long as
// events arrive in time order, so a page usually costs one or two calls,
// and a value absent from the log a few calls over every segment.
func NewestInSegments(spans []SegmentSpan, n int, find func(segs []int64) ([]Position, error)) ([]Position, error) {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b SegmentSpan) int {
		if c := cmp.Compare(b.MaxTime, a.MaxTime); c != 0 {
			return c
		}
		return cmp.Compare(b.Seg, a.Seg) // at equal times, the larger ids
	})
	var best []Position
	segs := make([]int64, 0, maxSegmentsPerCall)
	for i, step := 0, 1; i < len(spans); step = min(2*step, maxSegmentsPerCall) {
		if len(best) >= n && spans[i].MaxTime < best[n-1].Time {
			break
		}
		segs = segs[:0]
		for ; i < len(spans) && len(segs) < step; i++ {
			segs = append(segs, spans[i].Seg)
		}
		found, err := find(segs)
		if err != nil {
			return nil, err
		}
		best = append(best, found...)
		slices.SortFunc(best, func(p, q Position) int {
			if p.Before(q) {
				return -1
			}
			if q.Before(p) {
				return 1
			}
			return 0
		})
		best = slices.CompactFunc(best, func(p, q Position) bool { return p == q })
		best = best[:min(len(best), n)]
	}
	return best, nil
}

// SpanWithin reports whether a segment may hold events that f, and the
// cursor position at (if any), let through.
func SpanWithin(s SegmentSpan, f Filter, at *Position) bool {
	if !f.Since.IsZero() && s.MaxTime < UnixNanos(f.Since) {
		return false
	}
	if !f.Until.IsZero() && s.MinTime >= UnixNanos(f.Until) {
		return false
	}
	return at == nil || s.MinTime <= at.Time
}

// Postings groups the posting keys of one batch's events into posting rows
// (Rows), each listing the ids of the batch's events with a key. Lookups
// adds the keys a store without an index per event finds request ids and
// skews by (PostRequestID, PostSkew).
type Postings struct {
	Lookups bool

	index      map[PostingKey]int // into lists
	keys       []PostingKey
	lists      [][]int32 // event numbers, ascending, per key
	times      []int64   // per event
	requestIDs []string  // per event, with Lookups
	buffer     []PostingKey
}

// Add adds the next event of the batch (numbered from 0 in call order).
func (p *Postings) Add(c *Columns) {
	if p.index == nil {
		p.index = make(map[PostingKey]int)
	}
	event := int32(len(p.times))
	p.times = append(p.times, c.Time)
	if p.Lookups {
		// A request id is all but unique: it goes straight into its
		// event's row (Rows), not through the index and the sort of keys,
		// which cost about 2 µs an event.
		p.requestIDs = append(p.requestIDs, c.RequestID)
	}
	p.buffer = PostingKeys(p.buffer[:0], c, p.Lookups)
	for _, k := range p.buffer {
		i, ok := p.index[k]
		if !ok {
			i = len(p.lists)
			p.index[k] = i
			p.keys = append(p.keys, k)
			if i < cap(p.lists) { // a list of an earlier batch, emptied by Reset
				p.lists = p.lists[:i+1]
			} else {
				p.lists = append(p.lists, nil)
			}
		}
		if l := p.lists[i]; len(l) == 0 || l[len(l)-1] != event { // a user may be both claimed and subject
			p.lists[i] = append(l, event)
		}
	}
}

// PostingRow is one row of postings.
type PostingRow struct {
	Seg     int64
	Key     PostingKey
	FirstID int64
	IDs     []byte // in the form of postedids.go; PostedIDs decodes them

	last int64 // the id IDs ends with, while Rows builds a packed row
}

// A batch of PackFrom events or more packs its postings: per segment and
// field, PackBuckets rows (field in upper case, value the bucket of
// PackBucket) instead of a row per value, each listing the values of its
// bucket with their ids. A thousand events hold about 900 values, and a
// row per value took a fifth of the write's CPU (7 µs an event in SQLite,
// 4 µs of PostgreSQL's); packed, they are 80 rows. A smaller batch (a
// quiet gateway) keeps a row per value, which a query for a rare value
// reads without decoding anything else.
const (
	PackFrom    = 128
	PackBuckets = 16
)

// PackBucket returns the packed row of a value of field: one of
// PackBuckets (RequestIDBuckets for request ids), by an FNV-1a hash.
func PackBucket(field, value string) string {
	h := uint32(2166136261)
	for i := 0; i < len(value); i++ {
		h = (h ^ uint32(value[i])) * 16777619
	}
	n := uint32(PackBuckets)
	if field == PostRequestID {
		n = RequestIDBuckets
	}
	return packBucketNames[h%n : h%n+1]
}

// RequestIDBuckets is how many packed rows a batch's request ids take per
// segment. Every event has its own, so a lookup that has no time to go
// by (an id from a proxy) reads the rows of one bucket in every segment:
// the more buckets, the fewer ids it reads past.
const RequestIDBuckets = 64

// packBucketNames are the values of the packed rows, a character each.
const packBucketNames = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"

// PackedField returns the field of the packed rows of field: the same
// letter in upper case.
func PackedField(field string) string {
	if len(field) == 1 && 'a' <= field[0] && field[0] <= 'z' {
		return upperFields[field[0]-'a' : field[0]-'a'+1]
	}
	return strings.ToUpper(field)
}

const upperFields = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// Lookup returns the two posting keys that may list k's ids: its own rows
// and the packed rows of its bucket.
func (k PostingKey) Lookup() (own, packed PostingKey) {
	return k, PostingKey{PackedField(k.Field), PackBucket(k.Field, k.Value)}
}

// Rows returns the posting rows of the batch, ordered by segment and key,
// given the ids its events got (ascending in event order), and the times
// of its events per segment.
func (p *Postings) Rows(ids []int64) ([]PostingRow, []SegmentSpan) {
	order := make([]int, len(p.keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(p.keys[a].Field, p.keys[b].Field); c != 0 {
			return c
		}
		return cmp.Compare(p.keys[a].Value, p.keys[b].Value)
	})
	packed := len(ids) >= PackFrom
	var rows []PostingRow
	type slot struct {
		seg int64
		key PostingKey
	}
	at := map[slot]int{} // the packed rows, by segment and packed key
	for _, k := range order {
		key, list := p.keys[k], p.lists[k]
		for len(list) > 0 {
			seg := Segment(ids[list[0]])
			n := 1
			for n < len(list) && Segment(ids[list[n]]) == seg {
				n++
			}
			if !packed {
				rows = append(rows, PostingRow{Seg: seg, Key: key, FirstID: ids[list[0]], IDs: appendOwnIDs(nil, ids, list[:n])})
			} else {
				_, pk := key.Lookup()
				i, ok := at[slot{seg, pk}]
				if !ok {
					i = len(rows)
					at[slot{seg, pk}] = i
					rows = append(rows, PostingRow{Seg: seg, Key: pk, FirstID: ids[list[0]]})
				}
				r := &rows[i]
				r.FirstID = min(r.FirstID, ids[list[0]])
				r.appendPacked(key.Value, ids, list[:n])
			}
			list = list[n:]
		}
	}
	for e, rid := range p.requestIDs {
		if rid == "" {
			continue
		}
		seg, id := Segment(ids[e]), ids[e]
		if !packed {
			rows = append(rows, PostingRow{Seg: seg, Key: PostingKey{PostRequestID, rid}, FirstID: id,
				IDs: appendOwnIDs(nil, ids, []int32{int32(e)})})
			continue
		}
		_, pk := PostingKey{PostRequestID, rid}.Lookup()
		i, ok := at[slot{seg, pk}]
		if !ok {
			i = len(rows)
			at[slot{seg, pk}] = i
			rows = append(rows, PostingRow{Seg: seg, Key: pk, FirstID: id})
		}
		r := &rows[i]
		r.FirstID = min(r.FirstID, id)
		r.appendPackedRequestID(rid, id)
	}
	slices.SortStableFunc(rows, func(a, b PostingRow) int {
		if c := cmp.Compare(a.Seg, b.Seg); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Key.Field, b.Key.Field); c != 0 {
			return c
		}
		return cmp.Compare(a.Key.Value, b.Key.Value)
	})
	var spans []SegmentSpan
	for e, id := range ids {
		seg, t := Segment(id), p.times[e]
		if n := len(spans); n > 0 && spans[n-1].Seg == seg {
			spans[n-1].MinTime, spans[n-1].MaxTime = min(spans[n-1].MinTime, t), max(spans[n-1].MaxTime, t)
			continue
		}
		spans = append(spans, SegmentSpan{Seg: seg, MinTime: t, MaxTime: t})
	}
	return rows, spans
}

// SortCounts returns counts per key as Stats returns them: the largest
// group first, groups of equal size in byte order of their keys.
func SortCounts(counts map[string]int64) []Count {
	out := make([]Count, 0, len(counts))
	for k, n := range counts {
		out = append(out, Count{Key: k, Count: n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// Reset empties p for another batch, keeping its memory.
func (p *Postings) Reset() {
	clear(p.index)
	clear(p.requestIDs)
	p.keys, p.times, p.requestIDs = p.keys[:0], p.times[:0], p.requestIDs[:0]
	for i := range p.lists {
		p.lists[i] = p.lists[i][:0]
	}
	p.lists = p.lists[:0]
}

// EachPosted calls fn with the ids that posted lists for the segments of
// spans, at most chunk ids at a time, reading the postings of 256 segments
// per call. Both stores page through posting lists with it.
func EachPosted(spans []SegmentSpan, chunk int, posted func(segs []int64) ([]int64, error), fn func(ids []int64) error) error {
	for len(spans) > 0 {
		part := spans[:min(len(spans), 256)]
		spans = spans[len(part):]
		segs := make([]int64, len(part))
		for i, sp := range part {
			segs[i] = sp.Seg
		}
		ids, err := posted(segs)
		if err != nil {
			return err
		}
		for len(ids) > 0 {
			n := min(len(ids), chunk)
			if err := fn(ids[:n]); err != nil {
				return err
			}
			ids = ids[n:]
		}
	}
	return nil
}
