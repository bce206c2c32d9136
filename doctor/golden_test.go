package doctor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/doctor"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./doctor -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// stablePorts replaces each server's port with a name, so golden files do
// not depend on which ports the system handed out.
func stablePorts(out string, servers ...string) string {
	for i, s := range servers {
		host := strings.TrimPrefix(strings.TrimPrefix(s, "http://"), "https://")
		out = strings.ReplaceAll(out, host, fmt.Sprintf("127.0.0.1:PORT%d", i+1))
	}
	return out
}

func render(t *testing.T, r *doctor.Report, asJSON bool) string {
	t.Helper()
	var b bytes.Buffer
	var err error
	if asJSON {
		err = doctor.WriteJSON(&b, r)
	} else {
		err = doctor.WriteText(&b, r, doctor.TextOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestGoldenOutput(t *testing.T) {
	bearerInvalid := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="orders", error="invalid_token"`)
		w.WriteHeader(401)
	}
	t.Run("a token the server's fast clock calls expired", func(t *testing.T) {
		s := serve(t, now.Add(10*time.Minute), bearerInvalid)
		r := check(t, doctor.Options{URL: s.URL + "/orders", Token: tokenAt(now.Add(-55*time.Minute), now.Add(5*time.Minute))})
		golden(t, "clock-skew.txt", []byte(stablePorts(render(t, r, false), s.URL)))
	})
	t.Run("a redirect to another host that drops Authorization", func(t *testing.T) {
		target := serve(t, time.Time{}, bearerInvalid)
		front := serve(t, time.Time{}, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/v2/orders", http.StatusMovedPermanently)
		})
		r := check(t, doctor.Options{URL: front.URL + "/orders", Token: tokenAt(now, now.Add(time.Hour))})
		golden(t, "redirect.txt", []byte(stablePorts(render(t, r, false), front.URL, target.URL)))
	})
	t.Run("a 401 without a challenge", func(t *testing.T) {
		s := serve(t, time.Time{}, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) })
		r := check(t, doctor.Options{URL: s.URL + "/", APIKey: "sk_live_0123456789abcdef"})
		golden(t, "no-challenge.txt", []byte(stablePorts(render(t, r, false), s.URL)))
	})
	authgateLike := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="intranet", charset="UTF-8"`)
		w.Header().Set("X-Authgate-Reason", "invalid_credentials")
		w.Header().Set("X-Request-Id", "06h0cp6b0a4azjf5t2ds375hk0")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(401)
		json.NewEncoder(w).Encode(map[string]any{"type": "/.authgate/reasons/invalid_credentials", "title": "Invalid credentials", "status": 401,
			"detail": "The user name or password is not correct.", "code": "invalid_credentials", "request_id": "06h0cp6b0a4azjf5t2ds375hk0",
			"instance": "urn:authgate:request:06h0cp6b0a4azjf5t2ds375hk0"})
	}
	t.Run("an authgate route that hides the precise reason", func(t *testing.T) {
		s := serve(t, time.Time{}, authgateLike)
		r := check(t, doctor.Options{URL: s.URL + "/app", BasicUser: "alice", BasicPassword: "Old-Battery-9"})
		golden(t, "authgate-minimal.txt", []byte(stablePorts(render(t, r, false), s.URL)))
		golden(t, "authgate-minimal.json", []byte(stablePorts(render(t, r, true), s.URL)))
	})
	t.Run("a server that cannot be reached", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		r := check(t, doctor.Options{URL: "http://" + addr + "/"})
		golden(t, "refused.txt", []byte(stablePorts(render(t, r, false), addr)))
	})
	t.Run("a token lint with red flags", func(t *testing.T) {
		tok := fakeJWT(`{"alg":"HS256","typ":"JWT","jku":"https://keys.example/jwks"}`,
			fmt.Sprintf(`{"iss":"https://idp.example","sub":"svc","iat":%d,"exp":%d,"scope":"orders:read orders:write"}`, now.Add(-40*24*time.Hour).Unix(), now.Add(-10*24*time.Hour).Unix()))
		r, err := doctor.Lint(context.Background(), tok+"\n", doctor.LintOptions{Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "lint.txt", []byte(render(t, r, false)))
	})
}

// TestNoSecretInAnyOutput sends every kind of credential to a server that
// echoes them back in its challenge, problem document and headers, and
// checks that neither the text nor the JSON report carries one.
func TestNoSecretInAnyOutput(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		all := r.Header.Get("Authorization") + " " + r.Header.Get("X-Api-Key")
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="bad token `+strings.ReplaceAll(all, `"`, "")+`"`)
		w.Header().Set("X-Request-Id", r.Header.Get("X-Api-Key"))
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(401)
		json.NewEncoder(w).Encode(map[string]string{"title": "nope", "detail": "you sent " + all})
	}
	s := serve(t, time.Time{}, echo)
	token := tokenAt(now, now.Add(time.Hour))
	secrets := map[string]doctor.Options{
		"Correct-Horse-9":             {BasicUser: "alice", BasicPassword: "Correct-Horse-9"},
		token:                         {Token: token},
		"agk_abcdefghijkl_s3cr3tpart": {APIKey: "agk_abcdefghijkl_s3cr3tpart"},
		"handwritten-0123456789":      {Header: http.Header{"Authorization": {"Token handwritten-0123456789"}}},
	}
	for secret, o := range secrets {
		o.URL = s.URL + "/x?access_token=" + secret
		r := check(t, o)
		for _, asJSON := range []bool{false, true} {
			if out := render(t, r, asJSON); strings.Contains(out, secret) {
				t.Errorf("output (json %v) carries the secret %.8s…:\n%s", asJSON, secret, out)
			}
		}
	}
}
