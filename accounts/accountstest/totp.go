package accountstest

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

// sealedSecret stands for a TOTP secret sealed by the caller. Its NUL and
// 0xff bytes show a store that keeps it as text.
func sealedSecret(label string) []byte { return []byte("\x00sealed " + label + "\xff") }

// digests returns n distinct 32-byte digests of label's recovery codes, as
// a caller's SHA-256 of each code would be, each holding a NUL and a 0xff
// byte.
func digests(label string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s recovery code %d", label, i))
		sum[0], sum[31] = 0x00, 0xff
		out[i] = sum[:]
	}
	return out
}

// enrolled is the change EnrollTOTP(sealed, codes) makes at now.
func enrolled(sealed []byte, codes [][]byte) func(u *authgate.User, now time.Time) {
	return func(u *authgate.User, now time.Time) {
		u.TOTPSecret, u.TOTPEnrolledAt, u.RecoveryCodes = sealed, now, codes
	}
}

// reset is the change ResetTOTP makes.
func reset(u *authgate.User, _ time.Time) {
	u.TOTPSecret, u.TOTPEnrolledAt, u.RecoveryCodes = nil, time.Time{}, nil
}

func testEnrollTOTP(t *testing.T, e *env) {
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), nil))
	must(t, e.s.AddUser(e.ctx, "bob", hash(t, "b"), nil))
	must(t, e.s.EnrollTOTP(e.ctx, "bob", sealedSecret("bob"), digests("bob", 2)))
	bob := user(t, e.s, "bob")

	first, second := sealedSecret("first"), sealedSecret("second")
	// The most codes allowed, with the shortest and longest digests.
	firstCodes := append(digests("first", accounts.MaxRecoveryCodes-2), []byte{0}, bytes.Repeat([]byte{0xff}, 64))
	secondCodes := append(digests("second", 2), firstCodes[0]) // a digest may come back in a new enrollment
	enroll := func(sealed []byte, codes [][]byte) func() error {
		return func() error { return e.s.EnrollTOTP(e.ctx, "Aladdin", sealed, codes) }
	}
	resetOp := func() error { return e.s.ResetTOTP(e.ctx, "Aladdin") }
	runUserSteps(t, e, "Aladdin", []userStep{
		{"enrolling stores the secret and the codes as given, in their order", time.Minute + time.Nanosecond,
			enroll(first, firstCodes), nil, enrolled(first, firstCodes)},
		{"enrolling again is refused and keeps the secret, the time and every code", time.Minute,
			enroll(second, secondCodes), accounts.ErrState, nil},
		{"enrolling again without codes is refused too", time.Minute,
			enroll(second, nil), accounts.ErrState, nil},
		{"a code of the refused enrollment does not work", time.Minute,
			useCode(e, e.s, "Aladdin", secondCodes[0], false), nil, nil},
		{"resetting", time.Minute, resetOp, nil, reset},
		{"enrolling after a reset stores the new secret, time and codes", time.Minute,
			enroll(second, secondCodes), nil, enrolled(second, secondCodes)},
		{"a code of the reset enrollment no longer works", time.Minute,
			useCode(e, e.s, "Aladdin", firstCodes[1], false), nil, nil},
		{"resetting again", time.Minute, resetOp, nil, reset},
		{"enrolling without recovery codes leaves none", time.Minute,
			enroll(first, nil), nil, enrolled(first, nil)},
	})

	// The refusal says how to enroll anew.
	if err := e.s.EnrollTOTP(e.ctx, "Aladdin", second, secondCodes); !errors.Is(err, accounts.ErrState) ||
		!strings.Contains(err.Error(), "authgate users reset-2fa Aladdin") {
		t.Errorf("enrolling an enrolled user: error %q, want ErrState naming `authgate users reset-2fa Aladdin`", err)
	}

	// The store keeps its own copy of what it was given.
	first[1] = 'X'
	if got := user(t, e.s, "Aladdin").TOTPSecret; !bytes.Equal(got, sealedSecret("first")) {
		t.Errorf("changing the slice given to EnrollTOTP changed the stored secret to %q", got)
	}
	if diff := cmp.Diff(bob, user(t, e.s, "bob"), options); diff != "" {
		t.Errorf("enrolling Aladdin changed bob (-before +after):\n%s", diff)
	}
}

// testConcurrentEnrollment races enrollments of one user, as two
// password-only sessions of the user (its owner and whoever else knows the
// password) or two gateways would: exactly one may succeed, and the secret
// and codes stored are the winner's.
func testConcurrentEnrollment(t *testing.T, e *env) {
	handles := []accounts.Store{e.s, e.again()}
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), nil))
	const rounds, racers = 5, 6
	for r := range rounds {
		var wg sync.WaitGroup
		errs := make([]error, racers)
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				label := fmt.Sprintf("round %d racer %d", r, i)
				errs[i] = handles[i%len(handles)].EnrollTOTP(e.ctx, "Aladdin", sealedSecret(label), digests(label, 3))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("round %d: racers %d and %d both enrolled", r, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, accounts.ErrState):
				t.Errorf("round %d: racer %d: %v, want nil or ErrState", r, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: none of %d racers enrolled: %v", r, racers, errors.Join(errs...))
		}
		label := fmt.Sprintf("round %d racer %d", r, winner)
		for h, s := range handles {
			must(t, s.Refresh(e.ctx))
			got := user(t, s, "Aladdin")
			if !bytes.Equal(got.TOTPSecret, sealedSecret(label)) || !slices.EqualFunc(got.RecoveryCodes, digests(label, 3), bytes.Equal) {
				t.Fatalf("round %d: handle %d holds secret %q and %d codes, want the winner's (%s)", r, h, got.TOTPSecret, len(got.RecoveryCodes), label)
			}
		}
		must(t, handles[r%len(handles)].ResetTOTP(e.ctx, "Aladdin"))
	}
}

func testResetTOTP(t *testing.T, e *env) {
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), nil))
	first, second := digests("first", 3), digests("second", 3)
	resetOp := func() error { return e.s.ResetTOTP(e.ctx, "Aladdin") }
	enroll := func(label string, codes [][]byte) func() error {
		return func() error { return e.s.EnrollTOTP(e.ctx, "Aladdin", sealedSecret(label), codes) }
	}
	runUserSteps(t, e, "Aladdin", []userStep{
		{"resetting a user who never enrolled is refused", 0, resetOp, accounts.ErrState, nil},
		{"enrolling", time.Minute, enroll("first", first), nil, enrolled(sealedSecret("first"), first)},
		{"resetting removes the secret, the time and the codes", time.Minute, resetOp, nil, reset},
		{"resetting again is refused", time.Minute, resetOp, accounts.ErrState, nil},
		{"a code from before the reset does not work", time.Minute, useCode(e, e.s, "Aladdin", first[0], false), nil, nil},
		{"enrolling after the reset", time.Minute, enroll("second", second), nil, enrolled(sealedSecret("second"), second)},
		{"a code of the new enrollment works", time.Minute, useCode(e, e.s, "Aladdin", second[2], true), nil,
			func(u *authgate.User, _ time.Time) { u.RecoveryCodes = second[:2] }},
	})
}

func testRevokeSessions(t *testing.T, e *env) {
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), nil))
	must(t, e.s.AddUser(e.ctx, "bob", hash(t, "b"), nil))
	revoke := func() error { return e.s.RevokeSessions(e.ctx, "Aladdin") }
	revoked := func(u *authgate.User, now time.Time) { u.SessionsRevokedAt = now }
	codes := digests("Aladdin", 2)
	runUserSteps(t, e, "Aladdin", []userStep{
		{"revoking the sessions records the store's time", time.Minute + time.Nanosecond, revoke, nil, revoked},
		{"revoking them again later moves the time", time.Hour, revoke, nil, revoked},
		{"enrolling keeps the revocation", time.Minute, func() error { return e.s.EnrollTOTP(e.ctx, "Aladdin", sealedSecret("a"), codes) },
			nil, enrolled(sealedSecret("a"), codes)},
		{"revoking keeps the enrollment", time.Minute, revoke, nil, revoked},
	})
	if got, want := user(t, e.s, "Aladdin").SessionsRevokedAt, T0.Add(time.Hour+3*time.Minute+time.Nanosecond); !got.Equal(want) {
		t.Errorf("SessionsRevokedAt = %s, want %s from the injected clock", got, want)
	}
	if got := user(t, e.s, "bob").SessionsRevokedAt; !got.IsZero() {
		t.Errorf("revoking Aladdin's sessions revoked bob's at %s", got)
	}
}

func testPasswordChangesKeepSecondFactor(t *testing.T, e *env) {
	first, second, third := hash(t, "first"), hash(t, "second"), hash(t, "third")
	must(t, e.s.AddUser(e.ctx, "Aladdin", first, nil))
	codes := digests("Aladdin", 3)
	must(t, e.s.EnrollTOTP(e.ctx, "Aladdin", sealedSecret("a"), codes))
	must(t, e.s.RevokeSessions(e.ctx, "Aladdin"))
	runUserSteps(t, e, "Aladdin", []userStep{
		{"setting a password keeps the enrollment, the codes and the revocation", time.Minute,
			func() error { return e.s.SetPassword(e.ctx, "Aladdin", second) }, nil,
			func(u *authgate.User, now time.Time) {
				u.PasswordHash, u.PasswordChangedAt = second, now
				u.Previous = []authgate.PreviousPassword{{Hash: first, ReplacedAt: now}}
			}},
		{"importing over the user keeps them too", time.Minute,
			func() error {
				_, _, err := e.s.ImportUsers(e.ctx, []accounts.ImportedUser{{Name: "Aladdin", Hash: third, Scopes: []string{"read"}}}, true)
				return err
			}, nil,
			func(u *authgate.User, now time.Time) {
				u.PasswordHash, u.PasswordChangedAt, u.Scopes = third, now, []string{"read"}
				u.Previous = []authgate.PreviousPassword{{Hash: second, ReplacedAt: now}, {Hash: first, ReplacedAt: now.Add(-time.Minute)}}
			}},
	})
	if !user(t, e.s, "Aladdin").Enrolled() {
		t.Error("the user is no longer enrolled after its password changed")
	}
}

func testDeleteUserRemovesSecondFactor(t *testing.T, e *env) {
	codes := map[string][][]byte{"Aladdin": digests("Aladdin", 3), "bob": digests("bob", 3)}
	for _, name := range []string{"Aladdin", "bob"} {
		must(t, e.s.AddUser(e.ctx, name, hash(t, name), nil))
		must(t, e.s.EnrollTOTP(e.ctx, name, sealedSecret(name), codes[name]))
		must(t, e.s.RevokeSessions(e.ctx, name))
	}
	bob := user(t, e.s, "bob")
	must(t, e.s.DeleteUser(e.ctx, "Aladdin"))
	if _, err := e.s.UseRecoveryCode(e.ctx, "Aladdin", codes["Aladdin"][0]); !errors.Is(err, authgate.ErrNotFound) {
		t.Errorf("UseRecoveryCode of a deleted user: error = %v, want ErrNotFound", err)
	}
	e.clock.Advance(time.Minute)
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "again"), nil))
	for what, u := range map[string]authgate.User{"looked up": user(t, e.s, "Aladdin"), "read afresh": dump(t, e.s).Users[0]} {
		if u.Enrolled() || !u.TOTPEnrolledAt.IsZero() || len(u.RecoveryCodes) != 0 || !u.SessionsRevokedAt.IsZero() {
			t.Errorf("a re-created user (%s) inherited the second factor of the deleted one: enrolled %t at %s, %d codes, sessions revoked %s",
				what, u.Enrolled(), u.TOTPEnrolledAt, len(u.RecoveryCodes), u.SessionsRevokedAt)
		}
	}
	if used, err := e.s.UseRecoveryCode(e.ctx, "Aladdin", codes["Aladdin"][0]); used || err != nil {
		t.Errorf("a code of the deleted user works for the re-created one: %t, %v", used, err)
	}
	if diff := cmp.Diff(bob, user(t, e.s, "bob"), options); diff != "" {
		t.Errorf("deleting Aladdin changed bob (-before +after):\n%s", diff)
	}
}

// testSecondHandleTOTP writes second-factor changes through one handle and
// reads them through another, both ways.
func testSecondHandleTOTP(t *testing.T, e *env) {
	cli, gateway := e.s, e.again()
	ctx := e.ctx
	codes := digests("Aladdin", 3)
	must(t, cli.AddUser(ctx, "Aladdin", hash(t, "a"), nil))
	must(t, gateway.Refresh(ctx))

	must(t, cli.EnrollTOTP(ctx, "Aladdin", sealedSecret("a"), codes))
	if user(t, gateway, "Aladdin").Enrolled() {
		t.Fatal("the gateway saw the enrollment before refreshing")
	}
	must(t, gateway.Refresh(ctx))
	sameLookups(t, cli, gateway, []string{"Aladdin"}, nil)

	e.clock.Advance(time.Minute)
	must(t, useCode(e, gateway, "Aladdin", codes[1], true)())
	must(t, gateway.RevokeSessions(ctx, "Aladdin"))
	if got := user(t, cli, "Aladdin"); len(got.RecoveryCodes) != 3 || !got.SessionsRevokedAt.IsZero() {
		t.Fatal("the CLI saw the used code or the revocation before refreshing")
	}
	// The database, not the CLI's snapshot, decides whether a code works.
	must(t, useCode(e, cli, "Aladdin", codes[1], false)())
	must(t, cli.Refresh(ctx))
	sameLookups(t, gateway, cli, []string{"Aladdin"}, nil)
	if got := user(t, cli, "Aladdin"); !slices.EqualFunc(got.RecoveryCodes, [][]byte{codes[0], codes[2]}, bytes.Equal) ||
		!got.SessionsRevokedAt.Equal(e.clock.Now()) {
		t.Errorf("after refreshing, the CLI sees codes %x and sessions revoked %s", got.RecoveryCodes, got.SessionsRevokedAt)
	}

	must(t, cli.ResetTOTP(ctx, "Aladdin"))
	must(t, gateway.Refresh(ctx))
	sameLookups(t, cli, gateway, []string{"Aladdin"}, nil)
	if user(t, gateway, "Aladdin").Enrolled() {
		t.Error("the gateway still sees the enrollment after the reset and a refresh")
	}
	if diff := cmp.Diff(dump(t, cli), dump(t, gateway), options); diff != "" {
		t.Errorf("the two handles read different contents (-cli +gateway):\n%s", diff)
	}
}
