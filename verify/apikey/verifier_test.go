package apikey_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/sqlite"
	"github.com/authgate/authgate/verify/apikey"
	"github.com/google/go-cmp/cmp"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// keys is a real store holding a key in every state, 3 days and 1 hour
// after they were created.
type keys struct {
	store                    *sqlite.Store
	clock                    *clock
	active, revoked, expired sqlite.Issued
	inOverlap, overlapEnded  sqlite.Issued
	inOverlapNext, endedNext sqlite.Issued
}

func newKeys(t testing.TB) keys {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 11, 17, 10, 0, 0, 0, time.UTC)}
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "keys.db"), sqlite.Options{Now: c.Now, RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	k := keys{store: s, clock: c}
	create := func(expires time.Time) sqlite.Issued {
		t.Helper()
		iss, err := s.CreateKey(ctx, "ci", []string{"deploy"}, expires)
		if err != nil {
			t.Fatal(err)
		}
		return iss
	}
	rotate := func(id string, overlap time.Duration) sqlite.Issued {
		t.Helper()
		iss, err := s.RotateKey(ctx, id, overlap)
		if err != nil {
			t.Fatal(err)
		}
		return iss
	}
	year := c.Now().Add(365 * 24 * time.Hour)
	k.active, k.revoked, k.expired = create(year), create(year), create(c.Now().Add(time.Hour))
	k.inOverlap, k.overlapEnded = create(year), create(year)
	k.endedNext = rotate(k.overlapEnded.ID, 24*time.Hour)
	c.Advance(3 * 24 * time.Hour)
	k.inOverlapNext = rotate(k.inOverlap.ID, 72*time.Hour)
	if err := s.RevokeKey(ctx, k.revoked.ID); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	return k
}

// alter changes the last character of a key's secret, keeping its format.
func alter(key string) string {
	last := key[len(key)-1]
	if last == 'A' {
		return key[:len(key)-1] + "B"
	}
	return key[:len(key)-1] + "A"
}

type outcome struct {
	Reason    reason.Code
	Claimed   string
	Principal authgate.Principal
	FailedBy  string
}

func TestVerify(t *testing.T) {
	k := newKeys(t)
	v := apikey.New(k.store, apikey.Options{Now: k.clock.Now})
	unknownKey, unknownID, _, _ := apikey.Generate()
	allowed := func(id string) outcome {
		return outcome{Claimed: id, Principal: authgate.Principal{Subject: "ci", Method: authgate.MethodAPIKey, KeyID: id, Scopes: []string{"deploy"}}}
	}
	tests := []struct {
		name string
		key  string
		want outcome
	}{
		{"an active key is allowed as its owner", k.active.Key, allowed(k.active.ID)},
		{"a rotated key within its overlap is still allowed", k.inOverlap.Key, allowed(k.inOverlap.ID)},
		{"the successor of a rotated key is allowed", k.inOverlapNext.Key, allowed(k.inOverlapNext.ID)},
		{"an empty key is api_key_malformed", "", outcome{Reason: reason.APIKeyMalformed, FailedBy: "apikey.format"}},
		{"a key from another service is api_key_malformed", "sk_live_51Habc", outcome{Reason: reason.APIKeyMalformed, FailedBy: "apikey.format"}},
		{"a truncated key is api_key_malformed", k.active.Key[:40], outcome{Reason: reason.APIKeyMalformed, FailedBy: "apikey.format"}},
		{"a key with an upper-case id is api_key_malformed", "agk_" + strings.ToUpper(k.active.Key[4:16]) + k.active.Key[16:], outcome{Reason: reason.APIKeyMalformed, FailedBy: "apikey.format"}},
		{"a well-formed key that was never issued is api_key_unknown", unknownKey, outcome{Reason: reason.APIKeyUnknown, Claimed: unknownID, FailedBy: "apikey.lookup"}},
		{"a key with an altered secret is api_key_secret_wrong", alter(k.active.Key), outcome{Reason: reason.APIKeySecretWrong, Claimed: k.active.ID, FailedBy: "apikey.secret"}},
		{"a revoked key with a wrong secret is api_key_secret_wrong, not revealing the state", alter(k.revoked.Key), outcome{Reason: reason.APIKeySecretWrong, Claimed: k.revoked.ID, FailedBy: "apikey.secret"}},
		{"a revoked key is api_key_revoked", k.revoked.Key, outcome{Reason: reason.APIKeyRevoked, Claimed: k.revoked.ID, FailedBy: "apikey.state"}},
		{"a rotated key after its overlap is key_rotated", k.overlapEnded.Key, outcome{Reason: reason.KeyRotated, Claimed: k.overlapEnded.ID, FailedBy: "apikey.state"}},
		{"a key past its expiry is api_key_expired", k.expired.Key, outcome{Reason: reason.APIKeyExpired, Claimed: k.expired.ID, FailedBy: "apikey.expiry"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vd, err := v.Verify(context.Background(), authgate.Credential{Method: authgate.MethodAPIKey, Secret: tt.key})
			if err != nil {
				t.Fatal(err)
			}
			got := outcome{Reason: vd.Reason, Claimed: vd.Claimed, Principal: vd.Principal}
			for _, c := range vd.Checks {
				if c.Reason != "" {
					got.FailedBy = c.Name
				}
				if _, secret, ok := apikey.Parse(tt.key); ok && strings.Contains(c.Detail, secret) {
					t.Errorf("check %s holds the key's secret", c.Name)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRotationChecksNameTheSuccessor(t *testing.T) {
	k := newKeys(t)
	v := apikey.New(k.store, apikey.Options{Now: k.clock.Now})
	tests := []struct {
		name       string
		key        string
		successor  string
		wantResult authgate.Result
	}{
		{"within the overlap, an info check names the successor", k.inOverlap.Key, k.inOverlapNext.ID, authgate.Info},
		{"after the overlap, the failing check names the successor", k.overlapEnded.Key, k.endedNext.ID, authgate.Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vd, _ := v.Verify(context.Background(), authgate.Credential{Secret: tt.key})
			state := vd.Checks[len(vd.Checks)-1]
			if tt.wantResult == authgate.Info {
				state = vd.Checks[len(vd.Checks)-2]
			}
			if state.Name != "apikey.state" || state.Result != tt.wantResult || !strings.Contains(state.Detail, tt.successor) {
				t.Errorf("state check = %+v, want %s naming %s", state, tt.wantResult, tt.successor)
			}
		})
	}
}

type keyStoreFunc func(ctx context.Context, id string) (authgate.APIKey, error)

func (f keyStoreFunc) APIKey(ctx context.Context, id string) (authgate.APIKey, error) {
	return f(ctx, id)
}

func TestAStoreThatCannotAnswerIsStoreUnavailable(t *testing.T) {
	down := keyStoreFunc(func(context.Context, string) (authgate.APIKey, error) {
		return authgate.APIKey{}, errors.New("database is locked")
	})
	key, id, _, _ := apikey.Generate()
	vd, err := apikey.New(down, apikey.Options{}).Verify(context.Background(), authgate.Credential{Secret: key})
	var ue *authgate.UnavailableError
	if !errors.As(err, &ue) || ue.Reason != reason.StoreUnavailable {
		t.Fatalf("error = %v, want store_unavailable", err)
	}
	if vd.Claimed != id || strings.Contains(err.Error(), key[len(key)-20:]) {
		t.Errorf("verdict %+v / error %q", vd, err)
	}
}

func TestGenerateAndParse(t *testing.T) {
	key, id, hash, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	gotID, secret, ok := apikey.Parse(key)
	if !ok || gotID != id || len(key) != apikey.KeyLen || !cmp.Equal(apikey.HashSecret(secret), hash) {
		t.Fatalf("Parse(Generate()) = %q, %v; key length %d", gotID, ok, len(key))
	}
	if other, _, _, _ := apikey.Generate(); other == key {
		t.Error("two generated keys are equal")
	}
	if p := apikey.Problem(key[:len(key)-1]); p == "" || strings.Contains(p, key[20:]) {
		t.Errorf("Problem of a truncated key = %q", p)
	}
}

func BenchmarkVerify(b *testing.B) {
	k := newKeys(b)
	v := apikey.New(k.store, apikey.Options{Now: k.clock.Now})
	cred := authgate.Credential{Method: authgate.MethodAPIKey, Secret: k.active.Key}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if vd, err := v.Verify(ctx, cred); err != nil || vd.Reason != "" {
			b.Fatal(vd.Reason, err)
		}
	}
}
