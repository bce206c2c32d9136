package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/accounts/accountstest"
	"github.com/authgate/authgate/sqlite"
)

func TestAccountStoreConformance(t *testing.T) {
	accountstest.Run(t, func(t *testing.T, now func() time.Time) (accounts.Store, func() accounts.Store) {
		path := filepath.Join(t.TempDir(), "authgate.db")
		open := func() accounts.Store {
			s, err := sqlite.Open(path, sqlite.Options{Now: now, RefreshInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		return open(), open
	})
}
