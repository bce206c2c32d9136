package config

import (
	"os"
	"strings"
	"time"
)

// The sign-in log stores.
const (
	LogStoreSQLite   = "sqlite"
	LogStorePostgres = "postgres"
	// LogStoreNone keeps no durable sign-in log: decisions stay in memory
	// and in the log lines only.
	LogStoreNone = "none"

	// Which decisions get a log line (log.decisions).
	DecisionsAll     = "all"
	DecisionsRefused = "refused"
	DecisionsNone    = "none"
)

// Defaults of the sign-in log and the admin API.
const (
	DefaultLogSQLite      = "signinlog.db"
	DefaultRetentionDays  = 90
	DefaultBatchInterval  = 100 * time.Millisecond
	DefaultSpoolMaxMB     = 256
	minAdminTokenLength   = 16
	adminTokenExampleFile = "/etc/authgate/admin-token"
)

// signInLog reads the sign-in log keys of the log section.
func (d *decoder) signInLog(s *section, l *Log, dataDir string) {
	l.Store = LogStoreSQLite
	if v, n := s.str("store", "sqlite"); n != nil {
		switch v {
		case LogStoreSQLite, LogStorePostgres, LogStoreNone:
			l.Store = v
		default:
			d.add(n.Line, oneOf(v, []string{LogStoreSQLite, LogStorePostgres, LogStoreNone}), "unknown log.store %q", v)
		}
	}
	l.SQLite = d.resolvePath("log.sqlite", DefaultLogSQLite, 0, dataDir)
	if v, n := s.str("sqlite", DefaultLogSQLite); n != nil {
		l.SQLite = d.resolvePath("log.sqlite", v, n.Line, dataDir)
	}
	dsn, dsnNode := s.str("postgres_dsn", "postgres://authgate@db.example.com/authgate")
	file, fileNode := s.str("postgres_dsn_file", "/etc/authgate/postgres-dsn")
	switch {
	case dsnNode != nil && fileNode != nil:
		d.add(fileNode.Line, "keep one of the two", "log.postgres_dsn and log.postgres_dsn_file are both set")
	case fileNode != nil:
		l.PostgresDSN = d.secretFile("log.postgres_dsn_file", file, fileNode.Line)
	case dsnNode != nil:
		l.PostgresDSN = dsn
	}
	if l.Store == LogStorePostgres && dsnNode == nil && fileNode == nil {
		d.add(s.keyLine("store"), "add log.postgres_dsn: postgres://USER@HOST/DB, or log.postgres_dsn_file: with the DSN in a file",
			"log.store is postgres but no database is named")
	}
	if l.Store != LogStorePostgres && (dsnNode != nil || fileNode != nil) {
		line := s.keyLine("postgres_dsn")
		if fileNode != nil {
			line = s.keyLine("postgres_dsn_file")
		}
		d.add(line, "add log.store: postgres, or remove the DSN", "a PostgreSQL DSN is set but log.store is %s", l.Store)
	}
	// With a durable sign-in log every decision is stored there; the log
	// lines then carry the refusals an operator watches. Without one, the
	// lines are the only record.
	l.Decisions = DecisionsRefused
	if l.Store == LogStoreNone {
		l.Decisions = DecisionsAll
	}
	if v, n := s.str("decisions", "refused"); n != nil {
		switch v {
		case DecisionsAll, DecisionsRefused, DecisionsNone:
			l.Decisions = v
		default:
			d.add(n.Line, oneOf(v, []string{DecisionsAll, DecisionsRefused, DecisionsNone}), "unknown log.decisions %q", v)
		}
	}
	l.RetentionDays = s.integer("retention_days", DefaultRetentionDays, 0, 36500, "90")
	l.BatchInterval = s.duration("batch_interval", DefaultBatchInterval, time.Millisecond, 10*time.Second)
	l.SpoolMaxBytes = int64(s.integer("spool_max_mb", DefaultSpoolMaxMB, 1, 1<<20, "256")) << 20
}

// admin reads the admin section: the admin API and metrics listener.
func (d *decoder) admin(s *section) Admin {
	var a Admin
	listen, ln := s.str("listen", "127.0.0.1:9090")
	if ln != nil && !d.report(ln.Line, checkListen(listen)) {
		a.Listen = listen
	}
	tok, tokNode := s.str("token", "a long random string")
	file, fileNode := s.str("token_file", adminTokenExampleFile)
	switch {
	case tokNode != nil && fileNode != nil:
		d.add(fileNode.Line, "keep one of the two", "admin.token and admin.token_file are both set")
	case fileNode != nil:
		a.Token = d.secretFile("admin.token_file", file, fileNode.Line)
		if a.Token != "" && len(a.Token) < minAdminTokenLength {
			d.add(fileNode.Line, "put at least 16 random characters in the file, e.g. the output of: openssl rand -hex 32",
				"the admin token in admin.token_file is %d characters long, too short to resist guessing", len(a.Token))
		}
	case tokNode != nil:
		a.Token = tok
		if len(tok) < minAdminTokenLength {
			d.add(tokNode.Line, "use at least 16 random characters, e.g. the output of: openssl rand -hex 32",
				"admin.token is %d characters long, too short to resist guessing", len(tok))
		}
	}
	if ln != nil && tokNode == nil && fileNode == nil {
		d.add(ln.Line, "add admin.token_file: "+adminTokenExampleFile+" (a file holding a long random string)",
			"admin.listen is set but no admin token is")
	}
	return a
}

// secretFile reads a secret from a file named by key. Errors never show the
// file's content.
func (d *decoder) secretFile(key, path string, line int) string {
	path = d.resolvePath(key, path, line, d.dir)
	if path == "" {
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		d.add(line, "create the file, or fix the path", "%s: cannot read %s: %v", key, path, errorText(err))
		return ""
	}
	v := strings.TrimSpace(string(data))
	if v == "" {
		d.add(line, "put the secret in the file", "%s: %s is empty", key, path)
	}
	return v
}

func errorText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
