package signinlog

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// posted reads rows as a store's Posted does: the rows of k's own key and
// of its packed key, decoded, sorted and without repeats.
func posted(rows []PostingRow, k PostingKey) []int64 {
	own, packed := k.Lookup()
	var ids []int64
	for _, r := range rows {
		if r.Key == own || r.Key == packed {
			ids = PostedIDs(ids, k, r.Key.Field, r.IDs)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// TestPostingsRoundTrip posts random batches, small (a row per key) and
// large (packed), some spanning two segments, and reads every key back.
func TestPostingsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 5, PackFrom - 1, PackFrom, 1000, 4000} {
		for _, start := range []int64{1, SegmentEvents - 3, 5<<32 + 17} {
			t.Run(fmt.Sprintf("%d events from id %d", size, start), func(t *testing.T) {
				var p Postings
				p.Lookups = true
				want := map[PostingKey][]int64{}
				ids := make([]int64, size)
				for i := range ids {
					ids[i] = start + int64(i)
					if rng.IntN(10) == 0 { // ids drawn by another gateway in between
						start += int64(rng.IntN(50))
					}
				}
				for i := range size {
					c := Columns{
						Time:      int64(i),
						RequestID: fmt.Sprintf("r%07d", rng.IntN(3*size)), // some repeat
						Claimed:   fmt.Sprintf("user%d", rng.IntN(7)),
						Reason:    []string{"", "password_wrong", "key_unknown"}[rng.IntN(3)],
					}
					if rng.IntN(2) == 0 {
						c.KeyID = fmt.Sprintf("k_%d", rng.IntN(300))
					}
					p.Add(&c)
					for _, k := range append(PostingKeys(nil, &c, true), PostingKey{PostRequestID, c.RequestID}) {
						if l := want[k]; len(l) == 0 || l[len(l)-1] != ids[i] {
							want[k] = append(l, ids[i])
						}
					}
				}
				rows, _ := p.Rows(ids)
				for k, w := range want {
					if got := posted(rows, k); !slices.Equal(got, w) {
						t.Fatalf("%v: posted %v, want %v", k, got, w)
					}
				}
				for _, k := range []PostingKey{{PostUser, "nobody"}, {PostRequestID, "r-unknown"}, {PostKey, "k_9999"}} {
					if got := posted(rows, k); len(got) != 0 {
						t.Errorf("%v, never posted: got %v", k, got)
					}
				}
			})
		}
	}
}

// TestPostingsCompact bounds what a large batch's postings cost per event:
// a value shared by the whole batch takes about a byte per event, and a
// request id a few more. In the form before, they took 8 and 36.
func TestPostingsCompact(t *testing.T) {
	var p Postings
	p.Lookups = true
	const n = 4000
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = 1_000_000 + int64(i)
		p.Add(&Columns{Time: int64(i), RequestID: fmt.Sprintf("01JF%022d", i), Claimed: "alice"})
	}
	rows, _ := p.Rows(ids)
	perField := map[string]int{}
	for _, r := range rows {
		perField[r.Key.Field] += len(r.IDs)
	}
	if b := perField[PackedField(PostUser)]; b > n*11/10+64 {
		t.Errorf("one user's postings take %d bytes for %d events", b, n)
	}
	if b := perField[PackedField(PostRequestID)]; b > n*6 {
		t.Errorf("request ids' postings take %d bytes for %d events", b, n)
	}
}

// TestPostedIDsReadsTheFormBefore: rows an older gateway wrote, with
// 8-byte ids and no marker, are read as they were.
func TestPostedIDsReadsTheFormBefore(t *testing.T) {
	be := func(ids ...int64) []byte {
		var b []byte
		for _, id := range ids {
			b = binary.BigEndian.AppendUint64(b, uint64(id))
		}
		return b
	}
	entry := func(value string, ids ...int64) []byte {
		b := binary.AppendUvarint(nil, uint64(len(value)))
		b = append(b, value...)
		b = binary.AppendUvarint(b, uint64(len(ids)))
		return append(b, be(ids...)...)
	}
	long := string(make([]byte, 255)) // a length whose uvarint starts 0xff
	packed := slices.Concat(entry(long, 3), entry("alice", 5, 9), entry("bob", 7), entry("alice", 11))
	for _, c := range []struct {
		k     PostingKey
		field string
		ids   []byte
		want  []int64
	}{
		{PostingKey{PostUser, "alice"}, PostUser, be(5, 9, 1<<40), []int64{5, 9, 1 << 40}},
		{PostingKey{PostUser, "alice"}, PackedField(PostUser), packed, []int64{5, 9, 11}},
		{PostingKey{PostUser, "bob"}, PackedField(PostUser), packed, []int64{7}},
		{PostingKey{PostUser, long}, PackedField(PostUser), packed, []int64{3}},
		{PostingKey{PostRequestID, "r1"}, PackedField(PostRequestID), slices.Concat(entry("r0", 4), entry("r1", 6)), []int64{6}},
		{PostingKey{PostRequestID, "r1"}, PostRequestID, be(12), []int64{12}},
	} {
		if got := PostedIDs(nil, c.k, c.field, c.ids); !slices.Equal(got, c.want) {
			t.Errorf("%v in a %q row: got %v, want %v", c.k, c.field, got, c.want)
		}
	}
}

// FuzzPostedIDs feeds PostedIDs what a damaged row could hold: it must
// return, whatever the bytes.
func FuzzPostedIDs(f *testing.F) {
	var p Postings
	p.Lookups = true
	ids := make([]int64, 200)
	for i := range ids {
		ids[i] = int64(i) + 1
		p.Add(&Columns{RequestID: fmt.Sprint("r", i), Claimed: fmt.Sprint("u", i%3)})
	}
	rows, _ := p.Rows(ids)
	for _, r := range rows[:8] {
		f.Add(r.Key.Field, r.IDs)
	}
	f.Add(PostUser, []byte{ownIDs, 0x80})
	f.Add(PackedField(PostUser), []byte{packedIDs, 1, 'u', 0xff})
	f.Fuzz(func(t *testing.T, field string, b []byte) {
		for _, k := range []PostingKey{{PostUser, "u1"}, {PostRequestID, "r7"}} {
			PostedIDs(nil, k, field, b)
			PostedIDs(nil, k, PackedField(k.Field), b)
			PostedIDs(nil, k, k.Field, b)
		}
	})
}
