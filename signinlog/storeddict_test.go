package signinlog

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/authgate/authgate"
)

// A stored form's dictionary is made once, from the decisions of a real
// gateway, and then never changes (TestStoredDictionaryFixed):
//
//	go test ./server -run 'TestEveryReasonThroughTheGateway$' -decision-corpus /tmp/corpus.jsonl
//	go test ./signinlog -run TestWriteDictionary -dict-corpus /tmp/corpus.jsonl \
//	    -write-dict $PWD/signinlog/testdata/decisions-vN.s2dict
//
// The corpus is every decision of the reason test: each catalogued reason
// (but the portal's) and the acceptances, with the checks, details and
// field names of the gateway's traces, and no secret (the test checks).
var (
	writeDict  = flag.String("write-dict", "", "write a new S2 dictionary of example decisions to this file (for a new stored form; never over one in use)")
	dictCorpus = flag.String("dict-corpus", "", "decisions, one JSON object per line, to make the dictionary of")
)

// dictionaryFrom returns an S2 dictionary of at most size bytes made of
// the JSON of one decision per (method, reason) of corpus: refusals first
// and acceptances last, since copies from the dictionary's end are the
// cheapest and acceptances are most of any gateway's traffic; what does not
// fit is trimmed from the front.
func dictionaryFrom(t *testing.T, corpus string, size int) []byte {
	f, err := os.Open(corpus)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type kind struct {
		method authgate.Method
		reason string
	}
	seen := map[kind]bool{}
	var refused, allowed [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d authgate.Decision
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("%s: %v", corpus, err)
		}
		k := kind{d.Method, string(d.Reason)}
		if seen[k] {
			continue
		}
		seen[k] = true
		doc, err := AppendDecisionJSON(nil, &d)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed {
			allowed = append(allowed, doc)
		} else {
			refused = append(refused, doc)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, doc := range append(refused, allowed...) {
		out = append(out, doc...)
	}
	if len(out) > size {
		out = out[len(out)-size:]
	}
	t.Logf("dictionary of %d bytes from %d refusals and %d acceptances", len(out), len(refused), len(allowed))
	return s2.MakeDict(out, []byte(`{"request_id":"`)).Bytes()
}

func TestWriteDictionary(t *testing.T) {
	if *writeDict == "" || *dictCorpus == "" {
		t.Skip("-write-dict and -dict-corpus not given")
	}
	if fi, err := os.Stat(*writeDict); err == nil && fi.Size() > 0 {
		t.Fatalf("%s exists: a dictionary never changes once used; write a new file", *writeDict)
	}
	if err := os.WriteFile(*writeDict, dictionaryFrom(t, *dictCorpus, 60<<10), 0o644); err != nil {
		t.Fatal(err)
	}
}
