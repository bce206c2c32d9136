package signinlog

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// slogLine is the line slog.JSONHandler writes for d at time t: the
// reference appendJSONLine must match byte for byte.
func slogLine(t *testing.T, d *authgate.Decision, at time.Time, summary bool) string {
	t.Helper()
	var buf bytes.Buffer
	rec := slog.NewRecord(at, lineLevel(d), "decision", 0)
	rec.AddAttrs(lineAttrs(d, summary)...)
	if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// hostile is text that exercises every escape: quotes, backslashes,
// control bytes (\b and \f among them), HTML characters, invalid UTF-8,
// U+2028 and U+2029, and multi-byte runes.
const hostile = "a\"b\\c\nd\re\tf\bg\fh\x00i\x1fj<k>&l\xffm\u2028n\u2029o é 中 🙂"

func lineCorpus() []*authgate.Decision {
	events := make([]*authgate.Decision, 0, 600)
	for d := range Synthetic(500, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), time.Hour, 11) {
		events = append(events, d)
	}
	berlin := time.FixedZone("CET", 3600)
	events = append(events,
		decision("fixture"),
		&authgate.Decision{RequestID: hostile, Route: hostile, Method: authgate.MethodBasic, Reason: reason.UserUnknown,
			Claimed: hostile, Fingerprint: hostile, Source: netip.MustParseAddr("2001:db8::1"),
			HTTPMethod: hostile, Host: hostile, Path: hostile, UserAgent: hostile, Latency: 1,
			Checks: []authgate.Check{{Name: hostile, Result: authgate.Fail, Reason: reason.UserUnknown, Detail: hostile}}},
		&authgate.Decision{RequestID: "allowed", Allowed: true, Method: authgate.MethodAPIKey,
			Principal: &authgate.Principal{Subject: hostile}, Latency: 123456789 * time.Second},
		&authgate.Decision{RequestID: "outage", Method: authgate.MethodBearer, Reason: reason.IssuerUnavailable,
			ClockSkew: -1500 * time.Microsecond, Latency: 999,
			Token: &authgate.TokenInfo{Algorithm: "ES256", Audience: []string{hostile, "", "api://x"},
				IssuedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, berlin), NotBefore: time.Unix(0, 0),
				Expires: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), JTIHash: "abc"}},
		&authgate.Decision{RequestID: "empty-token", Method: authgate.MethodBearer, Reason: reason.TokenMalformed,
			Token: &authgate.TokenInfo{}, ClockSkew: 3 * time.Nanosecond},
		&authgate.Decision{RequestID: "no-checks", Method: authgate.MethodBasic, Reason: reason.CredentialsMissing},
	)
	return events
}

func TestJSONLineMatchesSlog(t *testing.T) {
	at := []time.Time{
		time.Date(2026, 12, 2, 11, 20, 0, 123456789, time.UTC),
		time.Date(2026, 12, 2, 11, 20, 0, 0, time.FixedZone("", -7*3600)),
		time.Now(), // with a monotonic reading, which neither writes
	}
	n := 0
	for _, d := range lineCorpus() {
		for _, summary := range []bool{false, true} {
			tm := at[n%len(at)]
			n++
			got, ok := appendJSONLine(nil, d, lineLevel(d), tm, summary)
			if !ok {
				t.Fatalf("request %q: appendJSONLine refused a decision slog writes without error", d.RequestID)
			}
			if want := slogLine(t, d, tm, summary); string(got) != want {
				t.Fatalf("request %q (summary %v):\n got %s\nwant %s", d.RequestID, summary, got, want)
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d lines compared", n)
	}
}

// A value slog writes as an error is not the encoder's to write: the
// recorder hands such a decision to slog, and the line is still written.
func TestOutOfRangeTimeGoesThroughSlog(t *testing.T) {
	d := &authgate.Decision{RequestID: "far-future", Method: authgate.MethodBearer, Reason: reason.TokenExpired,
		Token: &authgate.TokenInfo{Algorithm: "ES256", Expires: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}}
	if b, ok := appendJSONLine([]byte("kept"), d, lineLevel(d), time.Now(), true); ok || string(b) != "kept" {
		t.Fatalf("appendJSONLine = %q, %v; want the buffer unchanged and false", b, ok)
	}
	var buf bytes.Buffer
	r := New(RecorderOptions{Output: &buf, Keep: 1})
	r.Record(d)
	r.Close()
	if !strings.Contains(buf.String(), `"request_id":"far-future"`) || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("line not written through slog:\n%s", buf.String())
	}
}

// The recorder honours the configured level for JSON lines as slog does:
// at warn, only refusals with a 5xx status are written.
func TestJSONLinesHonourTheLevel(t *testing.T) {
	var buf bytes.Buffer
	r := New(RecorderOptions{Output: &buf, Keep: 3, Level: slog.LevelWarn})
	r.Record(decision("expired"))
	r.Record(&authgate.Decision{RequestID: "outage", Method: authgate.MethodBearer, Reason: reason.IssuerUnavailable})
	r.Close()
	if strings.Contains(buf.String(), "expired") || !strings.Contains(buf.String(), `"level":"WARN","msg":"decision","request_id":"outage"`) {
		t.Errorf("lines at level warn:\n%s", buf.String())
	}
}

func BenchmarkDecisionLine(b *testing.B) {
	events := lineCorpus()
	b.Run("slog", func(b *testing.B) {
		var buf bytes.Buffer
		h := slog.New(slog.NewJSONHandler(&buf, nil))
		i := 0
		for b.Loop() {
			d := events[i%len(events)]
			buf.Reset()
			h.LogAttrs(context.Background(), lineLevel(d), "decision", lineAttrs(d, true)...)
			i++
		}
	})
	b.Run("append", func(b *testing.B) {
		var buf []byte
		i := 0
		for b.Loop() {
			d := events[i%len(events)]
			buf, _ = appendJSONLine(buf[:0], d, lineLevel(d), time.Now(), true)
			i++
		}
	})
}
