package signinlog

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

// The dictionary of a stored form is part of every row written with it:
// changing it would make those rows unreadable.
func TestStoredDictionaryFixed(t *testing.T) {
	sum := sha256.Sum256(storedDictV1Bytes)
	if got, want := hex.EncodeToString(sum[:]), "220ab21a73723022a7876196be42bbffea0c3211f93d213d7fd8c09c082f9147"; got != want {
		t.Fatalf("testdata/decisions-v1.s2dict changed (sha256 %s, want %s): rows stored with it could no longer be read; restore it, and give a new dictionary a new marker", got, want)
	}
	if storedDictV1 == nil {
		t.Fatal("testdata/decisions-v1.s2dict is not an S2 dictionary")
	}
}

func TestStoredDecisionRoundTrip(t *testing.T) {
	var in, out int
	var scratch, decodeScratch []byte
	for d := range Synthetic(3000, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), time.Hour, 5) {
		stored, err := AppendStoredDecision([]byte("prefix"), d, &scratch)
		if err != nil {
			t.Fatal(err)
		}
		if string(stored[:6]) != "prefix" || stored[6] != storedS2v1 {
			t.Fatalf("stored form %q...: want the prefix kept and marker 0x01", stored[:min(len(stored), 8)])
		}
		stored = stored[6:]
		doc, _ := AppendDecisionJSON(nil, d)
		in, out = in+len(doc), out+len(stored)
		var got authgate.Decision
		if err := DecodeStoredDecision(stored, &got, &decodeScratch); err != nil {
			t.Fatal(err)
		}
		again, err := AppendDecisionJSON(nil, &got)
		if err != nil {
			t.Fatal(err)
		}
		if string(again) != string(doc) {
			t.Fatalf("request %s came back different:\n got %s\nwant %s", d.RequestID, again, doc)
		}
		if !got.Time.Equal(d.Time) || got.RequestID != d.RequestID || len(got.Checks) != len(d.Checks) {
			t.Fatalf("request %s came back as %+v", d.RequestID, got)
		}
	}
	// Synthetic events, whose traces are worded as the gateway's but whose
	// names, agents and ids the dictionary has never seen, compress to
	// about 0.3 of their JSON (the gateway's own, in the benchmark, to
	// about a quarter).
	ratio := float64(out) / float64(in)
	t.Logf("stored form: %.2f of the JSON, %d bytes an event", ratio, out/3000)
	if ratio > 0.35 {
		t.Errorf("stored form is %.2f of the JSON; want at most 0.35", ratio)
	}
}

func TestStoredDecisionHostile(t *testing.T) {
	hostile := "a\x00b\x1b[31m\n\t\"\\\u2028\xff</script>&é" + strings.Repeat("x", 5000)
	d := &authgate.Decision{RequestID: hostile, Time: time.Unix(1, 2).UTC(), UserAgent: hostile,
		Checks: []authgate.Check{{Name: "route", Result: authgate.Fail, Detail: hostile}}}
	stored, err := AppendStoredDecision(nil, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got authgate.Decision
	if err := DecodeStoredDecision(stored, &got, nil); err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(hostile, "\xff", "\ufffd")
	if got.UserAgent != want || got.Checks[0].Detail != want {
		t.Fatalf("hostile text came back as %q", got.UserAgent[:40])
	}
}

func TestStoredDecisionBad(t *testing.T) {
	for name, stored := range map[string][]byte{
		"empty":          nil,
		"unknown marker": {0x7f, 1, 2, 3},
		"truncated":      {storedS2v1, 0xff, 0xff},
	} {
		var d authgate.Decision
		if err := DecodeStoredDecision(stored, &d, nil); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

func BenchmarkStoredDecision(b *testing.B) {
	var events []*authgate.Decision
	for d := range Synthetic(1000, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), time.Hour, 5) {
		events = append(events, d)
	}
	b.Run("json", func(b *testing.B) {
		var buf []byte
		i := 0
		for b.Loop() {
			buf, _ = AppendDecisionJSON(buf[:0], events[i%len(events)])
			i++
		}
	})
	b.Run("stored", func(b *testing.B) {
		var buf, scratch []byte
		i := 0
		for b.Loop() {
			buf, _ = AppendStoredDecision(buf[:0], events[i%len(events)], &scratch)
			i++
		}
	})
}

// Stores encode in one goroutine and decode in many: the dictionary is
// shared by all (run with -race).
func TestStoredDecisionConcurrentUse(t *testing.T) {
	events := slices.Collect(Synthetic(200, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), time.Hour, 6))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch, out []byte
			for _, d := range events {
				stored, err := AppendStoredDecision(out[:0], d, &scratch)
				if err != nil {
					t.Error(err)
					return
				}
				out = stored
				var got authgate.Decision
				if err := DecodeStoredDecision(stored, &got, nil); err != nil || got.RequestID != d.RequestID {
					t.Errorf("request %s came back as %q: %v", d.RequestID, got.RequestID, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
