package signinlog

import (
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/authgate/authgate"
)

// Chunks are how a store can keep events without a row per event: a run
// of up to ChunkEvents events with consecutive ids in one row, as two
// compressed parts. The heads hold what filters, counts and the
// newest-first order read (Head); the docs hold each event's decision as
// JSON. A query decodes the heads of the chunks its time window or its
// postings name, checks each head against its filter (Filter.Match), and
// decompresses the docs of the chunks that hold the page's events only.
//
// A row per event cost PostgreSQL about 10 µs of its CPU per event (19
// columns, a tuple header, three index entries) and the client as much
// again (each decision compressed on its own against a dictionary), which
// held one writer near 60 000 events/s on two cores. A chunk row costs the
// server a fraction of that, and a run of decisions compresses well
// without a dictionary, with S2's fast path.
//
// Postings name events by id, and a store finds an event's chunk as the
// one with the largest first id at or below its id, so a chunk is written
// with a run of ids the store drew in one go: ChunkRuns splits a batch's
// ids where they are not consecutive and every ChunkEvents. (Purge may
// later leave gaps inside a chunk; no other chunk ever gets those ids.)

// ChunkEvents is the most events one chunk holds. Larger chunks compress
// better and make fewer rows; a query for a rare value decompresses the
// docs of a whole chunk for each of its page's events.
const ChunkEvents = 32

// The first byte of each part names its form.
const (
	chunkHeadsV1 = 0x01 // S2 block of head records
	chunkDocsV1  = 0x10 // S2 block of uvarint-length-prefixed decision JSON
)

// Head is an event as a chunk's heads keep it: its id and the columns
// filters and counts read. UserAgent and Latency are not kept there: the
// event's decision has them.
type Head struct {
	ID int64
	Columns
}

// Chunk is one chunk row: its id range and times, how many events it
// holds, and its two parts (ChunkEncoder builds them, DecodeHeads and
// DecodeDocs read them).
type Chunk struct {
	FirstID, LastID  int64
	MinTime, MaxTime int64
	Count            int
	Heads, Docs      []byte
}

// ChunkRuns splits ids (ascending) into runs of consecutive ids of at most
// ChunkEvents each, and calls fn with each run's start and end in ids.
func ChunkRuns(ids []int64, fn func(from, to int)) {
	for from := 0; from < len(ids); {
		to := from + 1
		for to < len(ids) && to-from < ChunkEvents && ids[to] == ids[to-1]+1 {
			to++
		}
		fn(from, to)
		from = to
	}
}

// ChunkEncoder builds chunks, reusing its buffers from one to the next.
type ChunkEncoder struct {
	heads, docs []byte // uncompressed parts of the chunk being built
	json        []byte
	chunk       Chunk
	prevID      int64
	prevTime    int64
}

// Add adds an event to the chunk being built: its id (larger than the
// previous event's), its columns and its decision.
func (e *ChunkEncoder) Add(id int64, c *Columns, d *authgate.Decision) error {
	var err error
	if e.json, err = AppendDecisionJSON(e.json[:0], d); err != nil {
		return fmt.Errorf("event %q: %w", d.RequestID, err)
	}
	e.AddJSON(Head{ID: id, Columns: *c}, e.json)
	return nil
}

// AddJSON adds an event whose decision is already JSON.
func (e *ChunkEncoder) AddJSON(h Head, doc []byte) {
	ch := &e.chunk
	if ch.Count == 0 {
		ch.FirstID, ch.MinTime, ch.MaxTime = h.ID, h.Time, h.Time
		e.prevID, e.prevTime = 0, 0
	}
	ch.LastID = h.ID
	ch.MinTime, ch.MaxTime = min(ch.MinTime, h.Time), max(ch.MaxTime, h.Time)
	ch.Count++
	e.heads = appendHead(e.heads, &h, e.prevID, e.prevTime)
	e.prevID, e.prevTime = h.ID, h.Time
	e.docs = binary.AppendUvarint(e.docs, uint64(len(doc)))
	e.docs = append(e.docs, doc...)
}

// Len is how many events the chunk being built holds.
func (e *ChunkEncoder) Len() int { return e.chunk.Count }

// Finish compresses the chunk built since the last Finish and returns it;
// its parts are appended to buf (reused by the caller), and the encoder
// starts a new chunk.
func (e *ChunkEncoder) Finish(buf []byte) (Chunk, []byte) {
	ch := e.chunk
	start := len(buf)
	buf = appendS2(buf, chunkHeadsV1, e.heads)
	mid := len(buf)
	buf = appendS2(buf, chunkDocsV1, e.docs)
	ch.Heads, ch.Docs = buf[start:mid:mid], buf[mid:len(buf):len(buf)]
	e.chunk = Chunk{}
	e.heads, e.docs = e.heads[:0], e.docs[:0]
	return ch, buf
}

// appendS2 appends marker and src as an S2 block.
func appendS2(b []byte, marker byte, src []byte) []byte {
	b = append(b, marker)
	n := len(b)
	need := s2.MaxEncodedLen(len(src))
	if cap(b)-n < need {
		b = append(b[:n], make([]byte, need)...)[:n]
	}
	out := s2.Encode(b[n:n+need], src)
	return b[:n+len(out)]
}

// A head record: the id's distance from the previous record's (the id
// itself for the first), the time's (the time itself for the first, zig-zag), the
// status, ten text columns as uvarint length and bytes, the source
// address key (length 0 or 16), and the skew (0 for none, else 1 and the
// nanoseconds, zig-zag).
func appendHead(b []byte, h *Head, prevID, prevTime int64) []byte {
	b = binary.AppendUvarint(b, uint64(h.ID-prevID))
	b = binary.AppendVarint(b, h.Time-prevTime)
	b = binary.AppendUvarint(b, uint64(h.Status))
	for _, s := range [...]string{h.RequestID, h.Route, h.Method, h.Outcome, h.Reason,
		h.Claimed, h.Subject, h.KeyID, h.Fingerprint, h.Issuer} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(h.SourceIP)))
	b = append(b, h.SourceIP...)
	if h.Skew == nil {
		return append(b, 0)
	}
	return binary.AppendVarint(append(b, 1), *h.Skew)
}

// maxChunkPart bounds a chunk part decompressed: 32 decisions with the
// longest traces are a few hundred KB.
const maxChunkPart = 64 << 20

// errBadChunk is wrapped by every error decoding a chunk's part.
var errBadChunk = errors.New("unreadable event chunk")

// decompress returns the content of a chunk part with marker marker,
// decompressed into scratch's memory when it is large enough.
func decompress(part []byte, marker byte, scratch *[]byte) ([]byte, error) {
	if len(part) == 0 || part[0] != marker {
		if len(part) > 0 && part[0] > chunkDocsV1 {
			return nil, fmt.Errorf("%w: part of unknown form 0x%02x: written by a newer authgate?", errBadChunk, part[0])
		}
		return nil, fmt.Errorf("%w: not a chunk part of form 0x%02x", errBadChunk, marker)
	}
	// A damaged length would make Decode allocate up to 4 GiB first.
	if n, err := s2.DecodedLen(part[1:]); err != nil || n > maxChunkPart {
		return nil, fmt.Errorf("%w: a part of %d bytes decompressed (%v)", errBadChunk, n, err)
	}
	var buf []byte
	if scratch != nil {
		buf = *scratch
	}
	out, err := s2.Decode(buf[:cap(buf)], part[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadChunk, err)
	}
	if scratch != nil && cap(out) > cap(buf) {
		*scratch = out[:0]
	}
	return out, nil
}

// DecodeHeads appends the heads of a chunk to dst, in id order. Their
// texts share one copy of the heads: they stay valid after scratch is
// reused.
func DecodeHeads(dst []Head, heads []byte, scratch *[]byte) ([]Head, error) {
	b, err := decompress(heads, chunkHeadsV1, scratch)
	if err != nil {
		return dst, err
	}
	r := headReader{b: b, s: string(b)}
	var prevID, prevTime int64
	for r.more() {
		var h Head
		h.ID = prevID + int64(r.uvarint())
		h.Time = prevTime + r.varint()
		h.Status = int(r.uvarint())
		for _, s := range [...]*string{&h.RequestID, &h.Route, &h.Method, &h.Outcome, &h.Reason,
			&h.Claimed, &h.Subject, &h.KeyID, &h.Fingerprint, &h.Issuer} {
			*s = r.text()
		}
		if ip := r.bytes(); len(ip) > 0 {
			h.SourceIP = append([]byte(nil), ip...)
		}
		if r.byte() == 1 {
			skew := r.varint()
			h.Skew = &skew
		}
		if r.err != nil {
			break
		}
		dst = append(dst, h)
		prevID, prevTime = h.ID, h.Time
	}
	if r.err != nil {
		return dst, fmt.Errorf("%w: heads: %w", errBadChunk, r.err)
	}
	return dst, nil
}

// DecodeDocs appends to dst each decision JSON of a chunk, in id order:
// slices of scratch's memory, valid until scratch is reused.
func DecodeDocs(dst [][]byte, docs []byte, scratch *[]byte) ([][]byte, error) {
	b, err := decompress(docs, chunkDocsV1, scratch)
	if err != nil {
		return dst, err
	}
	r := headReader{b: b}
	for r.more() {
		if doc := r.bytes(); r.err == nil {
			dst = append(dst, doc)
		}
	}
	if r.err != nil {
		return dst, fmt.Errorf("%w: docs: %w", errBadChunk, r.err)
	}
	return dst, nil
}

// DecodeChunkDecision decodes one decision JSON of a chunk's docs, at the
// time of its head (JSON keeps times to the nanosecond, but in the
// gateway's zone; stores give them back in UTC).
func DecodeChunkDecision(doc []byte, h *Head) (*authgate.Decision, error) {
	d := new(authgate.Decision)
	if err := json.Unmarshal(doc, d); err != nil {
		return nil, fmt.Errorf("%w: event %d: %w", errBadChunk, h.ID, err)
	}
	d.Time = time.Unix(0, h.Time).UTC()
	return d, nil
}

// LegacyHead returns the head and decision of an event kept as a stored
// decision (AppendStoredDecision) rather than in a chunk, at time t (Unix
// nanoseconds, as its row kept it): what stores hold of the events they
// kept a row each for, and of the older gateways that still write one.
func LegacyHead(id, t int64, stored []byte, scratch *[]byte) (Head, *authgate.Decision, error) {
	d := new(authgate.Decision)
	if err := DecodeStoredDecision(stored, d, scratch); err != nil {
		return Head{}, nil, fmt.Errorf("event %d: %w", id, err)
	}
	d.Time = time.Unix(0, t).UTC()
	c, err := EventColumns(d)
	if err != nil {
		return Head{}, nil, fmt.Errorf("event %d: %w", id, err)
	}
	return Head{ID: id, Columns: c}, d, nil
}

// headReader reads the varints and length-prefixed bytes of chunk parts;
// the first error sticks. Texts are substrings of s, a copy of b made
// once per part, when it is set.
type headReader struct {
	b   []byte
	s   string
	pos int
	err error
}

func (r *headReader) more() bool { return r.pos < len(r.b) && r.err == nil }

func (r *headReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.pos += n
	return v
}

func (r *headReader) varint() int64 {
	v, n := binary.Varint(r.b[r.pos:])
	if n <= 0 {
		r.fail()
		return 0
	}
	r.pos += n
	return v
}

func (r *headReader) byte() byte {
	if r.pos >= len(r.b) {
		r.fail()
		return 0
	}
	r.pos++
	return r.b[r.pos-1]
}

// span returns the start and end of the next length-prefixed bytes.
func (r *headReader) span() (int, int) {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)-r.pos) {
		r.fail()
		return r.pos, r.pos
	}
	r.pos += int(n)
	return r.pos - int(n), r.pos
}

func (r *headReader) bytes() []byte {
	from, to := r.span()
	return r.b[from:to:to]
}

func (r *headReader) text() string {
	from, to := r.span()
	return r.s[from:to]
}

func (r *headReader) fail() {
	if r.err == nil {
		r.err = errors.New("truncated record")
	}
	r.pos = len(r.b)
}

// requestIDEncoding is the base32 of the gateway's request ids.
var requestIDEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// RequestIDTime returns the time a request id made by the gateway begins
// with (gateway.requestID: 16 bytes in base32 with the alphabet
// 0123456789abcdefghjkmnpqrstvwxyz, the first 48 bits Unix milliseconds),
// and false for any other id, or one whose time is before 2000 or more
// than a century ahead.
func RequestIDTime(id string) (time.Time, bool) {
	if len(id) != 26 {
		return time.Time{}, false
	}
	b, err := requestIDEncoding.DecodeString(id)
	if err != nil || len(b) != 16 {
		return time.Time{}, false
	}
	ms := int64(binary.BigEndian.Uint64(b[:8]) >> 16)
	t := time.UnixMilli(ms).UTC()
	if t.Year() < 2000 || t.After(time.Now().AddDate(100, 0, 0)) {
		return time.Time{}, false
	}
	return t, true
}

// ChunkBatch encodes the chunks of a batch of events, every other chunk
// on a second goroutine, and keeps its memory for the next batch.
type ChunkBatch struct {
	Chunks []Chunk
	halves [2]chunkHalf
}

type chunkHalf struct {
	enc    ChunkEncoder
	buf    []byte
	chunks []Chunk
	err    error
}

// Encode encodes events (with their columns cols and ids ids, ascending)
// into b.Chunks, split by ChunkRuns. The chunks' parts stay valid until
// the next Encode.
func (b *ChunkBatch) Encode(ids []int64, cols []Columns, events []*authgate.Decision) error {
	var runs [][2]int
	ChunkRuns(ids, func(from, to int) { runs = append(runs, [2]int{from, to}) })
	encode := func(h *chunkHalf, parity int) {
		h.buf, h.chunks, h.err = h.buf[:0], h.chunks[:0], nil
		for k := parity; k < len(runs); k += 2 {
			for i := runs[k][0]; i < runs[k][1]; i++ {
				if h.err = h.enc.Add(ids[i], &cols[i], events[i]); h.err != nil {
					h.enc.Finish(nil) // start the next batch afresh
					return
				}
			}
			var ch Chunk
			ch, h.buf = h.enc.Finish(h.buf)
			h.chunks = append(h.chunks, ch)
		}
	}
	var wg sync.WaitGroup
	if len(runs) > 1 {
		wg.Go(func() { encode(&b.halves[1], 1) })
	} else {
		b.halves[1].chunks, b.halves[1].err = b.halves[1].chunks[:0], nil
	}
	encode(&b.halves[0], 0)
	wg.Wait()
	if err := errors.Join(b.halves[0].err, b.halves[1].err); err != nil {
		return err
	}
	b.Chunks = b.Chunks[:0]
	for k := range runs {
		b.Chunks = append(b.Chunks, b.halves[k%2].chunks[k/2])
	}
	return nil
}
