package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/authgate/authgate/verify/apikey"
)

// The gateway's state for a run, made the way an operator makes it: the
// configuration file written here, the user and the API key created with
// the built binary's own CLI (which this exercises too), and tokens signed
// here with the issuers' keys.

// Fixture holds the run's configuration and every credential the
// scenarios present.
type Fixture struct {
	Dir        string // the run's temporary folder, also the data_dir
	ConfigPath string

	APIKey      string // an active key
	WrongAPIKey string // the same key id with another secret: api_key_secret_wrong

	User          string
	Password      string
	WrongPassword string

	Issuers      []*issuer
	Tokens       map[string]string // valid token by issuer algorithm
	ExpiredToken string            // an ES256 token that expired 5 minutes ago
}

// benchUser is the Basic user the harness creates.
const benchUser = "bench"

// prepareFixture writes the configuration for upstreamURL into dir and
// creates the user, the key and the tokens; logLevel is the gateway's log
// level (info, its default, unless an experiment says otherwise). binary is the authgate binary
// whose CLI creates the user and the key.
func prepareFixture(ctx context.Context, binary, dir, upstreamURL, logLevel, signInLog string) (*Fixture, error) {
	f := &Fixture{Dir: dir, ConfigPath: filepath.Join(dir, "authgate.yaml"), User: benchUser, Tokens: map[string]string{}}
	var err error
	if f.Issuers, err = newIssuers(); err != nil {
		return nil, err
	}
	for _, is := range f.Issuers {
		if err := is.writeJWKS(dir); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(f.ConfigPath, []byte(gatewayConfig(upstreamURL, logLevel, signInLog, f.Issuers)), 0o600); err != nil {
		return nil, err
	}
	if _, err := runCLI(ctx, binary, "", "check-config", f.ConfigPath); err != nil {
		return nil, fmt.Errorf("the generated configuration is refused (a bug in bench/config.go): %w", err)
	}

	f.Password, f.WrongPassword = randomString(18), randomString(18)
	if _, err := runCLI(ctx, binary, f.Password+"\n", "users", "add", f.User, "--scopes", "bench", "--config", f.ConfigPath); err != nil {
		return nil, err
	}
	out, err := runCLI(ctx, binary, "", "keys", "create", "--owner", "bench-client", "--scopes", "bench", "--config", f.ConfigPath)
	if err != nil {
		return nil, err
	}
	f.APIKey = strings.TrimSpace(out)
	id, _, ok := apikey.Parse(f.APIKey)
	if !ok {
		return nil, fmt.Errorf("authgate keys create printed %d characters that are not a key: %s", len(f.APIKey), apikey.Problem(f.APIKey))
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	f.WrongAPIKey = apikey.Prefix + id + "_" + base64.RawURLEncoding.EncodeToString(secret)

	now := time.Now()
	for _, is := range f.Issuers {
		if f.Tokens[is.Alg], err = is.sign(now, now.Add(2*time.Hour)); err != nil {
			return nil, err
		}
	}
	f.ExpiredToken, err = f.Issuers[0].sign(now.Add(-65*time.Minute), now.Add(-5*time.Minute))
	return f, err
}

// runCLI runs the authgate binary with args, stdin as its input, and
// returns its standard output; a failure carries its standard error.
func runCLI(ctx context.Context, binary, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("authgate %s: %w: %s", strings.Join(args[:min(2, len(args))], " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
