package accountstest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/verify/apikey"
)

func testCreateKey(t *testing.T, e *env) {
	expires := e.clock.Now().Add(30*24*time.Hour + time.Nanosecond)
	iss, err := e.s.CreateKey(e.ctx, "ci", []string{"deploy", "read"}, expires)
	must(t, err)
	id, secret, ok := apikey.Parse(iss.Key)
	if !ok || id != iss.ID {
		t.Fatalf("the issued key does not parse to its id %s: %s", iss.ID, apikey.Problem(iss.Key))
	}
	want := authgate.APIKey{ID: id, Owner: "ci", SecretHash: apikey.HashSecret(secret), Scopes: []string{"deploy", "read"},
		State: authgate.KeyActive, CreatedAt: T0, ExpiresAt: expires}
	if diff := cmp.Diff(want, iss.APIKey, options); diff != "" {
		t.Errorf("issued key (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, key(t, e.s, id), options); diff != "" {
		t.Errorf("stored key (-want +got):\n%s", diff)
	}

	ids := []string{iss.ID}
	for range 3 {
		e.clock.Advance(time.Nanosecond)
		k, err := e.s.CreateKey(e.ctx, "ci", nil, time.Time{})
		must(t, err)
		if !k.ExpiresAt.IsZero() || !k.CreatedAt.Equal(e.clock.Now()) {
			t.Errorf("key %s: created %s, expires %s; want now and never", k.ID, k.CreatedAt, k.ExpiresAt)
		}
		ids = append(ids, k.ID)
	}
	var listed []string
	for _, k := range dump(t, e.s).Keys {
		listed = append(listed, k.ID)
	}
	if diff := cmp.Diff(ids, listed); diff != "" {
		t.Errorf("Keys, oldest first (-want +got):\n%s", diff)
	}
}

func testRotateThenRevoke(t *testing.T, e *env) {
	expires := e.clock.Now().Add(365 * 24 * time.Hour)
	first, err := e.s.CreateKey(e.ctx, "ci", []string{"deploy", "read"}, expires)
	must(t, err)

	e.clock.Advance(time.Hour)
	rotatedAt := e.clock.Now()
	second, err := e.s.RotateKey(e.ctx, first.ID, 72*time.Hour)
	must(t, err)
	wantOld := first.APIKey
	wantOld.State, wantOld.Successor = authgate.KeyRotated, second.ID
	wantOld.RotatedAt, wantOld.OverlapUntil = rotatedAt, rotatedAt.Add(72*time.Hour)
	if diff := cmp.Diff(wantOld, key(t, e.s, first.ID), options); diff != "" {
		t.Errorf("rotated key (-want +got):\n%s", diff)
	}
	wantNew := authgate.APIKey{ID: second.ID, Owner: "ci", SecretHash: second.SecretHash, Scopes: first.Scopes,
		State: authgate.KeyActive, CreatedAt: rotatedAt, ExpiresAt: expires}
	if diff := cmp.Diff(wantNew, key(t, e.s, second.ID), options); diff != "" {
		t.Errorf("successor, with the owner, scopes and expiry of the rotated key (-want +got):\n%s", diff)
	}
	if second.ID == first.ID || second.Key == first.Key {
		t.Error("the successor reuses the rotated key's id or secret")
	}

	// Revoking the rotated key ends its overlap at once.
	e.clock.Advance(time.Hour)
	must(t, e.s.RevokeKey(e.ctx, first.ID))
	wantOld.State, wantOld.RevokedAt = authgate.KeyRevoked, e.clock.Now()
	if diff := cmp.Diff(wantOld, key(t, e.s, first.ID), options); diff != "" {
		t.Errorf("revoked key (-want +got):\n%s", diff)
	}

	// A successor can be rotated in turn, with no overlap.
	third, err := e.s.RotateKey(e.ctx, second.ID, 0)
	must(t, err)
	wantNew.State, wantNew.Successor = authgate.KeyRotated, third.ID
	wantNew.RotatedAt, wantNew.OverlapUntil = e.clock.Now(), e.clock.Now()
	if diff := cmp.Diff(contents{Keys: []authgate.APIKey{wantOld, wantNew, third.APIKey}}, contents{Keys: dump(t, e.s).Keys}, options); diff != "" {
		t.Errorf("keys read afresh (-want +got):\n%s", diff)
	}
}

func testDisableKey(t *testing.T, e *env) {
	iss, err := e.s.CreateKey(e.ctx, "ci", []string{"deploy"}, time.Time{})
	must(t, err)
	want := iss.APIKey
	disable := func(d bool) func() error { return func() error { return e.s.SetKeyDisabled(e.ctx, iss.ID, d) } }
	steps := []struct {
		name    string
		op      func() error
		wantErr error
		change  func(k *authgate.APIKey, now time.Time)
	}{
		{"enabling a key that was never disabled", disable(false), accounts.ErrState, nil},
		{"disabling the key", disable(true), nil, func(k *authgate.APIKey, now time.Time) { k.DisabledAt = now }},
		{"disabling the key again", disable(true), accounts.ErrState, nil},
		{"enabling the key", disable(false), nil, func(k *authgate.APIKey, _ time.Time) { k.DisabledAt = time.Time{} }},
		{"enabling the key again", disable(false), accounts.ErrState, nil},
		{"disabling it once more", disable(true), nil, func(k *authgate.APIKey, now time.Time) { k.DisabledAt = now }},
		{"revoking the disabled key", func() error { return e.s.RevokeKey(e.ctx, iss.ID) }, nil,
			func(k *authgate.APIKey, now time.Time) { k.State, k.RevokedAt = authgate.KeyRevoked, now }},
		{"enabling the revoked key", disable(false), accounts.ErrState, nil},
	}
	for _, st := range steps {
		e.clock.Advance(time.Minute)
		err := st.op()
		if !errors.Is(err, st.wantErr) || (err != nil) != (st.wantErr != nil) {
			t.Fatalf("%s: error = %v, want %v", st.name, err, st.wantErr)
		}
		if st.change != nil {
			st.change(&want, e.clock.Now())
		}
		if diff := cmp.Diff(want, key(t, e.s, iss.ID), options); diff != "" {
			t.Fatalf("%s: the key looked up (-want +got):\n%s", st.name, diff)
		}
		if diff := cmp.Diff([]authgate.APIKey{want}, dump(t, e.s).Keys, options); diff != "" {
			t.Fatalf("%s: the key read afresh (-want +got):\n%s", st.name, diff)
		}
	}

	// A revoked key may still be disabled (it is refused either way).
	other, err := e.s.CreateKey(e.ctx, "ci", nil, time.Time{})
	must(t, err)
	must(t, e.s.RevokeKey(e.ctx, other.ID))
	must(t, e.s.SetKeyDisabled(e.ctx, other.ID, true))
	if k := key(t, e.s, other.ID); k.State != authgate.KeyRevoked || !k.DisabledAt.Equal(e.clock.Now()) {
		t.Errorf("disabling a revoked key: state %s, disabled at %s", k.State, k.DisabledAt)
	}
}
