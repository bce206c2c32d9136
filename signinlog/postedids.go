package signinlog

import "encoding/binary"

// The ids of a posting row (PostingRow.IDs), in the form Rows writes:
//
//   - a row of its own key: the byte ownIDs, then each id as the uvarint
//     of its distance from the one before (the first from 0);
//   - a packed row: the byte packedIDs, then per value the uvarint of its
//     length, the value, the uvarint of its count of ids and the ids, each
//     as the varint of its distance from the id before it in the row;
//   - a packed row of request ids (PackedField(PostRequestID)): the byte
//     packedIDs, then per event the 4 bytes of requestIDHash and the varint
//     of the distance of its id from the id before it in the row.
//
// Ids in a batch are consecutive, so most take one byte instead of eight.
// A request id, nearly all of a row's bytes when written out, is posted
// as a hash: a query checks every candidate against its whole filter, so
// the rare event of a bucket whose request id has the same hash costs one
// more candidate, never a wrong answer. Each event's postings were 2.5
// times its compressed record before, and the store's writes spent their
// time on them.
//
// Rows written before this form have no marker byte: a row of its own
// key lists 8-byte big-endian ids (whose first byte, of a positive id, is
// at most 0x7f), a packed row starts with the uvarint of a value's length
// (never 0, as no value is empty) and lists 8-byte ids. PostedIDs reads
// both forms, so a log written by an older gateway stays searchable.
const (
	ownIDs    = 0xff
	packedIDs = 0x00
)

// appendOwnIDs appends to b the ids of a row of its own key: ids[e] of
// each event number e of events, ascending.
func appendOwnIDs(b []byte, ids []int64, events []int32) []byte {
	b = append(b, ownIDs)
	prev := int64(0)
	for _, e := range events {
		b = binary.AppendUvarint(b, uint64(ids[e]-prev))
		prev = ids[e]
	}
	return b
}

// appendPacked appends to a packed row the ids ids[e] of value's events.
func (r *PostingRow) appendPacked(value string, ids []int64, events []int32) {
	if len(r.IDs) == 0 {
		r.IDs = append(r.IDs, packedIDs)
	}
	r.IDs = binary.AppendUvarint(r.IDs, uint64(len(value)))
	r.IDs = append(r.IDs, value...)
	r.IDs = binary.AppendUvarint(r.IDs, uint64(len(events)))
	for _, e := range events {
		r.IDs = binary.AppendVarint(r.IDs, ids[e]-r.last)
		r.last = ids[e]
	}
}

// appendPackedRequestID appends to a packed row of request ids the event
// with request id rid and id id.
func (r *PostingRow) appendPackedRequestID(rid string, id int64) {
	if len(r.IDs) == 0 {
		r.IDs = append(r.IDs, packedIDs)
	}
	r.IDs = binary.BigEndian.AppendUint32(r.IDs, requestIDHash(rid))
	r.IDs = binary.AppendVarint(r.IDs, id-r.last)
	r.last = id
}

// requestIDHash is the hash a packed row keeps of a request id: the upper
// half of its 64-bit FNV-1a hash, as PackBucket chose the row by the lower
// bits of a 32-bit one.
func requestIDHash(rid string) uint32 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(rid); i++ {
		h = (h ^ uint64(rid[i])) * 1099511628211
	}
	return uint32(h >> 32)
}

// PostedIDs appends to dst the ids of k that a posting row of field field
// lists: all of them in a row of k's own, those listed under k's value in
// a packed row. A row it cannot read adds nothing more.
func PostedIDs(dst []int64, k PostingKey, field string, ids []byte) []int64 {
	own := field == k.Field
	switch {
	case len(ids) == 0:
		return dst
	case own && ids[0] == ownIDs:
		prev := int64(0)
		for b := ids[1:]; len(b) > 0; {
			d, w := binary.Uvarint(b)
			if w <= 0 {
				break
			}
			b = b[w:]
			prev += int64(d)
			dst = append(dst, prev)
		}
		return dst
	case own:
		return appendBigEndian(dst, ids)
	case ids[0] != packedIDs:
		return postedV1(dst, k, ids)
	case k.Field == PostRequestID:
		return postedRequestIDs(dst, k.Value, ids[1:])
	}
	var prev int64
	for b := ids[1:]; len(b) > 0; {
		value, n, rest, ok := packedEntry(b)
		if !ok || n > uint64(len(rest)) { // each id takes a byte at least
			return dst
		}
		b = rest
		match := string(value) == k.Value
		for ; n > 0; n-- {
			d, w := binary.Varint(b)
			if w <= 0 {
				return dst
			}
			b = b[w:]
			prev += d
			if match {
				dst = append(dst, prev)
			}
		}
	}
	return dst
}

// postedRequestIDs appends to dst the ids that the entries of a packed
// row of request ids (after its marker) list under rid's hash.
func postedRequestIDs(dst []int64, rid string, b []byte) []int64 {
	want := requestIDHash(rid)
	var prev int64
	for len(b) > 4 {
		h := binary.BigEndian.Uint32(b)
		d, w := binary.Varint(b[4:])
		if w <= 0 {
			break
		}
		b = b[4+w:]
		prev += d
		if h == want {
			dst = append(dst, prev)
		}
	}
	return dst
}

// postedV1 is PostedIDs for a packed row of the form before markers.
func postedV1(dst []int64, k PostingKey, ids []byte) []int64 {
	for len(ids) > 0 {
		value, n, rest, ok := packedEntry(ids)
		if !ok || uint64(len(rest))/8 < n {
			return dst
		}
		list := rest[:8*int(n)]
		ids = rest[8*int(n):]
		if string(value) == k.Value {
			dst = appendBigEndian(dst, list)
		}
	}
	return dst
}

// packedEntry reads the start of a packed row's entry, in either form: the
// value and the count of its ids, and the bytes after them; ok false for
// bytes that do not hold that much.
func packedEntry(b []byte) (value []byte, n uint64, rest []byte, ok bool) {
	size, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) < size {
		return nil, 0, nil, false
	}
	value, b = b[w:w+int(size)], b[w+int(size):]
	if n, w = binary.Uvarint(b); w <= 0 {
		return nil, 0, nil, false
	}
	return value, n, b[w:], true
}

// appendBigEndian appends to dst the 8-byte big-endian ids of b.
func appendBigEndian(dst []int64, b []byte) []int64 {
	for ; len(b) >= 8; b = b[8:] {
		dst = append(dst, int64(binary.BigEndian.Uint64(b)))
	}
	return dst
}
