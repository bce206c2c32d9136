package jwt_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	jwtverify "github.com/authgate/authgate/verify/jwt"
)

func TestKeyRotationRefreshesOncePerInterval(t *testing.T) {
	old, rotated := genKey(t, "p256", "2026-10"), genKey(t, "p256", "2026-11")
	f := newFixture(t, []testKey{old}, jwtverify.Options{})
	if n := f.srv.fetches.Load(); n != 1 {
		t.Fatalf("Start made %d fetches, want 1", n)
	}

	f.srv.setKeys(t, old, rotated)
	v, err := f.verify(t, mint(t, rotated, "ES256", claimsAt(t0)))
	if err != nil || v.Reason != "" {
		t.Fatalf("token with the new kid: reason %q, err %v, trace %+v", v.Reason, err, v.Checks)
	}
	if n := f.srv.fetches.Load(); n != 2 {
		t.Errorf("after the new kid: %d fetches, want 2 (exactly one refresh)", n)
	}
	if check(v, "jwt.jwks").Result != authgate.Info {
		t.Errorf("trace does not record the refresh: %+v", v.Checks)
	}

	stranger := testKey{kid: "2026-12", priv: old.priv}
	f.clock.Advance(10 * time.Second)
	v, err = f.verify(t, mint(t, stranger, "ES256", claimsAt(f.clock.Now())))
	if err != nil || v.Reason != reason.KeyUnknown {
		t.Fatalf("second unknown kid within MinRefreshInterval: reason %q, err %v", v.Reason, err)
	}
	if n := f.srv.fetches.Load(); n != 2 {
		t.Errorf("second unknown kid within MinRefreshInterval fetched again: %d fetches, want 2", n)
	}

	f.clock.Advance(jwtverify.DefaultMinRefreshInterval)
	v, _ = f.verify(t, mint(t, stranger, "ES256", claimsAt(f.clock.Now())))
	if v.Reason != reason.KeyUnknown || f.srv.fetches.Load() != 3 {
		t.Errorf("unknown kid after the interval: reason %q, %d fetches; want key_unknown after a third fetch", v.Reason, f.srv.fetches.Load())
	}
}

func TestConcurrentUnknownKidsCauseOneFetch(t *testing.T) {
	old, rotated := genKey(t, "p256", "c-old"), genKey(t, "p256", "c-new")
	for _, tc := range []struct {
		name      string
		sameKid   bool
		wantAllow bool
	}{
		{name: "50 requests with the same new kid → one fetch, all allowed", sameKid: true, wantAllow: true},
		{name: "50 requests with 50 different unknown kids → one fetch, all key_unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, []testKey{old}, jwtverify.Options{})
			f.srv.setKeys(t, old, rotated)
			var wg sync.WaitGroup
			verdicts := make([]authgate.Verdict, 50)
			for i := range verdicts {
				k := rotated
				if !tc.sameKid {
					k = testKey{kid: fmt.Sprintf("random-%d", i), priv: rotated.priv}
				}
				tok := mint(t, k, "ES256", claimsAt(t0))
				wg.Go(func() {
					v, err := f.verify(t, tok)
					if err != nil {
						t.Errorf("request %d: %v", i, err)
					}
					verdicts[i] = v
				})
			}
			wg.Wait()
			if n := f.srv.fetches.Load(); n != 2 {
				t.Errorf("%d fetches, want 2 (start + one refresh)", n)
			}
			for i, v := range verdicts {
				if allowed := v.Reason == ""; allowed != tc.wantAllow {
					t.Errorf("request %d: reason %q", i, v.Reason)
				}
			}
		})
	}
}

// wantUnavailable asserts err is the 503 issuer_unavailable error.
func wantUnavailable(t *testing.T, v authgate.Verdict, err error) *authgate.UnavailableError {
	t.Helper()
	var ue *authgate.UnavailableError
	if !errors.As(err, &ue) || ue.Reason != reason.IssuerUnavailable {
		t.Fatalf("Verify error = %v (verdict reason %q), want *UnavailableError with issuer_unavailable", err, v.Reason)
	}
	if ue.RetryAfter <= 0 {
		t.Errorf("RetryAfter = %v, want > 0", ue.RetryAfter)
	}
	if v.Reason != reason.IssuerUnavailable {
		t.Errorf("verdict reason = %q alongside the error, want issuer_unavailable", v.Reason)
	}
	return ue
}

func TestIssuerUnavailable(t *testing.T) {
	k := genKey(t, "p256", "u1")
	tests := []struct {
		name  string
		setup func(t *testing.T) (url string, timeout time.Duration)
	}{
		{name: "JWKS server closed before start → issuer_unavailable error", setup: func(t *testing.T) (string, time.Duration) {
			srv := newJWKSServer(t, k)
			srv.Close()
			return srv.URL, 0
		}},
		{name: "JWKS server answering 500 → issuer_unavailable error", setup: func(t *testing.T) (string, time.Duration) {
			srv := newJWKSServer(t, k)
			srv.setStatus(http.StatusInternalServerError)
			return srv.URL, 0
		}},
		{name: "JWKS server answering HTML → issuer_unavailable error", setup: func(t *testing.T) (string, time.Duration) {
			srv := newJWKSServer(t, k)
			srv.setBody([]byte("<html>maintenance</html>"))
			return srv.URL, 0
		}},
		{name: "JWKS server that never answers → issuer_unavailable error after FetchTimeout", setup: func(t *testing.T) (string, time.Duration) {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) })
			return srv.URL, 50 * time.Millisecond
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, timeout := tt.setup(t)
			clk := &clock{now: t0}
			v, err := jwtverify.New([]jwtverify.Issuer{{Name: "corp", Issuer: testIssuer, JWKSURL: url, Audiences: []string{testAudience}, FetchTimeout: timeout}},
				jwtverify.Options{Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			v.Start(t.Context())
			if v.Health() == nil {
				t.Errorf("Health() = nil after a failed start")
			}
			verdict, err := v.Verify(t.Context(), authgate.Credential{Method: authgate.MethodBearer, Secret: mint(t, k, "ES256", claimsAt(t0))})
			wantUnavailable(t, verdict, err)
		})
	}
}

func TestKnownKeysOutliveAnOutage(t *testing.T) {
	k := genKey(t, "p256", "o1")
	f := newFixture(t, []testKey{k}, jwtverify.Options{CacheSize: -1})
	f.srv.setStatus(http.StatusServiceUnavailable)

	v, err := f.verify(t, mint(t, k, "ES256", claimsAt(t0)))
	if err != nil || v.Reason != "" {
		t.Fatalf("known kid during an outage: reason %q, err %v", v.Reason, err)
	}
	v, err = f.verify(t, mint(t, testKey{kid: "o2", priv: k.priv}, "ES256", claimsAt(t0)))
	ue := wantUnavailable(t, v, err)
	var se *jwtverify.StatusError
	if !errors.As(ue, &se) || se.Status != http.StatusServiceUnavailable {
		t.Errorf("cause = %v, want *StatusError 503", ue.Err)
	}
	// Within MinRefreshInterval no new fetch runs, but the answer stays
	// "could not decide" because the latest fetch failed.
	before := f.srv.fetches.Load()
	v, err = f.verify(t, mint(t, testKey{kid: "o3", priv: k.priv}, "ES256", claimsAt(t0)))
	wantUnavailable(t, v, err)
	if f.srv.fetches.Load() != before {
		t.Errorf("rate-limited refresh still fetched")
	}
}

func TestCancelledRequestDoesNotWaitForFetch(t *testing.T) {
	k := genKey(t, "p256", "x1")
	f := newFixture(t, []testKey{k}, jwtverify.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.v.Verify(ctx, authgate.Credential{Secret: mint(t, testKey{kid: "x2", priv: k.priv}, "ES256", claimsAt(t0))})
	var ue *authgate.UnavailableError
	if err != nil && !errors.As(err, &ue) {
		t.Errorf("error %v is not an UnavailableError", err)
	}
}
