// Command authgate is the authentication gateway's single binary: it runs
// the gateway (serve, quickstart), checks configurations, manages users and
// API keys, and prints the reason catalogue.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/authgate/authgate/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // bad arguments or configuration
)

// usageError marks errors in what the user typed or wrote.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Run runs one command line and returns the exit status; tests call it
// in-process.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(&env{stdin: stdin, stdout: stdout, stderr: stderr})
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var cfgErrs config.Errors
	if errors.As(err, &cfgErrs) {
		fmt.Fprintln(stderr, err) // exactly FILE:LINE: what — fix, one per line
	} else {
		fmt.Fprintln(stderr, "authgate:", err)
	}
	var u usageError
	if errors.As(err, &u) || isFlagError(err) {
		return exitUsage
	}
	return exitError
}

// env is what every command reads and writes.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "authgate",
		Short: "An authentication gateway that says exactly why it refuses",
		Long: `authgate checks who is calling an HTTP app or API — passwords, API keys,
bearer tokens from any OIDC issuer — as a reverse proxy or as the forward-auth
service of nginx, Traefik and Caddy. Every refusal names one reason code from
a catalogue (authgate reasons) and a request id that links to its full trace.

Start with:  authgate quickstart`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w — see '%s --help'", err, c.CommandPath())}
	})
	root.AddCommand(
		quickstartCmd(e), serveCmd(e), checkConfigCmd(e), reasonsCmd(e),
		usersCmd(e), keysCmd(e), explainCmd(e), logCmd(e), versionCmd(e), doctorCmd(e),
	)
	return root
}

func isFlagError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires ", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func versionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run:   func(*cobra.Command, []string) { fmt.Fprintln(e.stdout, "authgate", version) },
	}
}
