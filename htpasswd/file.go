package htpasswd

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
)

// File is a users file loaded into memory. Lookups read an immutable table
// through an atomic pointer; Reload swaps in a new table when the file
// changed. It is safe for concurrent use.
type File struct {
	path string

	mu      sync.Mutex // serialises Reload
	modTime time.Time
	size    int64

	table atomic.Pointer[table]
}

// table is one loaded version of the file.
type table struct {
	entries []Entry
	byUser  map[string]Entry
}

// Load reads the users file at path. Every bad line is reported as
// path:LINE: ..., and then Load fails.
func Load(path string) (*File, error) {
	f := &File{path: path}
	if _, err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Reload re-reads the file if its modification time or size changed since
// the last load, and reports whether it did. On error the previous contents
// stay in use. Callers may call it periodically.
func (f *File) Reload() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := os.Stat(f.path)
	if err != nil {
		return false, fmt.Errorf("htpasswd: %w", err)
	}
	if f.table.Load() != nil && fi.ModTime().Equal(f.modTime) && fi.Size() == f.size {
		return false, nil
	}
	r, err := os.Open(f.path)
	if err != nil {
		return false, fmt.Errorf("htpasswd: %w", err)
	}
	defer r.Close()
	entries, err := Parse(r, f.path)
	if err != nil {
		return false, err
	}
	t := &table{entries: entries, byUser: make(map[string]Entry, len(entries))}
	for _, e := range entries {
		t.byUser[e.User] = e
	}
	f.table.Store(t)
	f.modTime, f.size = fi.ModTime(), fi.Size()
	return true, nil
}

// User returns the user called name, with its hash and no scopes or
// previous passwords (a users file has neither), or authgate.ErrNotFound.
func (f *File) User(_ context.Context, name string) (authgate.User, error) {
	e, ok := f.table.Load().byUser[name]
	if !ok {
		return authgate.User{}, authgate.ErrNotFound
	}
	return authgate.User{Name: e.User, PasswordHash: e.Hash}, nil
}

// Entries returns the file's users in file order, for example to import
// them into the SQLite store.
func (f *File) Entries() []Entry {
	return slices.Clone(f.table.Load().entries)
}

// Path returns the path the file was loaded from.
func (f *File) Path() string { return f.path }

var _ authgate.UserStore = (*File)(nil)
