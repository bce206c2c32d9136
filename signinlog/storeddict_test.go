package signinlog

import (
	"flag"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
)

var writeDict = flag.String("write-dict", "", "write a new S2 dictionary of example events to this file (for a new stored form; never over an existing one)")

// exampleDictionary returns an S2 dictionary made of the JSON of example
// events: for each (method, outcome, reason) one synthetic event, rarer
// kinds first, so that the commonest sit nearest the end, where copies
// from the dictionary are cheapest; at most size bytes.
func exampleDictionary(size int) []byte {
	type kind struct{ method, reason string }
	seen := map[kind]int{}
	var docs [][]byte
	var kinds []kind
	for d := range Synthetic(200_000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour, 1) {
		k := kind{string(d.Method), string(d.Reason)}
		seen[k]++
		if seen[k] > 1 {
			continue
		}
		doc, err := AppendDecisionJSON(nil, d)
		if err != nil {
			panic(err)
		}
		docs = append(docs, doc)
		kinds = append(kinds, k)
	}
	order := make([]int, len(docs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return seen[kinds[a]] - seen[kinds[b]] })
	var out []byte
	for i := len(order) - 1; i >= 0; i-- { // commonest first, trimmed from the rare end
		if len(out)+len(docs[order[i]]) > size {
			break
		}
		out = append(docs[order[i]], out...)
	}
	return s2.MakeDict(out, []byte(`{"request_id":"`)).Bytes()
}

func TestWriteDictionary(t *testing.T) {
	if *writeDict == "" {
		t.Skip("-write-dict not given")
	}
	if fi, err := os.Stat(*writeDict); err == nil && fi.Size() > 0 {
		t.Fatalf("%s exists: a dictionary never changes once used; write a new file", *writeDict)
	}
	if err := os.WriteFile(*writeDict, exampleDictionary(32<<10), 0o644); err != nil {
		t.Fatal(err)
	}
}
