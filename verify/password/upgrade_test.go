package password

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/htpasswd"
	"github.com/authgate/authgate/internal/syncbuf"
	"github.com/authgate/authgate/passhash"
)

// current are the parameters the upgrade tests' verifiers hash with;
// fast (the fixture's hashes) is outdated against them.
var current = passhash.Argon2Params{MemoryKiB: 64, Iterations: 2, Parallelism: 1}

// syncBuffer is a log destination safe for the upgrades' goroutines.
type syncBuffer = syncbuf.Buffer

// upgrading returns a verifier on f's store that upgrades hashes to
// current, with two hashing slots, and its log.
func upgrading(f fixture, users authgate.UserStore) (*Verifier, *syncBuffer) {
	log := &syncBuffer{}
	if users == nil {
		users = f.store
	}
	v := New(users, Options{Now: f.clock.Now, Argon2: current, Upgrade: f.store, MaxConcurrent: 2,
		Logger: slog.New(slog.NewJSONHandler(log, nil))})
	return v, log
}

func check(vd authgate.Verdict, name string) (authgate.Check, bool) {
	for _, c := range vd.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return authgate.Check{}, false
}

func TestOutdatedHashesAreUpgradedAfterTheirPasswordMatched(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	bc, err := bcrypt.GenerateFromPassword([]byte("dave's password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.AddUser(ctx, "dave", string(bc), []string{"read"}); err != nil {
		t.Fatal(err)
	}
	v, log := upgrading(f, nil)
	t.Cleanup(v.Close)
	for _, c := range []struct{ user, password, from string }{
		{"dave", "dave's password", "bcrypt"},
		{"Aladdin", "open sesame", fast.String()},
	} {
		before := user(t, f.store, c.user)
		vd, err := v.Verify(ctx, authgate.Credential{Username: c.user, Secret: c.password})
		if err != nil || vd.Reason != "" {
			t.Fatalf("%s: %v, reason %q", c.user, err, vd.Reason)
		}
		up, ok := check(vd, "password.upgrade")
		if !ok || up.Result != authgate.Info || !strings.Contains(up.Detail, "the hash is "+c.from+", not "+current.String()) {
			t.Errorf("%s: the trace says %+v about the upgrade", c.user, up)
		}
		v.upgrades.Wait()
		after := user(t, f.store, c.user)
		if got := passhash.Describe(after.PasswordHash); got != current.String() {
			t.Fatalf("%s: the stored hash is %s after the upgrade, want %s", c.user, got, current)
		}
		if ok, err := passhash.Verify(after.PasswordHash, c.password); !ok || err != nil {
			t.Fatalf("%s: the upgraded hash does not match the password (%v)", c.user, err)
		}
		// Only the hash changed: the password's age and history are the
		// user's, not the upgrade's.
		before.PasswordHash = after.PasswordHash
		if !after.PasswordChangedAt.Equal(before.PasswordChangedAt) || len(after.Previous) != len(before.Previous) {
			t.Errorf("%s: the upgrade changed more than the hash: changed at %s → %s, %d → %d previous",
				c.user, before.PasswordChangedAt, after.PasswordChangedAt, len(before.Previous), len(after.Previous))
		}
		// The next sign-in is remembered, with the new hash: no hashing,
		// nothing more to upgrade.
		n := countHashes(v)
		vd, err = v.Verify(ctx, authgate.Credential{Username: c.user, Secret: c.password})
		if _, again := check(vd, "password.upgrade"); err != nil || vd.Reason != "" || n.Load() != 0 || again {
			t.Errorf("%s, signing in again: %v, reason %q, %d hashes, upgrade check %v; want remembered", c.user, err, vd.Reason, n.Load(), again)
		}
		v.verifyHash = passhash.Verify
	}
	out := log.String()
	if strings.Count(out, `"msg":"password hash upgraded"`) != 2 || !strings.Contains(out, `"user":"dave","from":"bcrypt"`) {
		t.Errorf("log lines:\n%s", out)
	}
	for _, secret := range []string{"dave's password", "open sesame", string(bc)} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a password or a hash:\n%s", out)
		}
	}
	// A wrong password, and a hash already current, start nothing.
	carol := user(t, f.store, "carol").PasswordHash
	vd, _ := v.Verify(ctx, authgate.Credential{Username: "carol", Secret: "wrong"})
	v.upgrades.Wait()
	if _, ok := check(vd, "password.upgrade"); ok || user(t, f.store, "carol").PasswordHash != carol {
		t.Error("a wrong password upgraded the hash")
	}
}

func TestNoUpgradeWithoutAnUpgrader(t *testing.T) {
	f := newFixture(t)
	v := New(f.store, Options{Now: f.clock.Now, Argon2: current})
	old := user(t, f.store, "carol").PasswordHash
	vd, err := v.Verify(context.Background(), authgate.Credential{Username: "carol", Secret: "carol's password"})
	v.Close()
	if _, ok := check(vd, "password.upgrade"); err != nil || vd.Reason != "" || ok || user(t, f.store, "carol").PasswordHash != old {
		t.Errorf("with upgrade_hashes off: %v, reason %q, upgrade check %v, hash changed %v", err, vd.Reason, ok, user(t, f.store, "carol").PasswordHash != old)
	}
}

// A user read from a users file keeps its hash: authgate does not write
// the file, and the trace says what to do.
func TestUsersFromAFileAreNotUpgraded(t *testing.T) {
	f := newFixture(t)
	bc, err := bcrypt.GenerateFromPassword([]byte("filed"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), ".htpasswd")
	if err := os.WriteFile(path, []byte("frank:"+string(bc)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := htpasswd.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	v, log := upgrading(f, storeThenFile{f.store, file})
	vd, err := v.Verify(context.Background(), authgate.Credential{Username: "frank", Secret: "filed"})
	v.Close()
	up, ok := check(vd, "password.upgrade")
	if err != nil || vd.Reason != "" || !ok || up.Result != authgate.Skip || !strings.Contains(up.Detail, "users file") {
		t.Errorf("%v, reason %q, upgrade check %+v", err, vd.Reason, up)
	}
	if log.String() != "" {
		t.Errorf("logged:\n%s", log)
	}
}

// storeThenFile looks a user up in the store, then in the users file, as
// the gateway does with users.htpasswd.
type storeThenFile [2]authgate.UserStore

func (c storeThenFile) User(ctx context.Context, name string) (authgate.User, error) {
	u, err := c[0].User(ctx, name)
	if errors.Is(err, authgate.ErrNotFound) {
		return c[1].User(ctx, name)
	}
	return u, err
}

// One upgrade per user at a time; Close gives up the one running without
// storing anything, and no upgrade starts after it.
func TestUpgradesRunOncePerUserAndStopOnClose(t *testing.T) {
	f := newFixture(t)
	v, _ := upgrading(f, nil)
	started, release := make(chan struct{}), make(chan struct{})
	v.makeHash = func(password string, p passhash.Argon2Params) (string, error) {
		close(started)
		<-release
		return passhash.Hash(password, p)
	}
	ctx := context.Background()
	old := user(t, f.store, "carol").PasswordHash
	carol := authgate.Credential{Username: "carol", Secret: "carol's password"}
	if _, err := v.Verify(ctx, carol); err != nil {
		t.Fatal(err)
	}
	<-started
	v.cache = newCache(v.opts.CacheKey, defaultCacheSize) // hash again, as another request would
	vd, err := v.Verify(ctx, carol)
	if up, _ := check(vd, "password.upgrade"); err != nil || !strings.Contains(up.Detail, "an earlier sign-in is making it again") {
		t.Errorf("a second sign-in during the upgrade: %v, upgrade check %+v", err, up)
	}
	closed := make(chan struct{})
	go func() { v.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while an upgrade was still hashing")
	default:
	}
	close(release)
	<-closed
	if user(t, f.store, "carol").PasswordHash != old {
		t.Error("an upgrade given up by Close stored its hash")
	}
	v.cache = newCache(v.opts.CacheKey, defaultCacheSize)
	vd, err = v.Verify(ctx, carol)
	if _, ok := check(vd, "password.upgrade"); err != nil || vd.Reason != "" || ok {
		t.Errorf("after Close: %v, reason %q, an upgrade check %v", err, vd.Reason, ok)
	}
}

func user(t *testing.T, s authgate.UserStore, name string) authgate.User {
	t.Helper()
	u, err := s.User(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
