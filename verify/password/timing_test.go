package password

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/reason"
)

func TestFailedAttemptsCostTheSameForEveryUser(t *testing.T) {
	f := newFixture(t)
	// Aladdin has a recent previous password, bob only an old one, carol
	// none; Cassim does not exist. None of that may change the count.
	users := []string{"Aladdin", "bob", "carol", "Cassim"}
	tests := []struct {
		password        string
		previousChecked int
		want            int64
	}{
		{"wrong pass", 1, 3},     // primary, case-inverted, 1 previous
		{" wrong pass ", 1, 4},   // primary, trimmed, case-inverted, 1 previous
		{"12345", 1, 2},          // no letters: primary, 1 previous
		{" 12345", 3, 5},         // primary, trimmed, 3 previous
		{"camel", 2, 4},          // Aladdin's previous password: still the full sequence
		{"OPEN SESAME", 1, 3},    // Aladdin's slip: still the full sequence
		{" Wrong Pass\n", -1, 3}, // no previous checked: primary, trimmed, inverted
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q with %d previous checked costs %d hashes", tt.password, tt.previousChecked, tt.want), func(t *testing.T) {
			v := f.verifier(Options{DetectSlips: true, PreviousChecked: tt.previousChecked})
			n := countHashes(v)
			for _, user := range users {
				n.Store(0)
				vd, err := v.Verify(context.Background(), authgate.Credential{Username: user, Secret: tt.password})
				if err != nil {
					t.Fatal(err)
				}
				if vd.Reason == "" {
					t.Fatalf("%s was allowed", user)
				}
				if got := n.Load(); got != tt.want {
					t.Errorf("%s (%s): %d hash computations, want %d", user, vd.Reason, got, tt.want)
				}
				if bound := int64(3 + max(tt.previousChecked, 0)); n.Load() > bound {
					t.Errorf("%s: %d hash computations exceed the documented bound %d", user, n.Load(), bound)
				}
			}
		})
	}
}

func TestABusyHasherAnswersPasswordCheckBusy(t *testing.T) {
	f := newFixture(t)
	v := f.verifier(Options{MaxConcurrent: 1, QueueTimeout: 20 * time.Millisecond})
	v.sem <- struct{}{} // another attempt holds the only slot
	defer v.release()

	for _, user := range []string{"Aladdin", "Cassim"} {
		_, err := v.Verify(context.Background(), authgate.Credential{Username: user, Secret: "open sesame"})
		var ue *authgate.UnavailableError
		if !errors.As(err, &ue) || ue.Reason != reason.PasswordCheckBusy || ue.RetryAfter != time.Second {
			t.Errorf("%s: error = %v, want password_check_busy with Retry-After 1s", user, err)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	v.opts.QueueTimeout = time.Hour
	_, err := v.Verify(ctx, authgate.Credential{Username: "Aladdin", Secret: "open sesame"})
	var ue *authgate.UnavailableError
	if !errors.As(err, &ue) || ue.Reason != reason.PasswordCheckBusy || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: error = %v, want password_check_busy wrapping context.Canceled", err)
	}
}

func TestTheCacheSkipsHashingUntilThePasswordChanges(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	v := f.verifier(Options{DetectSlips: true})
	n := countHashes(v)
	verify := func(pw string) (authgate.Verdict, int64) {
		t.Helper()
		n.Store(0)
		vd, err := v.Verify(ctx, authgate.Credential{Username: "Aladdin", Secret: pw})
		if err != nil {
			t.Fatal(err)
		}
		return vd, n.Load()
	}

	if vd, hashes := verify("open sesame"); vd.Reason != "" || hashes != 1 {
		t.Fatalf("first login: reason %q, %d hashes; want allowed after 1", vd.Reason, hashes)
	}
	vd, hashes := verify("open sesame")
	if vd.Reason != "" || hashes != 0 || vd.Checks[1].Name != "password.cache" || vd.Checks[1].Result != authgate.Pass {
		t.Fatalf("repeated login: reason %q, %d hashes, checks %+v; want a cache hit", vd.Reason, hashes, vd.Checks)
	}
	if vd, hashes := verify("open sesame?"); vd.Reason != reason.PasswordWrong || hashes == 0 {
		t.Errorf("a wrong password after a cached login: reason %q after %d hashes", vd.Reason, hashes)
	}

	newHash, err := passhash.Hash("new password", fast)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetPassword(ctx, "Aladdin", newHash); err != nil {
		t.Fatal(err)
	}
	if vd, hashes := verify("open sesame"); vd.Reason != reason.PasswordPrevious || hashes == 0 {
		t.Errorf("the old password after SetPassword: reason %q after %d hashes; want password_previous, hashed", vd.Reason, hashes)
	}
	if vd, _ := verify("new password"); vd.Reason != "" {
		t.Errorf("the new password: reason %q, want allowed", vd.Reason)
	}
}

func TestTheCacheIsBounded(t *testing.T) {
	c := newCache([]byte("key"), 3)
	for i := range 10 {
		c.put(c.id("u", fmt.Sprint(i)), "h")
	}
	if c.len() != 3 {
		t.Errorf("cache holds %d entries, want at most 3", c.len())
	}
}
