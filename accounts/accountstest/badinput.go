package accountstest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

// testBadInputChangesNothing runs every admin operation with input it must
// refuse, against a store holding users and keys in every state, and
// checks the error and that nothing changed.
func testBadInputChangesNothing(t *testing.T, e *env) {
	ctx, s := e.ctx, e.s
	good := hash(t, "open sesame")
	expiring, err := s.CreateKey(ctx, "ci", nil, e.clock.Now().Add(time.Hour))
	must(t, err)
	e.clock.Advance(2 * time.Hour)
	must(t, s.AddUser(ctx, "Aladdin", good, []string{"read"}))
	must(t, s.AddUser(ctx, "disabled", good, nil))
	must(t, s.SetUserDisabled(ctx, "disabled", true))
	must(t, s.AddUser(ctx, "must-change", good, nil))
	must(t, s.RequirePasswordChange(ctx, "must-change"))
	rotated, err := s.CreateKey(ctx, "ci", []string{"deploy"}, time.Time{})
	must(t, err)
	active, err := s.RotateKey(ctx, rotated.ID, time.Hour)
	must(t, err)
	revoked, err := s.CreateKey(ctx, "ci", nil, time.Time{})
	must(t, err)
	must(t, s.SetKeyDisabled(ctx, revoked.ID, true))
	must(t, s.RevokeKey(ctx, revoked.ID))
	disabled, err := s.CreateKey(ctx, "ci", nil, time.Time{})
	must(t, err)
	must(t, s.SetKeyDisabled(ctx, disabled.ID, true))
	must(t, s.AddUser(ctx, "enrolled", good, nil))
	codes := digests("enrolled", 3)
	must(t, s.EnrollTOTP(ctx, "enrolled", sealedSecret("enrolled"), codes))
	must(t, s.RevokeSessions(ctx, "enrolled"))

	// No error may quote these.
	secrets := []string{good, "open sesame", "hunter2", string(sealedSecret("enrolled")), string(sealedSecret("new")), string(codes[0])}
	rotate := func(id string, overlap time.Duration) error { _, err := s.RotateKey(ctx, id, overlap); return err }
	create := func(owner string, scopes []string, expires time.Time) error {
		_, err := s.CreateKey(ctx, owner, scopes, expires)
		return err
	}
	unlock := func(name string) error { _, err := s.UnlockUser(ctx, name); return err }
	importUsers := func(users ...accounts.ImportedUser) error { _, _, err := s.ImportUsers(ctx, users, false); return err }
	enroll := func(name string, sealed []byte, codes ...[]byte) func() error {
		return func() error { return s.EnrollTOTP(ctx, name, sealed, codes) }
	}
	useCode := func(name string, digest []byte) func() error {
		return func() error { _, err := s.UseRecoveryCode(ctx, name, digest); return err }
	}
	newSecret := sealedSecret("new")
	tests := []struct {
		name    string
		op      func() error
		wantErr error
	}{
		{"adding a user whose name has a colon", func() error { return s.AddUser(ctx, "a:b", good, nil) }, accounts.ErrInvalid},
		{"adding a user whose name has a space", func() error { return s.AddUser(ctx, "a b", good, nil) }, accounts.ErrInvalid},
		{"adding a user whose name has a control character", func() error { return s.AddUser(ctx, "a\x01b", good, nil) }, accounts.ErrInvalid},
		{"adding a user whose name has a NUL", func() error { return s.AddUser(ctx, "a\x00b", good, nil) }, accounts.ErrInvalid},
		{"adding a user whose name is empty", func() error { return s.AddUser(ctx, "", good, nil) }, accounts.ErrInvalid},
		{"adding a user whose name is 65 characters", func() error { return s.AddUser(ctx, strings.Repeat("é", 65), good, nil) }, accounts.ErrInvalid},
		{"adding a user whose name is not UTF-8", func() error { return s.AddUser(ctx, "a\xffb", good, nil) }, accounts.ErrInvalid},
		{"adding a user with a plain-text password", func() error { return s.AddUser(ctx, "bob", "open sesame", nil) }, accounts.ErrInvalid},
		{"adding a user with a bad scope", func() error { return s.AddUser(ctx, "bob", good, []string{"-read"}) }, accounts.ErrInvalid},
		{"adding a user with a repeated scope", func() error { return s.AddUser(ctx, "bob", good, []string{"r", "r"}) }, accounts.ErrInvalid},
		{"adding a user who exists", func() error { return s.AddUser(ctx, "Aladdin", good, nil) }, accounts.ErrExists},
		{"setting a plain-text password", func() error { return s.SetPassword(ctx, "Aladdin", "hunter2") }, accounts.ErrInvalid},
		{"setting the password of an unknown user", func() error { return s.SetPassword(ctx, "nobody", good) }, authgate.ErrNotFound},
		{"setting the password of a user whose name is not UTF-8", func() error { return s.SetPassword(ctx, "a\xffb", good) }, authgate.ErrNotFound},
		{"deleting an unknown user", func() error { return s.DeleteUser(ctx, "nobody") }, authgate.ErrNotFound},
		{"deleting a user whose name has a NUL", func() error { return s.DeleteUser(ctx, "a\x00b") }, authgate.ErrNotFound},
		{"importing with one bad line", func() error {
			return importUsers(accounts.ImportedUser{Name: "carol", Hash: good}, accounts.ImportedUser{Name: "dave", Hash: "hunter2"})
		}, accounts.ErrInvalid},
		{"importing a user who exists, without replace", func() error {
			return importUsers(accounts.ImportedUser{Name: "carol", Hash: good}, accounts.ImportedUser{Name: "Aladdin", Hash: good})
		}, accounts.ErrExists},

		{"disabling an unknown user", func() error { return s.SetUserDisabled(ctx, "nobody", true) }, authgate.ErrNotFound},
		{"disabling a disabled user", func() error { return s.SetUserDisabled(ctx, "disabled", true) }, accounts.ErrState},
		{"enabling an enabled user", func() error { return s.SetUserDisabled(ctx, "Aladdin", false) }, accounts.ErrState},
		{"locking an unknown user", func() error { return s.LockUser(ctx, "nobody", e.clock.Now().Add(time.Hour), "") }, authgate.ErrNotFound},
		{"locking a user whose name is not UTF-8", func() error { return s.LockUser(ctx, "a\xffb", e.clock.Now().Add(time.Hour), "") }, authgate.ErrNotFound},
		{"locking a user with a cause of 201 bytes", func() error {
			return s.LockUser(ctx, "Aladdin", e.clock.Now().Add(time.Hour), strings.Repeat("x", 201))
		}, accounts.ErrInvalid},
		{"unlocking an unknown user", func() error { return unlock("nobody") }, authgate.ErrNotFound},
		{"requiring a password change of an unknown user", func() error { return s.RequirePasswordChange(ctx, "nobody") }, authgate.ErrNotFound},
		{"requiring a password change twice", func() error { return s.RequirePasswordChange(ctx, "must-change") }, accounts.ErrState},

		{"enrolling with an empty sealed secret", enroll("enrolled", []byte{}, codes[0]), accounts.ErrInvalid},
		{"enrolling with no sealed secret", enroll("Aladdin", nil), accounts.ErrInvalid},
		{"enrolling with one recovery code too many", enroll("enrolled", newSecret, digests("new", accounts.MaxRecoveryCodes+1)...), accounts.ErrInvalid},
		{"enrolling with an empty recovery code digest", enroll("enrolled", newSecret, codes[1], []byte{}), accounts.ErrInvalid},
		{"enrolling with a recovery code digest of 65 bytes", enroll("enrolled", newSecret, make([]byte, 65)), accounts.ErrInvalid},
		{"enrolling with a repeated recovery code digest", enroll("enrolled", newSecret, codes[0], codes[1], codes[0]), accounts.ErrInvalid},
		{"enrolling a user who is already enrolled", enroll("enrolled", newSecret, digests("new", 3)...), accounts.ErrState},
		{"enrolling a user who is already enrolled, without codes", enroll("enrolled", newSecret), accounts.ErrState},
		{"enrolling an unknown user", enroll("nobody", newSecret, codes[0]), authgate.ErrNotFound},
		{"enrolling a user whose name is not UTF-8", enroll("a\xffb", newSecret), authgate.ErrNotFound},
		{"resetting the second factor of a user who never enrolled", func() error { return s.ResetTOTP(ctx, "Aladdin") }, accounts.ErrState},
		{"resetting the second factor of an unknown user", func() error { return s.ResetTOTP(ctx, "nobody") }, authgate.ErrNotFound},
		{"using a recovery code of an unknown user", useCode("nobody", codes[0]), authgate.ErrNotFound},
		{"using a recovery code of a user whose name is not UTF-8", useCode("a\xffb", codes[0]), authgate.ErrNotFound},
		{"revoking the sessions of an unknown user", func() error { return s.RevokeSessions(ctx, "nobody") }, authgate.ErrNotFound},
		{"revoking the sessions of a user whose name has a NUL", func() error { return s.RevokeSessions(ctx, "a\x00b") }, authgate.ErrNotFound},

		{"creating a key with a bad owner", func() error { return create("a:b", nil, time.Time{}) }, accounts.ErrInvalid},
		{"creating a key with a bad scope", func() error { return create("ci", []string{"a b"}, time.Time{}) }, accounts.ErrInvalid},
		{"creating a key that expired already", func() error { return create("ci", nil, e.clock.Now().Add(-time.Hour)) }, accounts.ErrInvalid},
		{"creating a key that expires now", func() error { return create("ci", nil, e.clock.Now()) }, accounts.ErrInvalid},
		{"rotating an unknown key", func() error { return rotate("aaaaaaaaaaaa", time.Hour) }, authgate.ErrNotFound},
		{"rotating with a negative overlap", func() error { return rotate(active.ID, -time.Second) }, accounts.ErrInvalid},
		{"rotating a rotated key", func() error { return rotate(rotated.ID, 0) }, accounts.ErrState},
		{"rotating a revoked key", func() error { return rotate(revoked.ID, 0) }, accounts.ErrState},
		{"rotating an expired key", func() error { return rotate(expiring.ID, 0) }, accounts.ErrState},
		{"revoking an unknown key", func() error { return s.RevokeKey(ctx, "aaaaaaaaaaaa") }, authgate.ErrNotFound},
		{"revoking a revoked key", func() error { return s.RevokeKey(ctx, revoked.ID) }, accounts.ErrState},
		{"disabling an unknown key", func() error { return s.SetKeyDisabled(ctx, "aaaaaaaaaaaa", true) }, authgate.ErrNotFound},
		{"disabling a key whose id is not UTF-8", func() error { return s.SetKeyDisabled(ctx, "\xff", true) }, authgate.ErrNotFound},
		{"disabling a disabled key", func() error { return s.SetKeyDisabled(ctx, disabled.ID, true) }, accounts.ErrState},
		{"enabling an enabled key", func() error { return s.SetKeyDisabled(ctx, active.ID, false) }, accounts.ErrState},
		{"enabling a revoked key", func() error { return s.SetKeyDisabled(ctx, revoked.ID, false) }, accounts.ErrState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dump(t, s)
			err := tt.op()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			for _, secret := range secrets {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes %q", err, secret)
				}
			}
			if diff := cmp.Diff(before, dump(t, s), options); diff != "" {
				t.Errorf("store changed (-before +after):\n%s", diff)
			}
		})
	}
}
