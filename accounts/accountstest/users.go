package accountstest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
)

func testAddUser(t *testing.T, e *env) {
	h := hash(t, "open sesame")
	must(t, e.s.AddUser(e.ctx, "carol", hash(t, "c"), nil))
	e.clock.Advance(time.Minute)
	must(t, e.s.AddUser(e.ctx, "Aladdin", h, []string{"read", "write"}))
	e.clock.Advance(time.Minute)
	must(t, e.s.AddUser(e.ctx, "bob", hash(t, "b"), []string{"read"}))

	want := authgate.User{Name: "Aladdin", PasswordHash: h, Scopes: []string{"read", "write"},
		CreatedAt: T0.Add(time.Minute), PasswordChangedAt: T0.Add(time.Minute)}
	if diff := cmp.Diff(want, user(t, e.s, "Aladdin"), options); diff != "" {
		t.Errorf("User (-want +got):\n%s", diff)
	}
	var names []string
	for _, u := range dump(t, e.s).Users {
		names = append(names, u.Name)
	}
	if diff := cmp.Diff([]string{"Aladdin", "bob", "carol"}, names); diff != "" {
		t.Errorf("Users, sorted by name (-want +got):\n%s", diff)
	}
	if err := e.s.Healthy(); err != nil {
		t.Errorf("Healthy = %v", err)
	}
}

func testLookups(t *testing.T, e *env) {
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), []string{"read", "write"}))
	must(t, e.s.SetPassword(e.ctx, "Aladdin", hash(t, "b")))
	iss, err := e.s.CreateKey(e.ctx, "ci", []string{"deploy"}, time.Time{})
	must(t, err)

	u := user(t, e.s, "Aladdin")
	u.Scopes[0], u.Previous[0].Hash = "admin", "changed" // must not reach the snapshot
	if again := user(t, e.s, "Aladdin"); again.Scopes[0] != "read" || again.Previous[0].Hash == "changed" {
		t.Error("changing a returned user changed the snapshot")
	}
	k := key(t, e.s, iss.ID)
	k.Scopes[0], k.SecretHash[0] = "admin", k.SecretHash[0]+1
	if diff := cmp.Diff(iss.APIKey, key(t, e.s, iss.ID), options); diff != "" {
		t.Errorf("changing a returned key changed the snapshot (-issued +now):\n%s", diff)
	}

	tests := []struct {
		name   string
		lookup func() error
	}{
		{"a name that differs in case", func() error { _, err := e.s.User(e.ctx, "aladdin"); return err }},
		{"a name nobody has", func() error { _, err := e.s.User(e.ctx, "nobody"); return err }},
		{"an id no key has", func() error { _, err := e.s.APIKey(e.ctx, "aaaaaaaaaaaa"); return err }},
		{"a user's name as a key id", func() error { _, err := e.s.APIKey(e.ctx, "Aladdin"); return err }},
	}
	for _, tt := range tests {
		if err := tt.lookup(); !errors.Is(err, authgate.ErrNotFound) {
			t.Errorf("looking up %s: error = %v, want ErrNotFound", tt.name, err)
		}
	}
}

func testSetPasswordKeepsPrevious(t *testing.T, e *env) {
	hashes := []string{hash(t, "pw0")}
	must(t, e.s.AddUser(e.ctx, "Aladdin", hashes[0], nil))
	const changes = accounts.MaxPrevious + 2
	for i := 1; i <= changes; i++ {
		e.clock.Advance(24 * time.Hour)
		hashes = append(hashes, hash(t, fmt.Sprintf("pw%d", i)))
		must(t, e.s.SetPassword(e.ctx, "Aladdin", hashes[i]))
	}
	u := user(t, e.s, "Aladdin")
	if u.PasswordHash != hashes[changes] || !u.PasswordChangedAt.Equal(e.clock.Now()) || !u.CreatedAt.Equal(T0) {
		t.Errorf("hash or times not as set: changed %s, created %s", u.PasswordChangedAt, u.CreatedAt)
	}
	// hashes[i] was replaced by change i+1, at day i+1.
	var want []authgate.PreviousPassword
	for i := changes - 1; i >= changes-accounts.MaxPrevious; i-- {
		want = append(want, authgate.PreviousPassword{Hash: hashes[i], ReplacedAt: T0.Add(time.Duration(i+1) * 24 * time.Hour)})
	}
	if diff := cmp.Diff(want, u.Previous, options); diff != "" {
		t.Errorf("previous passwords, newest first (-want +got):\n%s", diff)
	}
}

func testDeleteUser(t *testing.T, e *env) {
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "a"), nil))
	must(t, e.s.AddUser(e.ctx, "bob", hash(t, "b"), nil))
	must(t, e.s.SetPassword(e.ctx, "Aladdin", hash(t, "c")))
	must(t, e.s.DeleteUser(e.ctx, "Aladdin"))
	if _, err := e.s.User(e.ctx, "Aladdin"); !errors.Is(err, authgate.ErrNotFound) {
		t.Errorf("User after DeleteUser: error = %v, want ErrNotFound", err)
	}
	must(t, e.s.AddUser(e.ctx, "Aladdin", hash(t, "d"), nil))
	if u := user(t, e.s, "Aladdin"); len(u.Previous) != 0 {
		t.Errorf("a re-created user inherited %d previous passwords", len(u.Previous))
	}
	if got := len(dump(t, e.s).Users); got != 2 {
		t.Errorf("%d users, want 2: deleting one user touched another", got)
	}
}

func testImportRejected(t *testing.T, e *env) {
	good := hash(t, "open sesame")
	must(t, e.s.AddUser(e.ctx, "Aladdin", good, nil))
	before := dump(t, e.s)
	_, _, err := e.s.ImportUsers(e.ctx, []accounts.ImportedUser{
		{Line: 2, Name: "carol", Hash: good},
		{Line: 3, Name: "dave", Hash: "plaintext"},
		{Line: 5, Name: "Aladdin", Hash: good},
		{Line: 7, Name: "carol", Hash: good},
		{Line: 9, Name: "e:f", Hash: good},
	}, false)
	var ie *accounts.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("error = %v, want *ImportError", err)
	}
	type line struct {
		Line          int
		Invalid, Dupe bool
	}
	var got []line
	for _, l := range ie.Lines {
		got = append(got, line{l.Line, errors.Is(l.Err, accounts.ErrInvalid), errors.Is(l.Err, accounts.ErrExists)})
	}
	want := []line{{3, true, false}, {5, false, true}, {7, true, false}, {9, true, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bad lines and their errors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, dump(t, e.s), options); diff != "" {
		t.Errorf("store changed (-before +after):\n%s", diff)
	}
}

func testImportReplace(t *testing.T, e *env) {
	old, replacement := hash(t, "old"), hash(t, "new")
	must(t, e.s.AddUser(e.ctx, "Aladdin", old, nil))
	must(t, e.s.AddUser(e.ctx, "bob", old, []string{"read"}))
	e.clock.Advance(time.Hour)
	added, updated, err := e.s.ImportUsers(e.ctx, []accounts.ImportedUser{
		{Name: "Aladdin", Hash: replacement, Scopes: []string{"read"}},
		{Name: "bob", Hash: old, Scopes: []string{"write"}},
		{Name: "carol", Hash: old},
	}, true)
	if err != nil || added != 1 || updated != 2 {
		t.Fatalf("ImportUsers = %d added, %d updated, %v; want 1, 2, nil", added, updated, err)
	}
	now := e.clock.Now()
	want := []authgate.User{
		{Name: "Aladdin", PasswordHash: replacement, Scopes: []string{"read"}, CreatedAt: T0, PasswordChangedAt: now,
			Previous: []authgate.PreviousPassword{{Hash: old, ReplacedAt: now}}},
		// The same hash is no password change.
		{Name: "bob", PasswordHash: old, Scopes: []string{"write"}, CreatedAt: T0, PasswordChangedAt: T0},
		{Name: "carol", PasswordHash: old, CreatedAt: now, PasswordChangedAt: now},
	}
	if diff := cmp.Diff(want, dump(t, e.s).Users, options); diff != "" {
		t.Errorf("users after the import (-want +got):\n%s", diff)
	}
}

func testUpgradePasswordHash(t *testing.T, e *env) {
	old := hash(t, "pw0")
	must(t, e.s.AddUser(e.ctx, "Aladdin", old, []string{"read"}))
	e.clock.Advance(24 * time.Hour)
	must(t, e.s.SetPassword(e.ctx, "Aladdin", hash(t, "pw1")))
	current := user(t, e.s, "Aladdin").PasswordHash
	before := dump(t, e.s)
	e.clock.Advance(time.Hour)

	// Against a hash that is no longer the user's: nothing changes.
	replaced, err := e.s.UpgradePasswordHash(e.ctx, "Aladdin", old, hash(t, "pw0"))
	if err != nil || replaced {
		t.Fatalf("upgrading a replaced hash: replaced %v, error %v; want false, nil", replaced, err)
	}
	if diff := cmp.Diff(before, dump(t, e.s), options); diff != "" {
		t.Fatalf("upgrading a replaced hash changed the store (-before +after):\n%s", diff)
	}
	// Bad input and unknown users change nothing either.
	if _, err := e.s.UpgradePasswordHash(e.ctx, "Aladdin", current, "not a hash"); !errors.Is(err, accounts.ErrInvalid) {
		t.Errorf("upgrading to a bad hash: error = %v, want ErrInvalid", err)
	}
	for _, name := range []string{"nobody", "bad\xffname"} {
		if _, err := e.s.UpgradePasswordHash(e.ctx, name, current, hash(t, "x")); !errors.Is(err, authgate.ErrNotFound) {
			t.Errorf("upgrading the hash of unknown user %q: error = %v, want ErrNotFound", name, err)
		}
	}
	if diff := cmp.Diff(before, dump(t, e.s), options); diff != "" {
		t.Fatalf("refused upgrades changed the store (-before +after):\n%s", diff)
	}

	// Against the current hash: the hash alone changes, at once in the
	// snapshot and for another handle after it refreshes.
	updated := hash(t, "pw1")
	replaced, err = e.s.UpgradePasswordHash(e.ctx, "Aladdin", current, updated)
	if err != nil || !replaced {
		t.Fatalf("upgrading the current hash: replaced %v, error %v; want true, nil", replaced, err)
	}
	want := before.Users[0]
	want.PasswordHash = updated
	if diff := cmp.Diff(want, user(t, e.s, "Aladdin"), options); diff != "" {
		t.Errorf("after the upgrade (-want +got): only the hash may change, not the time of the last change or the previous passwords:\n%s", diff)
	}
	other := e.again()
	must(t, other.Refresh(e.ctx))
	if got := user(t, other, "Aladdin").PasswordHash; got != updated {
		t.Errorf("another handle does not see the upgraded hash")
	}
	// A second gateway that matched the same old hash loses the race.
	if replaced, err := other.UpgradePasswordHash(e.ctx, "Aladdin", current, hash(t, "pw1")); err != nil || replaced {
		t.Errorf("a second upgrade of the same old hash: replaced %v, error %v; want false, nil", replaced, err)
	}
	if got := user(t, e.s, "Aladdin").PasswordHash; got != updated {
		t.Errorf("the losing upgrade replaced the winner's hash")
	}
}
