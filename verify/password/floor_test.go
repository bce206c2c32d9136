package password

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/htpasswd"
	"github.com/authgate/authgate/reason"
)

func TestFloorPadsFasterFailuresToTheSlowest(t *testing.T) {
	var f floor
	t0 := time.Unix(0, 0)
	steps := []struct {
		took, after time.Duration
		want        time.Duration
	}{
		{80 * time.Millisecond, 0, 0},                                      // the first failure sets the floor
		{30 * time.Millisecond, time.Second, 50 * time.Millisecond},        // a cheaper hash waits the difference
		{90 * time.Millisecond, time.Second, 0},                            // a slower one raises the floor
		{10 * time.Millisecond, 2 * time.Minute, 12500 * time.Microsecond}, // after two idle minutes the floor is a quarter
		{0, time.Second, 22500 * time.Microsecond},
	}
	at := t0
	for i, s := range steps {
		at = at.Add(s.after)
		if got := f.wait(s.took, at); got != s.want {
			t.Errorf("step %d: wait %v, want %v", i, got, s.want)
		}
	}
	var g floor
	g.wait(time.Hour, t0)
	if got := g.wait(0, t0); got != maxPad {
		t.Errorf("padding is bounded: %v, want %v", got, maxPad)
	}
}

// TestACheapHashAnswersNoFasterThanAnUnknownName imports a user with a
// {SHA} hash (microseconds) and checks that its failures are padded to the
// argon2id dummy that unknown names are checked against.
func TestACheapHashAnswersNoFasterThanAnUnknownName(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	os.WriteFile(path, []byte("dave:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"), 0o600) // "password"
	users, err := htpasswd.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	v := New(users, Options{DetectSlips: true}) // default argon2id dummy: tens of ms
	var mu sync.Mutex
	var padded []time.Duration
	v.sleep = func(_ context.Context, d time.Duration) {
		mu.Lock()
		padded = append(padded, d)
		mu.Unlock()
	}
	ctx := context.Background()
	if vd, _ := v.Verify(ctx, authgate.Credential{Username: "nobody", Secret: "x"}); vd.Reason != reason.UserUnknown {
		t.Fatalf("unknown: %q", vd.Reason)
	}
	if vd, _ := v.Verify(ctx, authgate.Credential{Username: "dave", Secret: "wrong"}); vd.Reason != reason.PasswordWrong {
		t.Fatalf("dave: %q", vd.Reason)
	}
	if vd, _ := v.Verify(ctx, authgate.Credential{Username: "dave", Secret: "password"}); vd.Reason != "" {
		t.Fatalf("dave's right password: %q", vd.Reason)
	}
	if len(padded) != 2 || padded[0] != 0 || padded[1] < 5*time.Millisecond {
		t.Errorf("padding %v: the {SHA} failure must wait for about the dummy's argon2id time; successes are never padded", padded)
	}
}

func TestSlipsAreNotLookedForWhileOthersWaitToHash(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(Options{DetectSlips: true})
	n := countHashes(v)
	v.waiting.Store(3) // three checks queued behind this one
	vd, _ := v.Verify(context.Background(), authgate.Credential{Username: "carol", Secret: "CAROL'S PASSWORD"})
	if vd.Reason != reason.PasswordWrong || n.Load() != 1 {
		t.Errorf("reason %q after %d hashes, want password_wrong after 1 (no slip probes under load)", vd.Reason, n.Load())
	}
	v.waiting.Store(0)
	n.Store(0)
	if vd, _ := v.Verify(context.Background(), authgate.Credential{Username: "carol", Secret: "CAROL'S PASSWORD"}); vd.Reason != reason.PasswordCapsLock {
		t.Errorf("idle: reason %q, want password_caps_lock", vd.Reason)
	}
}
