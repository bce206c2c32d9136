package accountstest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

// useCode returns an op that uses digest for user name on s and fails
// unless UseRecoveryCode reports want.
func useCode(e *env, s accounts.Store, name string, digest []byte, want bool) func() error {
	return func() error {
		used, err := s.UseRecoveryCode(e.ctx, name, digest)
		if err == nil && used != want {
			return fmt.Errorf("UseRecoveryCode = %t, want %t", used, want)
		}
		return err
	}
}

func testRecoveryCodeOnce(t *testing.T, e *env) {
	codes := map[string][][]byte{"Aladdin": digests("Aladdin", 3), "bob": digests("bob", 2)}
	for _, name := range []string{"Aladdin", "bob"} {
		must(t, e.s.AddUser(e.ctx, name, hash(t, name), nil))
		must(t, e.s.EnrollTOTP(e.ctx, name, sealedSecret(name), codes[name]))
	}
	a, b := codes["Aladdin"], codes["bob"]
	guess := sha256.Sum256([]byte("a guess"))
	tests := []struct {
		name   string
		user   string
		digest []byte
		want   bool
	}{
		{"a code of another user does not work", "Aladdin", b[0], false},
		{"a code never issued does not work", "Aladdin", guess[:], false},
		{"an empty digest does not work", "Aladdin", nil, false},
		{"a code works", "Aladdin", a[1], true},
		{"the same code does not work twice", "Aladdin", a[1], false},
		{"the other user's code still works for its own user", "bob", b[0], true},
		{"another code works", "Aladdin", a[0], true},
		{"a code used by one user still does not work for the other", "bob", a[0], false},
	}
	left := map[string][][]byte{"Aladdin": a, "bob": b}
	for _, tt := range tests {
		used, err := e.s.UseRecoveryCode(e.ctx, tt.user, tt.digest)
		if err != nil || used != tt.want {
			t.Fatalf("%s: UseRecoveryCode = %t, %v; want %t, nil", tt.name, used, err, tt.want)
		}
		if used {
			left[tt.user] = slices.DeleteFunc(slices.Clone(left[tt.user]), func(d []byte) bool { return bytes.Equal(d, tt.digest) })
		}
		fresh := dump(t, e.s).Users
		for i, name := range []string{"Aladdin", "bob"} {
			want := authgate.User{Name: name, TOTPSecret: sealedSecret(name), RecoveryCodes: left[name]}
			for what, got := range map[string]authgate.User{"looked up": user(t, e.s, name), "read afresh": fresh[i]} {
				got = authgate.User{Name: got.Name, TOTPSecret: got.TOTPSecret, RecoveryCodes: got.RecoveryCodes}
				if diff := cmp.Diff(want, got, options); diff != "" {
					t.Fatalf("%s: user %s %s (-want +got):\n%s", tt.name, name, what, diff)
				}
			}
		}
	}
}

func testRecoveryCodeRace(t *testing.T, e *env) {
	tests := []struct {
		name    string
		handles func() []accounts.Store
	}{
		{"on one handle", func() []accounts.Store { return []accounts.Store{e.s} }},
		{"on two handles", func() []accounts.Store { return []accounts.Store{e.s, e.again()} }},
	}
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), nil))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const racers = 8
			handles := tt.handles()
			codes := digests(tt.name, 4)
			if user(t, e.s, "Aladdin").Enrolled() {
				must(t, e.s.ResetTOTP(e.ctx, "Aladdin")) // enrolling does not replace an enrollment
			}
			must(t, e.s.EnrollTOTP(e.ctx, "Aladdin", sealedSecret(tt.name), codes))
			for _, code := range codes {
				var wg sync.WaitGroup
				var mu sync.Mutex
				wins := 0
				start := make(chan struct{})
				for i := range racers {
					wg.Go(func() {
						<-start
						used, err := handles[i%len(handles)].UseRecoveryCode(e.ctx, "Aladdin", code)
						if err != nil {
							t.Errorf("UseRecoveryCode: %v", err)
						}
						if used {
							mu.Lock()
							wins++
							mu.Unlock()
						}
					})
				}
				close(start)
				wg.Wait()
				if wins != 1 {
					t.Errorf("%d of %d racers used the same code, want exactly 1", wins, racers)
				}
			}
			for _, h := range handles {
				must(t, h.Refresh(e.ctx))
				if got := user(t, h, "Aladdin").RecoveryCodes; len(got) != 0 {
					t.Errorf("%d codes left after each was used, want none", len(got))
				}
			}
		})
	}
}
