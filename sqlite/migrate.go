package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"time"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies the users-and-keys migrations.
func (s *Store) migrate(ctx context.Context) error {
	return migrate(ctx, s.db, migrations, "migrations/*.sql", s.now)
}

// migrate applies every migration matching pattern in files that is not yet
// recorded in db's schema_migrations, in name order, each in its own
// transaction together with its record, so a failed migration leaves no
// trace. Both databases (users and keys; the sign-in log) use it.
func migrate(ctx context.Context, db *sql.DB, files fs.FS, pattern string, now func() time.Time) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name       TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	names, err := fs.Glob(files, pattern)
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := migrateFile(ctx, db, files, name, now); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// migrateFile applies one migration unless it is already recorded.
func migrateFile(ctx context.Context, db *sql.DB, files fs.FS, name string, now func() time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(files, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`,
		name, nanos(now())); err != nil {
		return err
	}
	return tx.Commit()
}
