package sqlite_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/authgate/authgate/sqlite"
)

func TestTheBackgroundRefreshPicksUpAnotherProcesssCommit(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	cli, path := open(t, c)
	gateway, err := sqlite.Open(path, sqlite.Options{Now: c.Now, RefreshInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer gateway.Close()
	if err := cli.AddUser(ctx, "Aladdin", hash(t, "open sesame"), nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := gateway.User(ctx, "Aladdin"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the gateway's store never saw the user added by another connection")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAFailedReloadKeepsTheLastSnapshotAndShowsInHealthy(t *testing.T) {
	ctx := context.Background()
	s, path := open(t, newClock())
	if err := s.AddUser(ctx, "Aladdin", hash(t, "open sesame"), nil); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`ALTER TABLE api_keys RENAME TO api_keys_moved`); err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(ctx); err == nil {
		t.Fatal("Refresh succeeded without the api_keys table")
	}
	if err := s.Healthy(); err == nil {
		t.Error("Healthy = nil after a failed reload")
	}
	if _, err := s.User(ctx, "Aladdin"); err != nil {
		t.Errorf("the last snapshot was dropped: %v", err)
	}
	if _, err := db.Exec(`ALTER TABLE api_keys_moved RENAME TO api_keys`); err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Healthy(); err != nil {
		t.Errorf("Healthy = %v after a successful reload", err)
	}
}
