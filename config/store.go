package config

import "time"

var storeSpec = sectionSpec{where: "in store", prefix: "store.",
	keys:    []string{"type", "sqlite", "postgres_dsn", "postgres_dsn_file", "refresh_interval", "max_stale"},
	example: "store: {sqlite: authgate.db}"}

// storeTypes are the values of store.type.
var storeTypes = []string{StoreSQLite, StorePostgres}

// store reads the store section: where users and keys are kept.
func (d *decoder) store(s *section, dataDir string) Store {
	st := Store{Type: DefaultStoreType}
	typeKnown := true
	if v, n := s.str("type", DefaultStoreType); n != nil {
		if contains(storeTypes, v) {
			st.Type = v
		} else {
			d.add(n.Line, oneOf(v, storeTypes), "unknown store.type %q", v)
			typeKnown = false // so the DSN gets no second complaint
		}
	}

	sqlite, sqliteNode := s.str("sqlite", DefaultSQLite)
	switch {
	case st.Type == StorePostgres && sqliteNode != nil:
		d.add(sqliteNode.Line, "remove store.sqlite: with store.type: postgres the users and keys live in the database named by store.postgres_dsn",
			"store.sqlite is set but store.type is postgres")
	case st.Type == StorePostgres:
		// No file: leaving a path here would suggest one is used.
	case sqliteNode == nil:
		st.SQLite = d.resolvePath("store.sqlite", DefaultSQLite, 0, dataDir)
	case sqlite == ":memory:":
		st.SQLite = sqlite
	default:
		st.SQLite = d.resolvePath("store.sqlite", sqlite, sqliteNode.Line, dataDir)
	}

	dsn, dsnNode := s.str("postgres_dsn", "postgres://authgate@db.example.com/authgate")
	file, fileNode := s.str("postgres_dsn_file", "/etc/authgate/store-dsn")
	switch {
	case dsnNode != nil && fileNode != nil:
		d.add(fileNode.Line, "keep one of the two", "store.postgres_dsn and store.postgres_dsn_file are both set")
	case st.Type != StorePostgres:
		// Reported below; a file that will not be used is not read.
	case fileNode != nil:
		st.PostgresDSN = d.secretFile("store.postgres_dsn_file", file, fileNode.Line)
	case dsnNode != nil:
		st.PostgresDSN = dsn
	}
	if st.Type == StorePostgres && dsnNode == nil && fileNode == nil {
		d.add(s.keyLine("type"), "add store.postgres_dsn: postgres://USER@HOST/DB, or store.postgres_dsn_file: with the DSN in a file",
			"store.type is postgres but no database is named")
	}
	if typeKnown && st.Type != StorePostgres && (dsnNode != nil || fileNode != nil) {
		line := s.keyLine("postgres_dsn")
		if fileNode != nil {
			line = s.keyLine("postgres_dsn_file")
		}
		d.add(line, "add store.type: postgres, or remove the DSN", "a PostgreSQL DSN is set but store.type is %s", st.Type)
	}

	st.RefreshInterval = s.duration("refresh_interval", DefaultStoreRefresh, time.Millisecond, 24*time.Hour)
	st.MaxStale = s.duration("max_stale", DefaultStoreMaxStale, time.Second, 24*time.Hour)
	if st.MaxStale < st.RefreshInterval {
		d.add(s.keyLine("max_stale"), "make it several times store.refresh_interval, e.g. 30s",
			"store.max_stale %s is shorter than store.refresh_interval %s, so every failed reload would refuse requests",
			formatDuration(st.MaxStale), formatDuration(st.RefreshInterval))
	}
	return st
}
