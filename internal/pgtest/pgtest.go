// Package pgtest gives tests a PostgreSQL database of their own on the
// machine's server (AUTHGATE_TEST_POSTGRES), dropped when the test ends.
// Without the variable a test is skipped with the reason printed, or
// fails when AUTHGATE_REQUIRE_INTEGRATION=1, as .ci/run sets it.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ServerDSN returns the test server's DSN from AUTHGATE_TEST_POSTGRES, or
// skips (or fails) the test when it is unset.
func ServerDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("AUTHGATE_TEST_POSTGRES")
	if dsn == "" {
		msg := "PostgreSQL tests need a server: set AUTHGATE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable (.ci/run does)"
		if os.Getenv("AUTHGATE_REQUIRE_INTEGRATION") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dsn
}

// NewDatabase creates an empty database named prefix_<random> on the test
// server, drops it when the test ends (waiting for a server that a test
// restarted), and returns its DSN.
func NewDatabase(t testing.TB, prefix string) string {
	t.Helper()
	dsn := ServerDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connecting to the test server: %v", err)
	}
	defer admin.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := prefix + "_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() { drop(t, dsn, name) })
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("AUTHGATE_TEST_POSTGRES must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// drop removes database name, closing its connections first.
func drop(t testing.TB, dsn, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := ConnectWhenUp(ctx, dsn)
	if err != nil {
		t.Errorf("dropping database %s: %v", name, err)
		return
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("dropping database %s: %v", name, err)
	}
}

// ConnectWhenUp connects to dsn, retrying until the server accepts
// connections or ctx ends: a disruptive test may be restarting it.
func ConnectWhenUp(ctx context.Context, dsn string) (*pgx.Conn, error) {
	for {
		c, err := pgx.Connect(ctx, dsn)
		if err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
