package sqlite_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/sqlite"
	"github.com/google/go-cmp/cmp"
)

// dump is everything a store holds, to compare before and after an
// operation that must change nothing.
type dump struct {
	Users []authgate.User
	Keys  []authgate.APIKey
}

func dumpStore(t *testing.T, s *sqlite.Store) dump {
	t.Helper()
	ctx := context.Background()
	users, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return dump{users, keys}
}

func TestBadAdminInputChangesNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, newClock())
	good := hash(t, "open sesame")
	if err := s.AddUser(ctx, "Aladdin", good, []string{"read"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateKey(ctx, "ci", nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		op      func() error
		wantErr error
	}{
		{"adding a user whose name has a colon", func() error { return s.AddUser(ctx, "a:b", good, nil) }, sqlite.ErrInvalid},
		{"adding a user whose name has a space", func() error { return s.AddUser(ctx, "a b", good, nil) }, sqlite.ErrInvalid},
		{"adding a user whose name has a control character", func() error { return s.AddUser(ctx, "a\x01b", good, nil) }, sqlite.ErrInvalid},
		{"adding a user whose name is empty", func() error { return s.AddUser(ctx, "", good, nil) }, sqlite.ErrInvalid},
		{"adding a user whose name is 65 characters", func() error { return s.AddUser(ctx, strings.Repeat("é", 65), good, nil) }, sqlite.ErrInvalid},
		{"adding a user whose name is not UTF-8", func() error { return s.AddUser(ctx, "a\xffb", good, nil) }, sqlite.ErrInvalid},
		{"adding a user with a plain-text password", func() error { return s.AddUser(ctx, "bob", "open sesame", nil) }, sqlite.ErrInvalid},
		{"adding a user with a bad scope", func() error { return s.AddUser(ctx, "bob", good, []string{"-read"}) }, sqlite.ErrInvalid},
		{"adding a user with a repeated scope", func() error { return s.AddUser(ctx, "bob", good, []string{"r", "r"}) }, sqlite.ErrInvalid},
		{"adding a user who exists", func() error { return s.AddUser(ctx, "Aladdin", good, nil) }, sqlite.ErrExists},
		{"setting a plain-text password", func() error { return s.SetPassword(ctx, "Aladdin", "hunter2") }, sqlite.ErrInvalid},
		{"setting the password of an unknown user", func() error { return s.SetPassword(ctx, "nobody", good) }, authgate.ErrNotFound},
		{"deleting an unknown user", func() error { return s.DeleteUser(ctx, "nobody") }, authgate.ErrNotFound},
		{"creating a key with a bad owner", func() error { _, err := s.CreateKey(ctx, "a:b", nil, time.Time{}); return err }, sqlite.ErrInvalid},
		{"creating a key with a bad scope", func() error { _, err := s.CreateKey(ctx, "ci", []string{"a b"}, time.Time{}); return err }, sqlite.ErrInvalid},
		{"creating a key that expired already", func() error {
			_, err := s.CreateKey(ctx, "ci", nil, newClock().Now().Add(-time.Hour))
			return err
		}, sqlite.ErrInvalid},
		{"rotating an unknown key", func() error { _, err := s.RotateKey(ctx, "aaaaaaaaaaaa", time.Hour); return err }, authgate.ErrNotFound},
		{"revoking an unknown key", func() error { return s.RevokeKey(ctx, "aaaaaaaaaaaa") }, authgate.ErrNotFound},
		{"importing with one bad line", func() error {
			_, _, err := s.ImportUsers(ctx, []sqlite.ImportedUser{{Name: "carol", Hash: good}, {Name: "dave", Hash: "x"}}, false)
			return err
		}, sqlite.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dumpStore(t, s)
			err := tt.op()
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), good) {
				t.Errorf("error %q contains the hash", err)
			}
			if diff := cmp.Diff(before, dumpStore(t, s)); diff != "" {
				t.Errorf("store changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestSetPasswordKeepsTheTenNewestPreviousHashes(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	s, _ := open(t, c)
	hashes := []string{hash(t, "pw0")}
	if err := s.AddUser(ctx, "Aladdin", hashes[0], nil); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 12; i++ {
		c.Advance(24 * time.Hour)
		hashes = append(hashes, hash(t, "pw"+string(rune('a'+i))))
		if err := s.SetPassword(ctx, "Aladdin", hashes[i]); err != nil {
			t.Fatal(err)
		}
	}
	u, err := s.User(ctx, "Aladdin")
	if err != nil {
		t.Fatal(err)
	}
	if u.PasswordHash != hashes[12] || !u.PasswordChangedAt.Equal(c.Now()) {
		t.Errorf("current hash or change time not updated: %+v", u)
	}
	var want []authgate.PreviousPassword
	for i := 11; i >= 2; i-- {
		want = append(want, authgate.PreviousPassword{Hash: hashes[i], ReplacedAt: newClock().Now().Add(time.Duration(i+1) * 24 * time.Hour)})
	}
	if diff := cmp.Diff(want, u.Previous); diff != "" {
		t.Errorf("previous passwords, newest first (-want +got):\n%s", diff)
	}
}

func TestDeleteUserRemovesItsPreviousPasswords(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, newClock())
	if err := s.AddUser(ctx, "Aladdin", hash(t, "a"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx, "Aladdin", hash(t, "b")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "Aladdin"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, "Aladdin", hash(t, "c"), nil); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.User(ctx, "Aladdin"); len(u.Previous) != 0 {
		t.Errorf("a re-created user inherited %d previous passwords", len(u.Previous))
	}
}

func TestImportReportsEveryBadLineAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, newClock())
	good := hash(t, "open sesame")
	if err := s.AddUser(ctx, "Aladdin", good, nil); err != nil {
		t.Fatal(err)
	}
	before := dumpStore(t, s)
	_, _, err := s.ImportUsers(ctx, []sqlite.ImportedUser{
		{Line: 2, Name: "carol", Hash: good},
		{Line: 3, Name: "dave", Hash: "plaintext"},
		{Line: 5, Name: "Aladdin", Hash: good},
		{Line: 7, Name: "carol", Hash: good},
		{Line: 9, Name: "e:f", Hash: good},
	}, false)
	var ie *sqlite.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v, want *ImportError", err)
	}
	var lines []int
	for _, l := range ie.Lines {
		lines = append(lines, l.Line)
	}
	if diff := cmp.Diff([]int{3, 5, 7, 9}, lines); diff != "" {
		t.Errorf("bad lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, dumpStore(t, s)); diff != "" {
		t.Errorf("store changed (-before +after):\n%s", diff)
	}
}

func TestImportWithReplaceUpdatesAndKeepsThePreviousHash(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, newClock())
	old, replacement := hash(t, "old"), hash(t, "new")
	if err := s.AddUser(ctx, "Aladdin", old, nil); err != nil {
		t.Fatal(err)
	}
	added, updated, err := s.ImportUsers(ctx, []sqlite.ImportedUser{
		{Name: "Aladdin", Hash: replacement, Scopes: []string{"read"}},
		{Name: "carol", Hash: old},
	}, true)
	if err != nil || added != 1 || updated != 1 {
		t.Fatalf("ImportUsers = %d added, %d updated, %v; want 1, 1, nil", added, updated, err)
	}
	u, _ := s.User(ctx, "Aladdin")
	if u.PasswordHash != replacement || len(u.Previous) != 1 || u.Previous[0].Hash != old || !cmp.Equal(u.Scopes, []string{"read"}) {
		t.Errorf("replaced user = %+v", u)
	}
}
