package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/server"
)

// openStore opens the user and key store named by the configuration at
// path.
func openStore(ctx context.Context, path string) (*config.Config, accounts.Store, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := openAccounts(ctx, cfg)
	return cfg, st, err
}

// openAccounts opens cfg's user and key store for one command.
func openAccounts(ctx context.Context, cfg *config.Config) (accounts.Store, error) {
	if cfg.Store.Type != config.StorePostgres {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, err
		}
	}
	return server.OpenAccounts(ctx, cfg, server.AccountsOptions{OneShot: true})
}

// storeError marks the store's input errors as usage errors.
func storeError(err error) error {
	if errors.Is(err, accounts.ErrInvalid) || errors.Is(err, accounts.ErrExists) || errors.Is(err, accounts.ErrState) || errors.Is(err, authgate.ErrNotFound) {
		return usageError{err}
	}
	return err
}

// readPassword asks for a password at the terminal (twice, without echo),
// or reads one line from standard input when it is not a terminal. The
// password never comes from the command line, where it would end up in the
// shell history and the process list.
func readPassword(e *env, user string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "Password for %s: ", user)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(e.stderr, "Repeat it: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", usagef("the two passwords differ; nothing was changed — run the command again")
		}
		return checkPassword(string(a))
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	return checkPassword(line)
}

func checkPassword(pw string) (string, error) {
	if pw == "" {
		return "", usagef("empty password; nothing was changed — type one at the prompt, or pipe it: printf '%%s\\n' 'the password' | authgate users ...")
	}
	return pw, nil
}

// durationFlag parses a flag value like 90d, 12h or 30m.
func durationFlag(name, v string) (time.Duration, error) {
	d, err := config.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, usagef("--%s %q is not a duration — write it like 30m, 12h or 90d", name, v)
	}
	return d, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, p)
	}
	return out
}

// withStore gives c its --config flag and runs fn with the store open.
func withStore(c *cobra.Command, fn func(cfg *config.Config, st accounts.Store, args []string) error) *cobra.Command {
	path := configFlag(c)
	c.RunE = func(c *cobra.Command, args []string) error {
		cfg, st, err := openStore(c.Context(), *path)
		if err != nil {
			return err
		}
		defer st.Close()
		return storeError(fn(cfg, st, args))
	}
	return c
}
