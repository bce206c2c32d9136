package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/authgate/authgate/doctor"
)

// Environment variables doctor reads credentials from when no credential
// flag is given, so that secrets stay out of argv and shell history.
const (
	envDoctorToken    = "AUTHGATE_DOCTOR_TOKEN"
	envDoctorAPIKey   = "AUTHGATE_DOCTOR_API_KEY"
	envDoctorUser     = "AUTHGATE_DOCTOR_USER"
	envDoctorPassword = "AUTHGATE_DOCTOR_PASSWORD"
)

func doctorCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "doctor URL",
		Short: "Diagnose why a server refuses a request (401, 403, ...), from the client side",
		Long: `Sends the request once, following redirects itself, and explains the answer:
the status, every challenge, the problem document, the token decoded without
trusting it and compared with your clock and the server's, redirects that drop
the Authorization header, proxies and TLS. It ends with the likely causes,
most likely first, each as a reason code of authgate's catalogue with its fix.
Works against any HTTP server; when the server is authgate it also prints the
reason code, the request id, and the 'authgate explain' command for the admin.

Credentials come from the flags or, when no credential flag is given, from
the environment: ` + envDoctorToken + `, ` + envDoctorAPIKey + `,
` + envDoctorUser + ` and ` + envDoctorPassword + `. They are never printed: at most
their first characters and a SHA-256 fingerprint.

Exit status: 0 the request succeeded, 1 it failed (with a diagnosis),
2 usage error or the server could not be reached.`,
		Example: `  authgate doctor https://api.example.com/orders --token-file token.txt
  authgate doctor -u alice https://intranet.example.com/      # prompts for the password
  authgate doctor https://api.example.com/ --api-key "$KEY" --format json
  authgate doctor token < token.txt                           # offline lint`,
		Args: cobra.ExactArgs(1),
	}
	f := c.Flags()
	method := f.StringP("request", "X", "", "HTTP method (default GET, or POST with -d)")
	headers := f.StringArrayP("header", "H", nil, `extra header "Name: value" (repeatable)`)
	data := f.StringP("data", "d", "", "request body; @FILE reads a file")
	user := f.StringP("user", "u", "", "Basic credentials USER[:PASSWORD]; prompts for the password when it is missing")
	token := f.String("token", "", "bearer token (prefer --token-file or "+envDoctorToken+": argv is visible to other users)")
	tokenFile := f.String("token-file", "", "file holding the bearer token")
	apiKey := f.String("api-key", "", "API key (prefer "+envDoctorAPIKey+")")
	apiKeyHeader := f.String("api-key-header", doctor.DefaultAPIKeyHeader, "header the API key is sent in")
	certFile := f.String("cert", "", "client certificate (PEM)")
	keyFile := f.String("key", "", "client certificate's private key (PEM)")
	caFile := f.String("cacert", "", "CA certificates (PEM) to trust instead of the system's")
	insecure := f.BoolP("insecure", "k", false, "do not verify the server's certificate (the report says so)")
	issuer := f.String("issuer", "", "the token's issuer URL: check its signature and kid with the issuer's published keys (OIDC discovery)")
	jwks := f.String("jwks", "", "JWKS URL or file to check the token's signature and kid with")
	audience := f.String("audience", "", "the audience the API expects the token to carry")
	timeout := f.Duration("timeout", doctor.DefaultTimeout, "time limit for each connection and answer")
	maxRedirects := f.Int("max-redirects", doctor.DefaultMaxRedirects, "redirects to follow")
	format := f.String("format", "text", "text or json")

	c.RunE = func(c *cobra.Command, args []string) error {
		if *format != "text" && *format != "json" {
			return usagef("unknown --format %q — use text or json", *format)
		}
		o := doctor.Options{
			Method: strings.ToUpper(*method), URL: args[0], APIKeyHeader: *apiKeyHeader,
			Issuer: *issuer, JWKS: *jwks, Audience: *audience, Timeout: *timeout,
			MaxRedirects: *maxRedirects, Insecure: *insecure,
		}
		if *maxRedirects == 0 {
			o.MaxRedirects = -1
		}
		if !strings.Contains(args[0], "://") {
			return usagef("%q has no scheme — write http://%s or https://%s", args[0], args[0], args[0])
		}
		var err error
		if o.Header, err = parseHeaders(*headers); err != nil {
			return err
		}
		if *data != "" {
			if o.Body, err = readData(*data, e.stdin); err != nil {
				return err
			}
		}
		if err := doctorCredentials(e, c, &o, *user, *token, *tokenFile, *apiKey); err != nil {
			return err
		}
		if err := doctorTLS(&o, *certFile, *keyFile, *caFile); err != nil {
			return err
		}
		r, err := doctor.Check(c.Context(), o)
		if err != nil {
			var oe *doctor.OptionError
			if errors.As(err, &oe) {
				return usageError{err}
			}
			return err
		}
		return renderDoctor(e, r, *format)
	}
	c.AddCommand(doctorTokenCmd(e))
	return c
}

func doctorTokenCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "token [FILE]",
		Short: "Lint a token offline: structure, claims, times, red flags",
		Long: `Reads a token from FILE, or from standard input, and lints it without any
network: its structure and header, its claims, exp/nbf/iat relative to now,
and red flags (alg none, HMAC, no aud or exp, a lifetime over 24 h,
jku/x5u headers). Nothing is verified unless --jwks names a key set.

Exit status: 0 nothing a verifier would reject, 1 problems found, 2 usage.`,
		Args: cobra.MaximumNArgs(1),
	}
	audience := c.Flags().String("audience", "", "the audience the API expects")
	jwks := c.Flags().String("jwks", "", "JWKS file to check the signature and kid with")
	format := c.Flags().String("format", "text", "text or json")
	c.RunE = func(c *cobra.Command, args []string) error {
		if *format != "text" && *format != "json" {
			return usagef("unknown --format %q — use text or json", *format)
		}
		var in io.Reader = e.stdin
		if len(args) == 1 && args[0] != "-" {
			f, err := os.Open(args[0])
			if err != nil {
				return usagef("%v", err)
			}
			defer f.Close()
			in = f
		}
		b, err := io.ReadAll(io.LimitReader(in, 1<<20))
		if err != nil {
			return err
		}
		r, err := doctor.Lint(c.Context(), string(b), doctor.LintOptions{Audience: *audience, JWKS: *jwks})
		if err != nil {
			return usageError{err}
		}
		return renderDoctor(e, r, *format)
	}
	return c
}

// renderDoctor prints the report and maps its outcome to the exit status.
func renderDoctor(e *env, r *doctor.Report, format string) error {
	var err error
	if format == "json" {
		err = doctor.WriteJSON(e.stdout, r)
	} else {
		err = doctor.WriteText(e.stdout, r, doctor.TextOptions{Color: colorOutput(e.stdout)})
	}
	if err != nil {
		return err
	}
	// Run prints these on stderr; the report itself went to stdout.
	switch {
	case r.Outcome == doctor.Unreachable:
		return usageError{fmt.Errorf("no answer from the server (%s); see above", r.Network.Kind)}
	case r.Outcome == doctor.Failed && r.Kind == "token":
		return errors.New("the token has problems; see above")
	case r.Outcome == doctor.Failed:
		return errors.New("the request failed; the diagnosis is above")
	}
	return nil
}

// colorOutput reports whether w is a terminal and NO_COLOR is unset
// (https://no-color.org).
func colorOutput(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func parseHeaders(hs []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, h := range hs {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usagef("-H %q is not \"Name: value\"", h)
		}
		// A leading space is the separator; anything else is kept, so
		// that doctor sends exactly what the client would.
		value = strings.TrimPrefix(value, " ")
		key := canonicalHeader(name)
		out[key] = append(out[key], value)
	}
	return out, nil
}

func canonicalHeader(name string) string {
	b := []byte(strings.ToLower(name))
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		upper = c == '-'
	}
	return string(b)
}

func readData(d string, stdin io.Reader) ([]byte, error) {
	switch {
	case d == "@-":
		return io.ReadAll(stdin)
	case strings.HasPrefix(d, "@"):
		b, err := os.ReadFile(d[1:])
		if err != nil {
			return nil, usagef("-d: %v", err)
		}
		return b, nil
	}
	return []byte(d), nil
}

// doctorCredentials fills o's credentials from the flags, a prompt, or
// the environment.
func doctorCredentials(e *env, c *cobra.Command, o *doctor.Options, user, token, tokenFile, apiKey string) error {
	flagged := c.Flags().Changed("user") || c.Flags().Changed("token") || c.Flags().Changed("token-file") || c.Flags().Changed("api-key")
	if !flagged {
		token, apiKey = os.Getenv(envDoctorToken), os.Getenv(envDoctorAPIKey)
		if u := os.Getenv(envDoctorUser); u != "" {
			user = u
		}
	}
	if token != "" && tokenFile != "" {
		return usagef("give --token or --token-file, not both")
	}
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return usagef("--token-file: %v", err)
		}
		// A file's final line break is not part of the token; anything
		// else is sent as it is, so doctor sees what the client would.
		token = strings.TrimRight(string(b), "\r\n")
		if token == "" {
			return usagef("--token-file %s is empty", tokenFile)
		}
	}
	o.Token, o.APIKey = token, apiKey
	if user == "" {
		return nil
	}
	name, pw, hasPW := strings.Cut(user, ":")
	if !hasPW {
		if v, ok := os.LookupEnv(envDoctorPassword); ok {
			pw = v
		} else {
			var err error
			if pw, err = promptPassword(e, name); err != nil {
				return err
			}
		}
	}
	o.BasicUser, o.BasicPassword = name, pw
	return nil
}

// promptPassword asks once, without echo, when stdin is a terminal, and
// otherwise reads one line from stdin.
func promptPassword(e *env, user string) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "Password for %s: ", user)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	if err == io.EOF && line == "" {
		return "", usagef("-u %s has no password: write -u %s:PASSWORD, set %s, or pipe the password on stdin", user, user, envDoctorPassword)
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}

func doctorTLS(o *doctor.Options, certFile, keyFile, caFile string) error {
	if (certFile == "") != (keyFile == "") {
		return usagef("--cert and --key go together")
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return usagef("--cert/--key: %v", err)
		}
		o.ClientCert = &cert
	}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return usagef("--cacert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return usagef("--cacert %s holds no PEM certificate", caFile)
		}
		o.RootCAs = pool
	}
	return nil
}
