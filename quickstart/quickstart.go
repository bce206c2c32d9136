// Package quickstart prepares a demo gateway on one machine: a demo app to
// protect, a demo token issuer, a demo user, API keys and tokens, and the
// configuration file that ties them together. `authgate quickstart` runs
// it; every credential it prints works or fails for a stated reason.
package quickstart

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/server"
	"github.com/authgate/authgate/sqlite"
)

// Options say where the demo lives.
type Options struct {
	DataDir string // created if missing
	Listen  string // the gateway's address, written to the configuration
	Now     func() time.Time
}

// Demo is a prepared demo: its configuration and the credentials to try.
type Demo struct {
	ConfigPath  string
	Config      *config.Config
	UpstreamURL string

	User             string
	Password         string // the demo user's password
	PreviousPassword string // its password before the last change
	Key              string // an active API key
	RotatedKey       string // a key rotated out in favour of Key
	Token            string // a valid bearer token
	ExpiredToken     string // the same, expired five minutes ago
	TokenExpires     time.Time

	upstream *http.Server
}

// Issuer and audience of the demo tokens.
const (
	DemoIssuer   = "https://issuer.quickstart.authgate.invalid"
	DemoAudience = "quickstart-demo"
)

// Prepare creates or refreshes the demo state in opts.DataDir and starts
// the demo app. Each run gives the demo user a new password (keeping the
// last one as its previous password) and rotates the demo key, so the
// printed credentials are always fresh.
func Prepare(ctx context.Context, opts Options) (_ *Demo, err error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the data folder: %w — choose another with --data", err)
	}
	d := &Demo{ConfigPath: filepath.Join(dir, "authgate.yaml"), User: "demo"}
	if err := d.startUpstream(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	iss, err := loadIssuer(dir)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(d.ConfigPath, []byte(configFile(opts.Listen, d.UpstreamURL)), 0o600); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", d.ConfigPath, err)
	}
	if d.Config, err = config.Load(d.ConfigPath); err != nil {
		return nil, fmt.Errorf("the generated configuration does not load (a bug): %w", err)
	}
	if err := d.prepareStore(ctx, opts.Now); err != nil {
		return nil, err
	}
	now := opts.Now()
	d.TokenExpires = now.Add(24 * time.Hour).Truncate(time.Second)
	if d.Token, err = iss.sign(now, d.TokenExpires, "demo-client", "demo"); err != nil {
		return nil, err
	}
	d.ExpiredToken, err = iss.sign(now.Add(-65*time.Minute), now.Add(-5*time.Minute), "demo-client", "demo")
	return d, err
}

// prepareStore sets the demo user's password twice (so the first one is
// its previous password) and issues a key, then rotates it.
func (d *Demo) prepareStore(ctx context.Context, now func() time.Time) error {
	st, err := sqlite.Open(d.Config.Store.SQLite, sqlite.Options{Now: now, RefreshInterval: -1})
	if err != nil {
		return fmt.Errorf("cannot open the demo store: %w", err)
	}
	defer st.Close()
	d.PreviousPassword, d.Password = randomPassword(), randomPassword()
	params := server.Argon2(d.Config)
	for i, pw := range []string{d.PreviousPassword, d.Password} {
		h, err := passhash.Hash(pw, params)
		if err != nil {
			return err
		}
		if _, err := st.User(ctx, d.User); i == 0 && err != nil {
			err = st.AddUser(ctx, d.User, h, []string{"demo"})
		} else {
			err = st.SetPassword(ctx, d.User, h)
		}
		if err != nil {
			return fmt.Errorf("cannot set the demo user's password: %w", err)
		}
	}
	old, err := st.CreateKey(ctx, "demo", []string{"demo"}, time.Time{})
	if err != nil {
		return err
	}
	current, err := st.RotateKey(ctx, old.ID, 0)
	if err != nil {
		return err
	}
	d.RotatedKey, d.Key = old.Key, current.Key
	return nil
}

// startUpstream runs the demo app: it echoes who the gateway says is
// calling.
func (d *Demo) startUpstream() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("cannot start the demo app: %w", err)
	}
	d.UpstreamURL = "http://" + ln.Addr().String()
	d.upstream = &http.Server{Handler: http.HandlerFunc(demoApp), ReadHeaderTimeout: 10 * time.Second}
	go d.upstream.Serve(ln)
	return nil
}

func demoApp(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "Hello %s! You reached the demo app at %s, signed in with %s (scopes: %q).\n",
		r.Header.Get("X-Authgate-Subject"), r.URL.Path, r.Header.Get("X-Authgate-Method"), r.Header.Get("X-Authgate-Scopes"))
}

// Close stops the demo app.
func (d *Demo) Close() {
	if d.upstream != nil {
		d.upstream.Close()
	}
}

func randomPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
