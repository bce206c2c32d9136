package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/authgate/authgate/passhash"
)

// A user imported with a bcrypt hash signs in with Basic: the gateway
// answers at once and then stores an argon2id hash with the configured
// parameters, unless passwords.upgrade_hashes says false.
func TestSignInUpgradesAnImportedHash(t *testing.T) {
	for _, on := range []bool{true, false} {
		h := newHarnessEdited(t, func(cfg string) string {
			if on {
				return cfg
			}
			return strings.Replace(cfg, "passwords:\n", "passwords:\n  upgrade_hashes: false\n", 1)
		})
		bc, err := bcrypt.GenerateFromPassword([]byte("imported pw"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := h.srv.Store().AddUser(ctx, "imported", string(bc), nil); err != nil {
			t.Fatal(err)
		}
		resp, _ := h.do(http.MethodGet, "/v/x", basic("imported", "imported pw"))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("upgrade_hashes %v: status %d", on, resp.StatusCode)
		}
		want := "bcrypt"
		if on {
			want = "argon2id m=1024 t=1 p=1"
		}
		got := ""
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			u, err := h.srv.Store().User(ctx, "imported")
			if err != nil {
				t.Fatal(err)
			}
			if got = passhash.Describe(u.PasswordHash); got == want || !on {
				break
			}
		}
		if got != want {
			t.Errorf("upgrade_hashes %v: the stored hash is %s, want %s", on, got, want)
		}
		d := lookup(t, h, resp.Header.Get("X-Request-Id"))
		traced := false
		for _, c := range d.Checks {
			traced = traced || c.Name == "password.upgrade"
		}
		if traced != on {
			t.Errorf("upgrade_hashes %v: a password.upgrade check in the trace: %v", on, traced)
		}
		if logged := strings.Contains(h.log.String(), "password hash upgraded"); logged != on {
			t.Errorf("upgrade_hashes %v: logged the upgrade: %v\n%s", on, logged, h.log.String())
		}
	}
}
