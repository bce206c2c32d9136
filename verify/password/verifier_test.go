package password

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/sqlite"
	"github.com/google/go-cmp/cmp"
)

// fast keeps tests quick where the cost of hashing is not the subject.
var fast = passhash.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fixture is a real SQLite store with users whose password histories cover
// every reason, and a clock 101 days after the first user was created.
type fixture struct {
	store *sqlite.Store
	clock *clock
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 8, 15, 10, 0, 0, 0, time.UTC)}
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "users.db"), sqlite.Options{Now: c.Now, RefreshInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	h := func(pw string) string {
		t.Helper()
		out, err := passhash.Hash(pw, fast)
		must(err)
		return out
	}
	must(s.AddUser(ctx, "Aladdin", h("lamp"), []string{"read"}))
	must(s.AddUser(ctx, "bob", h("ancient"), nil))
	must(s.AddUser(ctx, "carol", h("carol's password"), nil))
	must(s.SetPassword(ctx, "bob", h("bob's new password")))
	c.Advance(98 * 24 * time.Hour)
	must(s.SetPassword(ctx, "Aladdin", h("camel")))
	c.Advance(24 * time.Hour)
	must(s.SetPassword(ctx, "Aladdin", h("open sesame")))
	c.Advance(2 * 24 * time.Hour)
	return fixture{store: s, clock: c}
}

func (f fixture) verifier(opts Options) *Verifier {
	opts.Now = f.clock.Now
	opts.Argon2 = fast
	return New(f.store, opts)
}

// countHashes makes v count its hash computations.
func countHashes(v *Verifier) *atomic.Int64 {
	var n atomic.Int64
	v.verifyHash = func(encoded, password string) (bool, error) {
		n.Add(1)
		return passhash.Verify(encoded, password)
	}
	return &n
}

// outcome is what the tests compare: the verdict's reason, who it names,
// and which check carries the reason.
type outcome struct {
	Reason    reason.Code
	Claimed   string
	Principal authgate.Principal
	FailedBy  string
}

func outcomeOf(vd authgate.Verdict) outcome {
	o := outcome{Reason: vd.Reason, Claimed: vd.Claimed, Principal: vd.Principal}
	for _, c := range vd.Checks {
		if c.Reason != "" {
			o.FailedBy = c.Name
		}
	}
	return o
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(Options{DetectSlips: true})
	deny := func(user string, code reason.Code, check string) outcome {
		return outcome{Reason: code, Claimed: user, FailedBy: check}
	}
	tests := []struct {
		name, user, password string
		want                 outcome
	}{
		{"RFC 7617's Aladdin with open sesame is allowed with his scopes", "Aladdin", "open sesame",
			outcome{Claimed: "Aladdin", Principal: authgate.Principal{Subject: "Aladdin", Method: authgate.MethodBasic, Scopes: []string{"read"}}}},
		{"a wrong password is password_wrong", "Aladdin", "open sesame!", deny("Aladdin", reason.PasswordWrong, "password.hash")},
		{"an empty password is password_wrong", "Aladdin", "", deny("Aladdin", reason.PasswordWrong, "password.hash")},
		{"an unknown user is user_unknown", "Cassim", "open sesame", deny("Cassim", reason.UserUnknown, "password.user")},
		{"user names are case-sensitive, so aladdin is user_unknown", "aladdin", "open sesame", deny("aladdin", reason.UserUnknown, "password.user")},
		{"a trailing newline is password_whitespace", "Aladdin", "open sesame\n", deny("Aladdin", reason.PasswordWhitespace, "password.slips")},
		{"leading spaces are password_whitespace", "Aladdin", "  open sesame", deny("Aladdin", reason.PasswordWhitespace, "password.slips")},
		{"the password typed with Caps Lock is password_caps_lock", "Aladdin", "OPEN SESAME", deny("Aladdin", reason.PasswordCapsLock, "password.slips")},
		{"the password replaced 2 days ago is password_previous", "Aladdin", "camel", deny("Aladdin", reason.PasswordPrevious, "password.previous")},
		{"the password before that is not checked when PreviousChecked is 1", "Aladdin", "lamp", deny("Aladdin", reason.PasswordWrong, "password.hash")},
		{"a password replaced 101 days ago is beyond KeepPrevious and password_wrong", "bob", "ancient", deny("bob", reason.PasswordWrong, "password.hash")},
		{"a user without previous passwords gets password_wrong", "carol", "camel", deny("carol", reason.PasswordWrong, "password.hash")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vd, err := v.Verify(context.Background(), authgate.Credential{Method: authgate.MethodBasic, Username: tt.user, Secret: tt.password})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, outcomeOf(vd)); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
			assertNoPassword(t, vd, tt.password)
		})
	}
}

func TestMorePreviousPasswordsAreCheckedWhenConfigured(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(Options{DetectSlips: true, PreviousChecked: 2})
	vd, err := v.Verify(context.Background(), authgate.Credential{Username: "Aladdin", Secret: "lamp"})
	if err != nil {
		t.Fatal(err)
	}
	if vd.Reason != reason.PasswordPrevious {
		t.Errorf("reason = %s, want %s", vd.Reason, reason.PasswordPrevious)
	}
}

func TestWithoutSlipDetectionEveryFailureIsPasswordWrong(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(Options{})
	n := countHashes(v)
	for _, pw := range []string{"camel", "OPEN SESAME", " open sesame"} {
		vd, err := v.Verify(context.Background(), authgate.Credential{Username: "Aladdin", Secret: pw})
		if err != nil || vd.Reason != reason.PasswordWrong {
			t.Errorf("Verify(%q) = %s, %v; want password_wrong", pw, vd.Reason, err)
		}
	}
	if n.Load() != 3 {
		t.Errorf("%d hash computations for 3 attempts, want 3", n.Load())
	}
}

// userStoreFunc adapts a function to authgate.UserStore, to stand for a
// store that cannot answer.
type userStoreFunc func(ctx context.Context, name string) (authgate.User, error)

func (f userStoreFunc) User(ctx context.Context, name string) (authgate.User, error) {
	return f(ctx, name)
}

func TestAStoreThatCannotAnswerIsStoreUnavailable(t *testing.T) {
	down := userStoreFunc(func(context.Context, string) (authgate.User, error) {
		return authgate.User{}, errors.New("disk I/O error")
	})
	v := New(down, Options{Argon2: fast})
	vd, err := v.Verify(context.Background(), authgate.Credential{Username: "Aladdin", Secret: "open sesame"})
	var ue *authgate.UnavailableError
	if !errors.As(err, &ue) || ue.Reason != reason.StoreUnavailable {
		t.Fatalf("error = %v, want store_unavailable", err)
	}
	if vd.Claimed != "Aladdin" || vd.Reason != "" {
		t.Errorf("verdict = %+v", vd)
	}
}

func assertNoPassword(t *testing.T, vd authgate.Verdict, password string) {
	t.Helper()
	if len(strings.TrimSpace(password)) < 3 {
		return
	}
	for _, c := range vd.Checks {
		if strings.Contains(c.Detail, strings.TrimSpace(password)) {
			t.Errorf("check %s holds the password: %q", c.Name, c.Detail)
		}
	}
}
