package server_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/sqlite"
)

func ecdsaKey() (*ecdsa.PrivateKey, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }

// noneToken is an unsigned JWT (alg none) for a corp subject.
func noneToken() string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(`{"iss":"https://corp.test","sub":"a","aud":"api://orders","exp":4102444800}`)) + "."
}

// lookup returns the logged decision of request id.
func lookup(t *testing.T, h *harness, id string) *authgate.Decision {
	t.Helper()
	h.srv.Recorder().Flush()
	d, ok := h.srv.Recorder().Lookup(id)
	if !ok {
		t.Fatalf("request %s is not in the sign-in log", id)
	}
	return d
}

func assertAllowed(t *testing.T, h *harness, id string) {
	t.Helper()
	d := lookup(t, h, id)
	if !d.Allowed || d.Reason != "" || d.Principal == nil {
		t.Errorf("logged decision = allowed %v reason %q principal %v", d.Allowed, d.Reason, d.Principal)
	}
	if failing(d.Checks) != 0 {
		t.Errorf("an allowed decision has failing checks: %+v", d.Checks)
	}
}

func failing(cs []authgate.Check) int {
	n := 0
	for _, c := range cs {
		if c.Result == authgate.Fail {
			n++
		}
	}
	return n
}

// reasoned counts the checks that name a reason.
func reasoned(cs []authgate.Check) int {
	n := 0
	for _, c := range cs {
		if c.Reason != "" {
			n++
		}
	}
	return n
}

func hasFailing(cs []authgate.Check, code reason.Code) bool {
	for _, c := range cs {
		if c.Result == authgate.Fail && c.Reason == code {
			return true
		}
	}
	return false
}

// assertNoSecrets fails if any secret appears in the gateway's log output,
// in any file of its data folder (the SQLite database and its WAL), or in
// the sign-in log's events as a query decodes them: the log's chunks are
// compressed, so a secret stored there would not show in the file as
// written.
func assertNoSecrets(t *testing.T, h *harness, secrets []string) {
	t.Helper()
	h.flushLog(t)
	var stored bytes.Buffer
	for p := (signinlog.Page{Limit: 1000}); ; {
		events, next, err := h.srv.Events().Query(t.Context(), signinlog.Filter{}, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range events {
			json.NewEncoder(&stored).Encode(d)
		}
		if next == "" {
			break
		}
		p.Cursor = next
	}
	if stored.Len() == 0 {
		t.Fatalf("the sign-in log holds no events; the check would prove nothing")
	}
	for _, s := range secrets {
		if bytes.Contains(stored.Bytes(), []byte(s)) {
			t.Errorf("a stored event contains a secret (%d bytes, starts %q)", len(s), s[:3])
		}
	}
	logText := h.log.String()
	if !strings.Contains(logText, `"msg":"decision"`) {
		t.Fatalf("the log holds no decisions; the check would prove nothing")
	}
	for _, s := range secrets {
		if strings.Contains(logText, s) {
			t.Errorf("the log contains a secret (%d bytes, starts %q)", len(s), s[:3])
		}
	}
	filepath.WalkDir(h.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s contains a secret (%d bytes, starts %q)", filepath.Base(path), len(s), s[:3])
			}
		}
		return nil
	})
}

// flushLog waits until every decision taken so far is in the durable
// sign-in log.
func (h *harness) flushLog(t *testing.T) {
	t.Helper()
	h.srv.Recorder().Flush()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The writer batches every few milliseconds; poll the store, bounded.
		n, err := h.srv.Events().Stats(t.Context(), signinlog.Filter{}, signinlog.ByReason)
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, c := range n {
			total += c.Count
		}
		if total >= int64(len(h.srv.Recorder().Recent(1<<20))) || time.Now().After(deadline) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reopenEvents opens the sign-in log of a stopped harness.
func (h *harness) reopenEvents(t *testing.T) signinlog.Store {
	t.Helper()
	s, err := sqlite.OpenEvents(filepath.Join(h.dataDir, "signinlog.db"), sqlite.EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
