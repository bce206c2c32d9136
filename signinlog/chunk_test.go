package signinlog

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestChunkRunsSplitWhereIdsJumpAndEveryChunkEvents(t *testing.T) {
	var ids []int64
	for i := range int64(70) {
		ids = append(ids, 100+i)
	}
	ids = append(ids, 500, 501, 503)
	var runs [][2]int
	ChunkRuns(ids, func(from, to int) { runs = append(runs, [2]int{from, to}) })
	want := [][2]int{{0, 32}, {32, 64}, {64, 70}, {70, 72}, {72, 73}}
	if diff := cmp.Diff(want, runs); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
	ChunkRuns(nil, func(int, int) { t.Error("a run of no ids") })
}

// TestChunkRoundTrip encodes synthetic events (every method, refusals,
// tokens with skews, IPv4 and IPv6 sources, proxies' request ids) and
// hostile text into chunks and checks that heads and decisions come back
// as written, in id order.
func TestChunkRoundTrip(t *testing.T) {
	events := slices.Collect(Synthetic(100, time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC), time.Hour, 9))
	events[7].Claimed, events[7].UserAgent = "a\x00b\x1b[31m", "x\xff\xfe"
	var enc ChunkEncoder
	var buf []byte
	id := int64(1 << 40)
	for from := 0; from < len(events); from += ChunkEvents {
		part := events[from:min(from+ChunkEvents, len(events))]
		var want []Head
		for _, d := range part {
			c, err := EventColumns(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := enc.Add(id, &c, d); err != nil {
				t.Fatal(err)
			}
			c.UserAgent, c.Latency = "", 0 // not kept in heads
			want = append(want, Head{ID: id, Columns: c})
			id += 3 // ids need not be consecutive for the encoding
		}
		var ch Chunk
		ch, buf = enc.Finish(buf[:0])
		if ch.FirstID != want[0].ID || ch.LastID != want[len(want)-1].ID || ch.Count != len(part) {
			t.Errorf("chunk ids %d..%d count %d, want %d..%d count %d", ch.FirstID, ch.LastID, ch.Count, want[0].ID, want[len(want)-1].ID, len(part))
		}
		minT, maxT := want[0].Time, want[0].Time
		for _, h := range want {
			minT, maxT = min(minT, h.Time), max(maxT, h.Time)
		}
		if ch.MinTime != minT || ch.MaxTime != maxT {
			t.Errorf("chunk times %d..%d, want %d..%d", ch.MinTime, ch.MaxTime, minT, maxT)
		}
		var scratch []byte
		heads, err := DecodeHeads(nil, ch.Heads, &scratch)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, heads, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("heads (-want +got):\n%s", diff)
		}
		docs, err := DecodeDocs(nil, ch.Docs, &scratch)
		if err != nil || len(docs) != len(part) {
			t.Fatalf("%d docs, %v; want %d", len(docs), err, len(part))
		}
		for i, doc := range docs {
			got, err := DecodeChunkDecision(doc, &heads[i])
			if err != nil {
				t.Fatal(err)
			}
			want := *part[i]
			if from+i == 7 {
				// JSON has no invalid UTF-8: each such byte comes back as
				// U+FFFD, as it always did from the stored decision.
				want.UserAgent = "x\uFFFD\uFFFD"
			}
			if diff := cmp.Diff(&want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("event %d (-want +got):\n%s", i, diff)
			}
		}
	}
}

func TestChunkPartsRefuseWhatTheyCannotRead(t *testing.T) {
	var enc ChunkEncoder
	d := slices.Collect(Synthetic(1, time.Now(), time.Minute, 1))[0]
	c, _ := EventColumns(d)
	if err := enc.Add(1, &c, d); err != nil {
		t.Fatal(err)
	}
	ch, _ := enc.Finish(nil)
	for name, part := range map[string][]byte{
		"empty":                     nil,
		"docs given as heads":       ch.Docs,
		"a form from a newer build": append([]byte{0x7f}, ch.Heads[1:]...),
		"truncated":                 ch.Heads[:len(ch.Heads)/2],
		"a length of 4 GiB":         {chunkHeadsV1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0},
	} {
		if _, err := DecodeHeads(nil, part, nil); !errors.Is(err, errBadChunk) {
			t.Errorf("%s: DecodeHeads error %v, want errBadChunk", name, err)
		}
	}
	if _, err := DecodeHeads(nil, append([]byte{0x7f}, ch.Heads[1:]...), nil); err == nil || !strings.Contains(err.Error(), "newer authgate") {
		t.Errorf("a part of a newer form should say so: %v", err)
	}
	if _, err := DecodeDocs(nil, ch.Heads, nil); !errors.Is(err, errBadChunk) {
		t.Errorf("heads given as docs: %v, want errBadChunk", err)
	}
}

// FuzzDecodeHeads feeds the heads decoder what a damaged row could hold:
// it must return an error, never panic or loop.
func FuzzDecodeHeads(f *testing.F) {
	var enc ChunkEncoder
	for _, d := range slices.Collect(Synthetic(3, time.Now(), time.Minute, 2)) {
		c, _ := EventColumns(d)
		enc.Add(1, &c, d)
	}
	ch, _ := enc.Finish(nil)
	f.Add(ch.Heads)
	f.Add(ch.Docs)
	f.Add([]byte{chunkHeadsV1})
	f.Fuzz(func(t *testing.T, part []byte) {
		heads, err := DecodeHeads(nil, part, nil)
		if err == nil {
			// What decodes must encode to something that decodes the same.
			var e ChunkEncoder
			for _, h := range heads {
				e.AddJSON(h, nil)
			}
			again, _ := e.Finish(nil)
			back, err := DecodeHeads(nil, again.Heads, nil)
			if err != nil || len(back) != len(heads) {
				t.Fatalf("re-encoded heads: %d, %v; want %d", len(back), err, len(heads))
			}
		}
		DecodeDocs(nil, part, nil)
	})
}

func TestRequestIDTime(t *testing.T) {
	at := time.Date(2026, 12, 2, 15, 4, 5, 678_000_000, time.UTC)
	id := slices.Collect(Synthetic(1, at, time.Millisecond, 1))[0].RequestID
	if got, ok := RequestIDTime(id); !ok || !got.Equal(at) {
		t.Errorf("RequestIDTime(%q) = %v, %v; want %v", id, got, ok, at)
	}
	for _, id := range []string{"", "7f3c9a", "e6be8d00-23a5-428c-a070-17b7a0d422eb", "00000000000000000000000000", "zzzzzzzzzzzzzzzzzzzzzzzzzz", "06gt2ja7aq2tjasyzcf2hez6!w"} {
		if got, ok := RequestIDTime(id); ok {
			t.Errorf("RequestIDTime(%q) = %v, want none", id, got)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	key := func(a string) []byte { k := AddressKey(netip.MustParseAddr(a)); return k[:] }
	c := Columns{Time: t0.UnixNano(), Route: "api", Method: "api_key", Outcome: "deny", Reason: "key_revoked",
		Claimed: "k_1", Subject: "alice", KeyID: "k_1", RequestID: "r1", Fingerprint: "ab12", SourceIP: key("192.0.2.7")}
	v6 := c
	v6.SourceIP = key("2001:db8::7")
	for _, tt := range []struct {
		f    Filter
		c    Columns
		want bool
	}{
		{Filter{}, c, true},
		{Filter{User: "alice"}, c, true},
		{Filter{User: "k_1"}, c, true},
		{Filter{User: "bob"}, c, false},
		{Filter{KeyID: "k_1", Route: "api", Method: "api_key", Reason: "key_revoked", Outcome: "deny", RequestID: "r1", Fingerprint: "ab12"}, c, true},
		{Filter{Outcome: "allow"}, c, false},
		{Filter{Network: netip.MustParsePrefix("192.0.2.0/24")}, c, true},
		{Filter{Network: netip.MustParsePrefix("::ffff:192.0.2.0/120")}, c, true},
		{Filter{Network: netip.MustParsePrefix("198.51.100.0/24")}, c, false},
		{Filter{Network: netip.MustParsePrefix("::/0")}, c, false}, // an IPv6 network holds no IPv4 source
		{Filter{Network: netip.MustParsePrefix("::/0")}, v6, true},
		{Filter{Network: netip.MustParsePrefix("2001:db8::/32")}, v6, true},
		{Filter{Network: netip.MustParsePrefix("0.0.0.0/0")}, v6, false},
		{Filter{Network: netip.MustParsePrefix("0.0.0.0/0")}, Columns{}, false},
		{Filter{Since: t0}, c, true},
		{Filter{Since: t0.Add(time.Nanosecond)}, c, false},
		{Filter{Until: t0}, c, false},
		{Filter{Until: t0.Add(time.Nanosecond)}, c, true},
	} {
		if got := tt.f.Match(&tt.c); got != tt.want {
			t.Errorf("%+v.Match(%s, %x) = %v, want %v", tt.f, tt.c.Claimed, tt.c.SourceIP, got, tt.want)
		}
	}
}

func TestPackSinglesPacksRunsOfConsecutiveIdsOnly(t *testing.T) {
	events := slices.Collect(Synthetic(40, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), time.Hour, 4))
	var rows []ChunkRow
	var ids []int64
	for i := range int64(34) {
		ids = append(ids, 100+i) // 100..133: a full chunk and two
	}
	ids = append(ids, 135, 136, 140, 1<<62) // gaps: another writer's ids, drawn or to come
	for i, id := range ids {
		stored, err := AppendStoredDecision(nil, events[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, ChunkRow{FirstID: id, MinTime: events[i].Time.UnixNano(), MaxTime: events[i].Time.UnixNano(), Stored: stored})
	}
	var got [][]int64
	err := PackSingles(rows, func(ch Chunk, replaced []int64) error {
		heads, err := DecodeHeads(nil, ch.Heads, nil)
		if err != nil {
			return err
		}
		var hs []int64
		for _, h := range heads {
			hs = append(hs, h.ID)
		}
		if !slices.Equal(hs, replaced) || ch.FirstID != hs[0] || ch.LastID != hs[len(hs)-1] {
			t.Errorf("chunk %d..%d holds %v, replaces %v", ch.FirstID, ch.LastID, hs, replaced)
		}
		got = append(got, replaced)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int64{ids[:32], ids[32:34], ids[34:36], ids[36:37], ids[37:38]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chunks (-want +got):\n%s", diff)
	}
}
