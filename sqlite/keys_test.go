package sqlite_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/sqlite"
	"github.com/authgate/authgate/verify/apikey"
	"github.com/google/go-cmp/cmp"
)

func TestCreateKeyStoresOnlyTheSecretsHash(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	expires := c.Now().Add(30 * 24 * time.Hour)
	iss, err := s.CreateKey(ctx, "ci", []string{"deploy"}, expires)
	if err != nil {
		t.Fatal(err)
	}
	id, secret, ok := apikey.Parse(iss.Key)
	if !ok || id != iss.ID {
		t.Fatalf("issued key does not parse to its id %s", iss.ID)
	}
	want := authgate.APIKey{ID: id, Owner: "ci", SecretHash: apikey.HashSecret(secret), Scopes: []string{"deploy"},
		State: authgate.KeyActive, CreatedAt: c.Now(), ExpiresAt: expires}
	got, err := s.APIKey(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored key (-want +got):\n%s", diff)
	}
}

func TestRotateThenRevoke(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	expires := c.Now().Add(365 * 24 * time.Hour)
	first, err := s.CreateKey(ctx, "ci", []string{"deploy", "read"}, expires)
	if err != nil {
		t.Fatal(err)
	}

	c.Advance(time.Hour)
	rotatedAt := c.Now()
	second, err := s.RotateKey(ctx, first.ID, 72*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := s.APIKey(ctx, first.ID)
	wantOld := first.APIKey
	wantOld.State, wantOld.Successor = authgate.KeyRotated, second.ID
	wantOld.RotatedAt, wantOld.OverlapUntil = rotatedAt, rotatedAt.Add(72*time.Hour)
	if diff := cmp.Diff(wantOld, old); diff != "" {
		t.Errorf("rotated key (-want +got):\n%s", diff)
	}
	if second.Owner != "ci" || !second.ExpiresAt.Equal(expires) || !cmp.Equal(second.Scopes, first.Scopes) || second.State != authgate.KeyActive {
		t.Errorf("successor does not inherit owner, scopes and expiry: %+v", second.APIKey)
	}

	tests := []struct {
		name    string
		op      func() error
		wantErr error
	}{
		{"rotating an already rotated key", func() error { _, err := s.RotateKey(ctx, first.ID, 0); return err }, sqlite.ErrKeyState},
		{"rotating with a negative overlap", func() error { _, err := s.RotateKey(ctx, second.ID, -time.Second); return err }, sqlite.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dumpStore(t, s)
			if err := tt.op(); !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(before, dumpStore(t, s)); diff != "" {
				t.Errorf("store changed (-before +after):\n%s", diff)
			}
		})
	}

	// Revoking the rotated key ends its overlap at once.
	c.Advance(time.Hour)
	if err := s.RevokeKey(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	old, _ = s.APIKey(ctx, first.ID)
	if old.State != authgate.KeyRevoked || !old.RevokedAt.Equal(c.Now()) {
		t.Errorf("revoked key = %+v", old)
	}
	err = s.RevokeKey(ctx, first.ID)
	if !errors.Is(err, sqlite.ErrKeyState) {
		t.Errorf("revoking twice: error = %v, want ErrKeyState", err)
	}
	if _, err := s.RotateKey(ctx, first.ID, time.Hour); !errors.Is(err, sqlite.ErrKeyState) {
		t.Errorf("rotating a revoked key: error = %v, want ErrKeyState", err)
	}

	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	if diff := cmp.Diff([]string{first.ID, second.ID}, ids); diff != "" {
		t.Errorf("Keys, oldest first (-want +got):\n%s", diff)
	}
}

func TestAnExpiredKeyCannotBeRotated(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	k, err := s.CreateKey(ctx, "ci", nil, c.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Hour)
	if _, err := s.RotateKey(ctx, k.ID, time.Hour); !errors.Is(err, sqlite.ErrKeyState) {
		t.Errorf("error = %v, want ErrKeyState", err)
	}
}
