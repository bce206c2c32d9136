package signinlog

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/klauspost/compress/s2"

	"github.com/authgate/authgate"
)

// The stored form of a decision, which both stores kept in the decision
// column of a row per event before they kept chunks (chunk.go), and which
// the events of those rows still hold until a purge packs them
// (LegacyHead, PackSingles), as do the rows older gateways write into
// PostgreSQL during a rolling upgrade: its JSON (AppendDecisionJSON),
// compressed with S2 against a fixed dictionary of the gateway's own
// decisions, behind one byte that names the dictionary. New events are
// not written in it: 32 decisions in a chunk compress as well without the
// dictionary, and faster.
//
// A decision's JSON is about 1 KB, most of it field names, check names and
// phrases that every event repeats; against the dictionary it compresses
// to about a quarter, for about 3 µs, and decompresses in about 1 µs.
// Writing a quarter of the bytes is what makes the stores fast: SQLite
// writes every page twice (WAL, then checkpoint) and PostgreSQL once into
// its WAL and once into the table, so bytes per event bound the write rate
// at a million events.
//
// The dictionary (testdata/decisions-v1.s2dict) was made from the
// decisions of server.TestEveryReasonThroughTheGateway, one per method and
// reason, acceptances last (storeddict_test.go says how). A row whose
// first byte is '{' is plain JSON, as written before compression: both
// forms are read. The dictionary of a marker never changes
// (TestStoredDictionaryFixed); a better dictionary would take the next
// marker and keep the old one for reading.
const (
	storedJSON = '{'  // plain JSON, as written before
	storedS2v1 = 0x01 // S2 block against storedDictV1
)

//go:embed testdata/decisions-v1.s2dict
var storedDictV1Bytes []byte

var storedDictV1 = s2.NewDict(storedDictV1Bytes)

// AppendStoredDecision appends d's stored form to b; scratch is a buffer
// for its JSON, reused between calls (nil is fine). It fails only where
// AppendDecisionJSON does.
func AppendStoredDecision(b []byte, d *authgate.Decision, scratch *[]byte) ([]byte, error) {
	var buf []byte
	if scratch != nil {
		buf = *scratch
	}
	doc, err := AppendDecisionJSON(buf[:0], d)
	if scratch != nil {
		*scratch = doc
	}
	if err != nil {
		return b, err
	}
	start := len(b)
	b = append(b, storedS2v1)
	need := s2.MaxEncodedLen(len(doc))
	b = slices.Grow(b, need)
	out := storedDictV1.Encode(b[len(b):len(b)+need], doc)
	if len(out) > 0 && &out[0] != &b[len(b) : len(b)+1][0] {
		return append(b[:start+1], out...), nil // Encode allocated; not expected
	}
	return b[:len(b)+len(out)], nil
}

// DecodeStoredDecision decodes a stored decision (either form) into d;
// scratch is a buffer for the JSON, reused between calls (nil is fine).
func DecodeStoredDecision(stored []byte, d *authgate.Decision, scratch *[]byte) error {
	if len(stored) == 0 {
		return errors.New("empty stored decision")
	}
	doc := stored
	switch stored[0] {
	case storedJSON:
	case storedS2v1:
		var buf []byte
		if scratch != nil {
			buf = *scratch
		}
		var err error
		if doc, err = storedDictV1.Decode(buf[:cap(buf)], stored[1:]); err != nil {
			return fmt.Errorf("decompressing the stored decision: %w", err)
		}
		if scratch != nil && cap(doc) > cap(buf) {
			*scratch = doc[:0]
		}
	default:
		return fmt.Errorf("stored decision of unknown form 0x%02x: written by a newer authgate?", stored[0])
	}
	return json.Unmarshal(doc, d)
}
