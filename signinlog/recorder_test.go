package signinlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

func decision(id string) *authgate.Decision {
	return &authgate.Decision{
		RequestID: id, Route: "api", Method: authgate.MethodBearer, Reason: reason.TokenExpired,
		Token:  &authgate.TokenInfo{Algorithm: "ES256", KeyID: "k1", Expires: time.Unix(1700000000, 0)},
		Checks: []authgate.Check{{Name: "jwt.exp", Result: authgate.Fail, Detail: "expired 312 s ago", Reason: reason.TokenExpired}},
	}
}

func TestRecorderKeepsTheLastDecisionsAndFindsThemByRequestID(t *testing.T) {
	r := New(RecorderOptions{Keep: 3})
	for i := range 5 {
		r.Record(decision(fmt.Sprint("req-", i)))
	}
	r.Close()
	if _, ok := r.Lookup("req-1"); ok {
		t.Errorf("req-1 should have been pushed out of a ring of 3")
	}
	if d, ok := r.Lookup("req-4"); !ok || d.RequestID != "req-4" {
		t.Errorf("req-4 not found")
	}
	var ids []string
	for _, d := range r.Recent(10) {
		ids = append(ids, d.RequestID)
	}
	if got := strings.Join(ids, ","); got != "req-4,req-3,req-2" {
		t.Errorf("Recent = %s, want newest first", got)
	}
}

func TestJSONLogLineHasTheTraceAsAnArray(t *testing.T) {
	var buf bytes.Buffer
	r := New(RecorderOptions{Output: &buf, Keep: 10})
	r.Record(decision("req-1"))
	r.Close()
	var line struct {
		Reason string           `json:"reason"`
		Status int              `json:"status"`
		Checks []authgate.Check `json:"checks"`
		Token  struct {
			Alg string `json:"alg"`
		} `json:"token"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v in %s", err, buf.String())
	}
	if line.Reason != "token_expired" || line.Status != 401 || len(line.Checks) != 1 || line.Checks[0].Reason != reason.TokenExpired || line.Token.Alg != "ES256" {
		t.Errorf("unexpected log line %s", buf.String())
	}
}

func TestTextLogLineIsReadable(t *testing.T) {
	var buf bytes.Buffer
	r := New(RecorderOptions{Output: &buf, Text: true, Keep: 10})
	r.Record(decision("req-1"))
	r.Close()
	for _, want := range []string{`checks="jwt.exp fail: expired 312 s ago"`, `token.alg=ES256 token.kid=k1 token.exp=2023-11-14T22:13:20.000Z`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text line lacks %s:\n%s", want, buf.String())
		}
	}
}

func TestTraceJSONMatchesEncodingJSON(t *testing.T) {
	checks := []authgate.Check{
		{Name: "a", Result: authgate.Pass, Detail: "quote \" backslash \\ newline \n tab \t ctl \x01 ünï 🔑 <html> &"},
		{Name: "b", Result: authgate.Fail, Detail: "bad utf8 \xff\xfe end", Reason: reason.TokenExpired},
		{Name: "c", Result: authgate.Skip},
	}
	got, _ := trace(checks).MarshalJSON()
	var back []authgate.Check
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	want := append([]authgate.Check(nil), checks...)
	want[1].Detail = "bad utf8 \ufffd\ufffd end"
	for i := range want {
		if back[i] != want[i] {
			t.Errorf("check %d round-tripped as %+v, want %+v", i, back[i], want[i])
		}
	}
}

func TestRecordAfterCloseIsCountedNotAPanic(t *testing.T) {
	r := New(RecorderOptions{Keep: 2})
	r.Close()
	r.Record(decision("late"))
	r.Flush()
	r.Close()
	if r.Late() != 1 {
		t.Errorf("Late = %d, want 1", r.Late())
	}
}

func TestRefusedOnlyWritesLinesForRefusalsButKeepsEverything(t *testing.T) {
	var buf bytes.Buffer
	r := New(RecorderOptions{Output: &buf, Keep: 10, RefusedOnly: true})
	allowed := &authgate.Decision{RequestID: "ok-1", Allowed: true, Status: 200}
	r.Record(allowed)
	r.Record(decision("deny-1"))
	r.Close()
	if strings.Contains(buf.String(), "ok-1") || !strings.Contains(buf.String(), "deny-1") {
		t.Errorf("lines:\n%s", buf.String())
	}
	if _, ok := r.Lookup("ok-1"); !ok {
		t.Errorf("an allowed decision must still be kept in memory")
	}
}

func TestSummaryLinesNameTheFailingCheckOnly(t *testing.T) {
	var buf bytes.Buffer
	r := New(RecorderOptions{Output: &buf, Keep: 10, Summary: true})
	d := decision("deny-2")
	d.Checks = append([]authgate.Check{{Name: "route", Result: authgate.Pass, Detail: "route api"}}, d.Checks...)
	r.Record(d)
	r.Close()
	line := buf.String()
	if !strings.Contains(line, `"failed_check":"jwt.exp: expired 312 s ago"`) || strings.Contains(line, "route api") || strings.Contains(line, `"checks"`) {
		t.Errorf("summary line:\n%s", line)
	}
}

// Lines are written in bursts, but none waits in the buffer for long:
// without Flush or Close, each line reaches the output within lineDelay.
func TestLinesReachTheOutputWithoutAFlush(t *testing.T) {
	var out syncBuffer
	r := New(RecorderOptions{Output: &out, Keep: 10})
	defer r.Close()
	for i := range 3 {
		id := fmt.Sprintf("burst-%d", i)
		start := time.Now()
		r.Record(decision(id))
		for !strings.Contains(out.String(), id) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("line %s not written after %s; output:\n%s", id, time.Since(start), out.String())
			}
			time.Sleep(time.Millisecond)
		}
		// A later line starts a new wait: the timer is not left stopped.
		time.Sleep(2 * lineDelay)
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Errorf("%d lines written, want 3:\n%s", n, out.String())
	}
}
