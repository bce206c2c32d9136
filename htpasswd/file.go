package htpasswd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/authgate/authgate"
)

// File is a users file loaded into memory. Lookups read an immutable table
// through an atomic pointer; Reload swaps in a new table when the file
// changed. It is safe for concurrent use.
type File struct {
	path string

	mu  sync.Mutex // serialises Reload
	sum [sha256.Size]byte

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

// Reload re-reads the file and, if its content changed since the last
// load, parses it again; it reports whether it did. The content is compared,
// not the modification time, which a same-length edit within one tick of a
// coarse file system clock would leave unchanged. On error the previous
// contents stay in use. Callers may call it periodically.
func (f *File) Reload() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := os.ReadFile(f.path)
	if err != nil {
		return false, fmt.Errorf("htpasswd: %w", err)
	}
	sum := sha256.Sum256(data)
	if f.table.Load() != nil && sum == f.sum {
		return false, nil
	}
	entries, err := Parse(bytes.NewReader(data), f.path)
	if err != nil {
		return false, err
	}
	t := &table{entries: entries, byUser: make(map[string]Entry, len(entries))}
	for _, e := range entries {
		t.byUser[e.User] = e
	}
	f.table.Store(t)
	f.sum = sum
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
