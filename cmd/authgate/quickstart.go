package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/authgate/authgate/quickstart"
)

func quickstartCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "quickstart",
		Short: "Run a demo gateway in front of a demo app, with credentials to try",
		Long: `Starts a gateway on 127.0.0.1 in front of a built-in demo app, with a demo
user, API keys and bearer tokens, and prints curl commands that work and some
that fail for a stated reason. State and the configuration used
(authgate.yaml) go to the data folder. Stop it with Ctrl-C.`,
		Args: cobra.NoArgs,
	}
	listen := c.Flags().String("listen", "127.0.0.1:8080", "address to listen on")
	data := c.Flags().String("data", "./authgate-data", "data folder")
	c.RunE = func(c *cobra.Command, _ []string) error {
		demo, err := quickstart.Prepare(c.Context(), quickstart.Options{DataDir: *data, Listen: *listen})
		if err != nil {
			return err
		}
		defer demo.Close()
		return run(c.Context(), demo.Config, e, func(url string) { printTryIt(e.stdout, demo, url, *data) })
	}
	return c
}

func printTryIt(w io.Writer, d *quickstart.Demo, url, data string) {
	fmt.Fprintf(w, `
authgate is running at %[1]s in front of a demo app (%[2]s).
Configuration: %[3]s   (validate it with: go run ./cmd/authgate check-config %[3]s)

These work:
  # the demo user's password → 200
  curl -i -u 'demo:%[4]s' %[1]s/hello
  # an API key → 200
  curl -i -H 'X-API-Key: %[5]s' %[1]s/hello
  # a bearer token from the demo issuer → 200
  curl -i -H 'Authorization: Bearer %[6]s' %[1]s/hello

These fail, each for its own reason:
  # the password before the last change → 401 password_wrong (the log says password_previous)
  curl -i -u 'demo:%[7]s' %[1]s/hello
  # a key that was rotated out → 401 key_rotated
  curl -i -H 'X-API-Key: %[8]s' %[1]s/hello
  # a token that expired 5 minutes ago → 401 token_expired
  curl -i -H 'Authorization: Bearer %[9]s' %[1]s/hello
  # a valid token without the admin scope → 403 insufficient_scope
  curl -i -H 'Authorization: Bearer %[6]s' %[1]s/admin

In a browser, open %[1]s/ and sign in as demo with the password %[4]s;
%[1]s/secure then asks you to set up 2-step verification with an authenticator app.
Your account and sign-out: %[1]s/.authgate/account

Send a wrong password five times (curl -u 'demo:wrong' ...): the answers slow down, then the
sixth is 429 account_locked_from_source for a minute — only from this address. To end it early:
  go run ./cmd/authgate users unlock demo --config %[3]s

Each answer carries an X-Request-Id. To see why a request was refused, from another terminal:
  go run ./cmd/authgate explain <X-Request-Id> --config %[3]s
  go run ./cmd/authgate log --since 10m --config %[3]s
The log below shows each refusal too. The demo token expires at %[10]s. Stop with Ctrl-C.

`, url, d.UpstreamURL, d.ConfigPath, d.Password, d.Key, d.Token, d.PreviousPassword, d.RotatedKey, d.ExpiredToken, d.TokenExpires.UTC().Format(time.RFC3339))
}
