package doctor

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/credential"
	"github.com/authgate/authgate/reason"
)

// Defaults of Options.
const (
	DefaultAPIKeyHeader = "X-API-Key"
	DefaultTimeout      = 15 * time.Second
	DefaultMaxRedirects = 10
	// maxCredentialBytes is authgate's default limit, used only to judge
	// the format of what is sent.
	maxCredentialBytes = 8192
	maxBody            = 64 << 10
)

// Options describe the request to check. The credential fields build the
// request's headers the way a client would; Header may carry more,
// including a hand-written Authorization header.
type Options struct {
	Method string
	URL    string
	// Header is sent as is; a "Host" entry sets the request's Host.
	Header http.Header
	Body   []byte

	// Basic credentials, sent when BasicUser is set.
	BasicUser, BasicPassword string
	// Token is sent as "Authorization: Bearer <Token>", exactly as given.
	Token string
	// APIKey is sent in APIKeyHeader (DefaultAPIKeyHeader when empty).
	APIKey       string
	APIKeyHeader string

	ClientCert *tls.Certificate
	RootCAs    *x509.CertPool // nil: the system's
	Insecure   bool

	// Issuer (OIDC discovery) or JWKS (URL or file) check the token's
	// signature and kid; Audience is the audience the API expects.
	Issuer, JWKS, Audience string

	Timeout      time.Duration // DefaultTimeout when zero
	MaxRedirects int           // DefaultMaxRedirects when zero; <0 follows none
	// Now is the local clock; time.Now when nil.
	Now func() time.Time
	// Proxy chooses a proxy per request; http.ProxyFromEnvironment when nil.
	Proxy func(*http.Request) (*url.URL, error)
}

// OptionError is an error in the options themselves: a bad URL, two
// credentials for the same header. Check returns no report with it.
type OptionError struct{ msg string }

func (e *OptionError) Error() string { return e.msg }

func optionErrorf(format string, args ...any) error {
	return &OptionError{fmt.Sprintf(format, args...)}
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// Check sends the request once, following redirects itself, and diagnoses
// the answer. Network failures are part of the report (Outcome
// Unreachable); the error is non-nil only for an *OptionError.
func Check(ctx context.Context, o Options) (*Report, error) {
	if o.Method == "" {
		o.Method = http.MethodGet
		if o.Body != nil {
			o.Method = http.MethodPost
		}
	}
	if o.APIKeyHeader == "" {
		o.APIKeyHeader = DefaultAPIKeyHeader
	}
	o.APIKeyHeader = textproto.CanonicalMIMEHeaderKey(o.APIKeyHeader)
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.Proxy == nil {
		o.Proxy = http.ProxyFromEnvironment
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, optionErrorf("%q is not an http:// or https:// URL", o.URL)
	}
	header, hostOverride, err := o.buildHeader()
	if err != nil {
		return nil, err
	}

	red := &redactor{}
	for _, s := range []string{o.BasicPassword, o.Token, o.APIKey} {
		red.add(s)
	}
	creds := describeCredentials(header, o.APIKeyHeader, red)

	r := &Report{Kind: "request", CheckedAt: o.now().UTC(), Causes: []Cause{}}
	r.Request = &RequestInfo{Method: o.Method, URL: redactURL(u, red), Host: hostOverride, Credentials: creds}
	if o.ClientCert != nil && o.ClientCert.Leaf != nil {
		r.Request.ClientCert = o.ClientCert.Leaf.Subject.String()
	} else if o.ClientCert != nil {
		r.Request.ClientCert = "given"
	}
	probe, _ := http.NewRequest(o.Method, u.String(), nil)
	if p, err := o.Proxy(probe); err == nil && p != nil {
		r.Request.Proxy = redactProxy(p)
	}

	var certAsked atomic.Bool
	tr := &http.Transport{
		Proxy:                 o.Proxy,
		DialContext:           (&net.Dialer{Timeout: o.Timeout}).DialContext,
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
		DisableKeepAlives:     true,
		ForceAttemptHTTP2:     true,
		TLSClientConfig: &tls.Config{
			RootCAs:            o.RootCAs,
			InsecureSkipVerify: o.Insecure, // the user asked; the report says the certificate was not verified
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				certAsked.Store(true)
				if o.ClientCert != nil {
					return o.ClientCert, nil
				}
				return &tls.Certificate{}, nil
			},
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	final, body, fin, err := o.follow(ctx, client, u, header, hostOverride, r, red)
	d := &diagnosis{report: r, red: red}
	d.extracted = (&credential.Extractor{APIKeyHeader: o.APIKeyHeader, MaxBytes: maxCredentialBytes}).Extract(header, authgate.Methods)
	d.sentKinds = credentialKinds(creds)
	d.queryToken = queryToken(u)
	d.apiKey = header.Get(o.APIKeyHeader)
	if v := strings.TrimSpace(header.Get("Authorization")); strings.Contains(v, " ") {
		d.authScheme, _, _ = strings.Cut(v, " ")
	}
	if err != nil {
		proxy, _ := o.Proxy(probe)
		r.Network = classifyNetworkError(err, fin, proxy)
		// url.Error repeats the whole URL, query included: say it again
		// with credentials in the query redacted.
		var ue *url.Error
		if errors.As(err, &ue) {
			r.Network.Error = ue.Op + " " + strconv.Quote(redactURL(fin, red)) + ": " + ue.Err.Error()
		}
		r.Outcome = Unreachable
		if certAsked.Load() && o.ClientCert == nil {
			r.Network.Explanation += " The server asked for a client certificate and none was given (--cert/--key)."
		}
		d.token(ctx, client, o, header, clocks{local: o.now()})
		d.finish()
		return r, nil
	}
	ri := o.describeResponse(final, body, red)
	if ri.TLS != nil {
		ri.TLS.CertAsked = certAsked.Load()
		ri.TLS.CertGiven = o.ClientCert != nil
	}
	r.Response = ri
	r.Clock = clockOf(final, ri, o.now())
	if a := ri.Authgate; a != nil && a.RequestID != "" {
		r.ExplainCommand = "authgate explain " + a.RequestID
	}
	r.Outcome = Succeeded
	if final.StatusCode >= 400 {
		r.Outcome = Failed
	}
	d.token(ctx, client, o, header, clocks{local: r.Clock.Local, server: r.Clock.Server})
	d.response(o)
	d.finish()
	return r, nil
}

// buildHeader adds the credential options to the extra headers.
func (o *Options) buildHeader() (http.Header, string, error) {
	h := http.Header{}
	host := ""
	for k, vs := range o.Header {
		if strings.EqualFold(k, "Host") {
			host = vs[len(vs)-1]
			continue
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n") {
				return nil, "", optionErrorf("header %s contains a line break; send it on one line", k)
			}
			h.Add(k, v)
		}
	}
	n := 0
	for _, set := range []bool{o.BasicUser != "", o.Token != ""} {
		if set {
			n++
		}
	}
	if n > 1 || n == 1 && h.Get("Authorization") != "" {
		return nil, "", optionErrorf("more than one Authorization: give one of -u, --token, or -H 'Authorization: ...'")
	}
	switch {
	case o.BasicUser != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(o.BasicUser+":"+o.BasicPassword)))
	case o.Token != "":
		if strings.ContainsAny(o.Token, "\r\n") {
			return nil, "", optionErrorf("the token contains a line break; remove it (a token file should hold the token on one line)")
		}
		h.Set("Authorization", "Bearer "+o.Token)
	}
	if o.APIKey != "" {
		if h.Get(o.APIKeyHeader) != "" {
			return nil, "", optionErrorf("the API key is given twice: with --api-key and -H '%s: ...'", o.APIKeyHeader)
		}
		h.Set(o.APIKeyHeader, o.APIKey)
	}
	return h, host, nil
}

// credentialHeaders are the headers doctor treats as carrying a secret:
// they are described, never printed, and dropped on redirects to another
// host.
func isCredentialHeader(name, apiKeyHeader string) bool {
	switch textproto.CanonicalMIMEHeaderKey(name) {
	case "Authorization", "Cookie", apiKeyHeader:
		return true
	}
	n := strings.ToLower(name)
	return strings.Contains(n, "token") || strings.Contains(n, "key") || strings.Contains(n, "auth") || strings.Contains(n, "secret")
}

// follow sends the request and follows redirects, recording each hop. It
// returns the final response with its body (read and closed), and the URL
// it was sent to.
func (o *Options) follow(ctx context.Context, client *http.Client, u *url.URL, header http.Header, hostOverride string, r *Report, red *redactor) (*http.Response, []byte, *url.URL, error) {
	method, body, cur := o.Method, o.Body, u
	hdr := header.Clone()
	for hop := 0; ; hop++ {
		req, err := http.NewRequestWithContext(ctx, method, cur.String(), bytes.NewReader(body))
		if err != nil {
			return nil, nil, cur, err
		}
		if body == nil {
			req.Body, req.ContentLength = nil, 0
		}
		req.Header = hdr.Clone()
		if hostOverride != "" && hop == 0 {
			req.Host = hostOverride
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, nil, cur, err
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		h := Hop{Method: method, URL: redactURL(cur, red), Status: resp.StatusCode, Credentials: hasCredentials(hdr, o.APIKeyHeader)}
		if hop > 0 {
			h.Dropped = r.Hops[hop-1].Dropped
			r.Hops[hop-1].Dropped = nil
		}
		loc := resp.Header.Get("Location")
		if !isRedirect(resp.StatusCode) || loc == "" {
			r.Hops = append(r.Hops, h)
			return resp, b, cur, nil
		}
		next, err := cur.Parse(loc)
		if err != nil {
			r.Hops = append(r.Hops, h)
			r.Notes = append(r.Notes, Note{"redirect_bad_location", Fault, "The redirect's Location header is not a valid URL."})
			return resp, b, cur, nil
		}
		h.Location = redactURL(next, red)
		if hop >= o.MaxRedirects {
			r.Hops = append(r.Hops, h)
			if o.MaxRedirects > 0 {
				r.Notes = append(r.Notes, Note{"too_many_redirects", Fault, fmt.Sprintf("More than %d redirects: a redirect loop, often between a login page and the app when a cookie is not kept.", o.MaxRedirects)})
			}
			return resp, b, cur, nil
		}
		// Clients drop credentials when a redirect leads to another host
		// (curl, browsers; Go keeps them only for subdomains): do the same,
		// so the next answer is the one a real client gets.
		var dropped []string
		if next.Host != cur.Host || next.Scheme != cur.Scheme {
			for k := range hdr {
				if isCredentialHeader(k, o.APIKeyHeader) {
					dropped = append(dropped, k)
					hdr.Del(k)
				}
			}
			slices.Sort(dropped)
			if len(dropped) > 0 {
				what := "another host (" + next.Host + ")"
				if next.Host == cur.Host {
					what = "another scheme (" + next.Scheme + ")"
				}
				r.Notes = append(r.Notes, Note{"redirect_drops_credentials", Warning, fmt.Sprintf("%s %s redirects (%d) to %s: clients do not send %s there, so the credentials are gone from here on.", method, redactURL(cur, red), resp.StatusCode, what, strings.Join(dropped, ", "))})
			}
		}
		if cur.Scheme == "https" && next.Scheme == "http" {
			r.Notes = append(r.Notes, Note{"redirect_to_http", Fault, "A redirect leads from https to plain http: anything sent after it travels unencrypted."})
		}
		h.Dropped = dropped
		r.Hops = append(r.Hops, h)
		if resp.StatusCode == 303 || (resp.StatusCode == 301 || resp.StatusCode == 302) && method == http.MethodPost {
			if method != http.MethodHead {
				method = http.MethodGet
			}
			body = nil
			hdr.Del("Content-Type")
		}
		cur = next
	}
}

func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

func hasCredentials(h http.Header, apiKeyHeader string) bool {
	for k := range h {
		if isCredentialHeader(k, apiKeyHeader) {
			return true
		}
	}
	return false
}

// describeResponse reads what the final answer says about authentication.
func (o *Options) describeResponse(resp *http.Response, body []byte, red *redactor) *ResponseInfo {
	ri := &ResponseInfo{
		Status: resp.StatusCode, StatusText: http.StatusText(resp.StatusCode),
		Meaning:    meaning(resp.StatusCode),
		RetryAfter: resp.Header.Get("Retry-After"),
		Date:       resp.Header.Get("Date"),
		Server:     red.clean(resp.Header.Get("Server")),
		Via:        resp.Header.Values("Via"),
	}
	ri.ContentType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var err error
	ri.Challenges, err = ParseChallenges(resp.Header.Values("Www-Authenticate"))
	if err != nil {
		ri.ChallengeError = "WWW-Authenticate: " + err.Error()
	}
	ri.ProxyChallenges, err = ParseChallenges(resp.Header.Values("Proxy-Authenticate"))
	if err != nil && ri.ChallengeError == "" {
		ri.ChallengeError = "Proxy-Authenticate: " + err.Error()
	}
	for i := range ri.Challenges {
		cleanChallenge(&ri.Challenges[i], red)
	}
	for i := range ri.ProxyChallenges {
		cleanChallenge(&ri.ProxyChallenges[i], red)
	}
	for _, k := range []string{"X-Request-Id", "Request-Id", "X-Correlation-Id", "X-Amzn-Requestid", "X-Ms-Request-Id"} {
		if v := resp.Header.Get(k); v != "" {
			ri.RequestID = red.clean(v)
			break
		}
	}
	if strings.HasSuffix(ri.ContentType, "json") {
		var p Problem
		if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Code != "" || p.Type != "") {
			for _, s := range []*string{&p.Type, &p.Title, &p.Detail, &p.Instance, &p.Code, &p.RequestID, &p.Hint, &p.Explanation, &p.Scope, &p.ServerTime} {
				*s = red.clean(*s)
			}
			ri.Problem = &p
		}
	}
	code := reason.Code(resp.Header.Get("X-Authgate-Reason"))
	if code == "" && ri.Problem != nil && ri.ContentType == "application/problem+json" {
		code = reason.Code(ri.Problem.Code)
	}
	if reason.Known(code) {
		a := &AuthgateInfo{Reason: code, RequestID: ri.RequestID, Masked: code == reason.InvalidCredentials}
		if ri.Problem != nil && ri.Problem.RequestID != "" {
			a.RequestID = ri.Problem.RequestID
		}
		ri.Authgate = a
	}
	if resp.TLS != nil {
		ri.TLS = tlsInfo(resp.TLS, resp.Request.URL.Hostname(), o.Insecure, o.now())
	}
	return ri
}

func cleanChallenge(c *Challenge, red *redactor) {
	c.Token68 = red.clean(c.Token68)
	for i := range c.Params {
		c.Params[i].Value = red.clean(c.Params[i].Value)
	}
}

// clockOf compares the local clock with the server's: authgate's
// server_time (the clock that decided) when present, else Date.
func clockOf(resp *http.Response, ri *ResponseInfo, local time.Time) *ClockInfo {
	c := &ClockInfo{Local: local.UTC()}
	if ri.Problem != nil && ri.Problem.ServerTime != "" {
		if t, err := time.Parse(time.RFC3339, ri.Problem.ServerTime); err == nil {
			c.Server, c.ServerSource = t.UTC(), "server_time of the problem document"
		}
	}
	if c.Server.IsZero() {
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			c.Server, c.ServerSource = t.UTC(), "Date header"
		}
	}
	if !c.Server.IsZero() {
		c.SkewSeconds = int64(c.Server.Sub(local).Round(time.Second) / time.Second)
	}
	return c
}

// meaning says what a status means for authentication.
func meaning(status int) string {
	switch {
	case status == 401:
		return "The server does not accept the credentials, or got none: new or corrected credentials can help."
	case status == 403:
		return "The server knows who you are (or does not care) and refuses: other credentials will not help unless they carry more rights."
	case status == 407:
		return "A proxy between you and the server wants credentials; the server itself has not seen the request."
	case status == 429:
		return "Too many requests: the server throttles you; wait for Retry-After."
	case status == 400:
		return "The server cannot read the request; for authentication, usually a malformed credential."
	case status == 431:
		return "A header (often the token) is too large for the server."
	case status == 502 || status == 504:
		return "A gateway could not reach the application behind it."
	case status == 503:
		return "The server or one of its dependencies is unavailable; your credentials were probably not judged."
	case status >= 500:
		return "The server failed; this is not about your credentials."
	case status >= 400:
		return ""
	case status >= 300:
		return "A redirect that was not followed."
	}
	return "The request succeeded."
}

// describeCredentials lists the credentials in h without their secrets.
func describeCredentials(h http.Header, apiKeyHeader string, red *redactor) []CredentialInfo {
	out := []CredentialInfo{}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !isCredentialHeader(k, apiKeyHeader) {
			continue
		}
		for _, v := range h[k] {
			ci := CredentialInfo{Header: k, Kind: "secret"}
			switch {
			case k == "Authorization":
				scheme, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
				if !ok {
					rest, scheme = scheme, ""
				}
				red.add(rest)
				ci.Scheme, ci.Kind = scheme, strings.ToLower(scheme)
				switch {
				case strings.EqualFold(scheme, "Basic"):
					ci.Kind = "basic"
					if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest)); err == nil {
						user, pass, _ := strings.Cut(string(raw), ":")
						red.add(pass)
						ci.User = red.clean(user)
						ci.Secret = describeSecret(pass, false)
						break
					}
					ci.Secret = describeSecret(rest, false)
				case strings.EqualFold(scheme, "Bearer"):
					ci.Kind = "bearer"
					ci.Secret = describeSecret(rest, true)
				case scheme == "":
					ci.Kind = "no scheme"
					ci.Secret = describeSecret(rest, true)
				default:
					ci.Secret = describeSecret(rest, true)
				}
			case k == apiKeyHeader:
				red.add(v)
				ci.Kind = "api_key"
				ci.Secret = describeSecret(v, true)
			default:
				red.add(v)
				if k == "Cookie" {
					ci.Kind = "cookie"
				}
				ci.Secret = describeSecret(v, k != "Cookie")
			}
			out = append(out, ci)
		}
	}
	return out
}

func credentialKinds(cs []CredentialInfo) map[string]bool {
	m := map[string]bool{}
	for _, c := range cs {
		m[c.Kind] = true
	}
	return m
}

// queryToken returns the name of a query parameter that carries a token.
func queryToken(u *url.URL) string {
	for _, k := range []string{"access_token", "token", "api_key", "apikey", "key", "id_token"} {
		if u.Query().Has(k) {
			return k
		}
	}
	return ""
}

// redactURL removes user info and token-like query values from u.
func redactURL(u *url.URL, red *redactor) string {
	c := *u
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	if q, changed := redactParams(c.RawQuery); changed {
		c.RawQuery = q
	}
	// OAuth's implicit flow puts tokens and codes in the fragment of a
	// redirect: #access_token=...&id_token=...
	if f, changed := redactParams(c.EscapedFragment()); changed {
		c.Fragment, c.RawFragment = "", ""
		return red.clean(strings.TrimSuffix(c.String(), "#") + "#" + f)
	}
	return red.clean(c.String())
}

// redactParams replaces the values of credential-like parameters of a
// query (or fragment) string.
func redactParams(raw string) (string, bool) {
	q, err := url.ParseQuery(raw)
	if err != nil || len(q) == 0 {
		return raw, false
	}
	changed := false
	for k := range q {
		switch {
		case isCredentialHeader(k, ""), k == "access_token", k == "id_token", k == "refresh_token", k == "code":
			for i := range q[k] {
				q[k][i] = "REDACTED"
			}
			changed = true
		}
	}
	return q.Encode(), changed
}

func redactProxy(p *url.URL) string {
	c := *p
	if c.User != nil {
		c.User = url.User(c.User.Username())
	}
	return c.String()
}
