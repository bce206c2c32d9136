// Package decision runs authgate's pipeline for one request: match the
// route, apply its network rule, extract the credential, verify it with the
// method's verifier, apply the route's policy, and return the decision with
// its trace. It is where exactly one catalogued reason is chosen for every
// refusal. It knows nothing of HTTP responses: transports build a Request
// and render the Decision.
package decision

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/credential"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/throttle"
	"github.com/authgate/authgate/verify/apikey"
)

// Request is what a transport knows of one request.
type Request struct {
	ID   string
	Host string
	// Path is the decoded path; RawPath the path as sent, still escaped,
	// which is checked for forms that servers read differently.
	Path       string
	RawPath    string
	RawQuery   string
	HTTPMethod string
	Header     http.Header
	Source     netip.Addr
	UserAgent  string
	// Notes are transport facts worth keeping in the trace, recorded first.
	Notes []authgate.Check
	// Refuse, when set, is a refusal the transport already knows of (a
	// forward-auth caller that is not trusted): the decision records it
	// with RefuseCheck and runs nothing else.
	Refuse      reason.Code
	RefuseCheck authgate.Check
}

// Engine decides requests. Its fields are set once at start-up and then
// only read, so one Engine serves any number of goroutines.
type Engine struct {
	Routes    *policy.Table
	Extractor *credential.Extractor
	Verifiers map[authgate.Method]authgate.Verifier
	// FingerprintKey keys the hash that identifies a presented secret in
	// the log without storing it.
	FingerprintKey []byte
	Now            func() time.Time
	Sink           authgate.EventSink // may be nil
	// Guard counts failures and refuses attempts over their limits before
	// any secret is verified; nil: no throttling.
	Guard *throttle.Guard

	macs sync.Pool // of HMACs keyed with FingerprintKey
}

// Decide takes the decision for req and hands it to the sink. The returned
// route is nil when no route matched.
func (e *Engine) Decide(ctx context.Context, req Request) (*authgate.Decision, *policy.Route) {
	d := e.begin(req)
	route := e.decide(ctx, req, d)
	e.finish(d, route)
	return d, route
}

// DecideCredential takes the decision for a credential the transport read
// itself — the sign-in portal's forms — on route, which it names: no route
// is matched and no header is parsed, but the failure counters, the
// verifier and the route's policy run as for any request, and the
// decision goes to the sink.
//
// v, when not nil, verifies instead of the method's own verifier: the
// enrollment form checks a code against a secret not yet stored.
func (e *Engine) DecideCredential(ctx context.Context, req Request, route *policy.Route, cred authgate.Credential, v authgate.Verifier) *authgate.Decision {
	d := e.begin(req)
	d.Route, d.Method = route.Name, cred.Method
	d.Checks = append(d.Checks, authgate.Check{Name: "credential", Result: authgate.Pass, Detail: cred.String()})
	e.verify(ctx, req, d, route, cred, v)
	e.finish(d, route)
	return d
}

// Refuse records a refusal the transport found on route before any
// credential was read (a portal form without its token, a return address
// that would be an open redirect): the check names the reason.
func (e *Engine) Refuse(req Request, route *policy.Route, c authgate.Check) *authgate.Decision {
	d := e.begin(req)
	d.Route = route.Name
	d.Deny(c.Reason, c)
	e.finish(d, route)
	return d
}

// begin starts the decision of req.
func (e *Engine) begin(req Request) *authgate.Decision {
	d := &authgate.Decision{
		RequestID: req.ID, Time: e.Now(), Host: req.Host, Path: req.Path,
		HTTPMethod: req.HTTPMethod, Source: req.Source, UserAgent: req.UserAgent,
		Checks: make([]authgate.Check, 0, 8),
	}
	d.Checks = append(d.Checks, req.Notes...)
	return d
}

// finish sets the decision's status and latency and hands it to the sink.
func (e *Engine) finish(d *authgate.Decision, route *policy.Route) {
	d.Status = 200
	if !d.Allowed {
		r := reason.Lookup(d.Reason)
		d.Status, d.Shown = r.Status, r.Public(route != nil && route.Verbose).Code
	}
	d.Latency = e.Now().Sub(d.Time)
	if e.Sink != nil {
		e.Sink.Record(d)
	}
}

func (e *Engine) decide(ctx context.Context, req Request, d *authgate.Decision) *policy.Route {
	if req.Refuse != "" {
		d.Deny(req.Refuse, req.RefuseCheck)
		return nil
	}
	if why := policy.NonCanonical(req.RawPath); why != "" {
		d.Deny(reason.PathNotCanonical, authgate.Checkf("path", authgate.Fail, "%s: %q", why, truncate(req.RawPath, 200)))
		return nil
	}
	route := e.Routes.Match(req.Host, req.Path)
	if route == nil {
		d.Deny(reason.RouteNotFound, authgate.Checkf("route", authgate.Fail, "no route for host %q path %q", req.Host, policy.CleanPath(req.Path)))
		return nil
	}
	d.Route = route.Name
	d.Checks = append(d.Checks, authgate.Check{Name: "route", Result: authgate.Pass, Detail: route.Matched()})

	if code, c := route.CheckNetwork(req.Source); code != "" {
		d.Deny(code, c)
		return route
	} else {
		d.Checks = append(d.Checks, c)
	}
	if tokenInQuery(req.RawQuery) {
		d.Deny(reason.TokenInQuery, authgate.Check{Name: "credential.query", Detail: "the URL has an access_token parameter"})
		return route
	}

	x := e.Extractor.Extract(req.Header, route.Accept)
	d.Method = x.Method
	if x.Reason != "" {
		d.Deny(x.Reason, x.Check)
		return route
	}
	d.Checks = append(d.Checks, x.Check)
	e.verify(ctx, req, d, route, x.Credential, nil)
	return route
}

// verify runs what follows a credential: the failure counters, the
// method's verifier (or v), and the route's policy.
func (e *Engine) verify(ctx context.Context, req Request, d *authgate.Decision, route *policy.Route, cred authgate.Credential, v authgate.Verifier) {
	d.Fingerprint = e.fingerprint(cred)
	attempt := throttle.Attempt{Method: cred.Method, User: cred.Username, Source: req.Source, Fingerprint: d.Fingerprint}
	if e.Guard != nil {
		out := e.Guard.Check(ctx, attempt, d.Time)
		defer out.Release() // after the attempt is counted below
		d.Checks = append(d.Checks, out.Checks...)
		if out.Reason != "" {
			d.Allowed, d.Reason, d.RetryAfter = false, out.Reason, out.RetryAfter
			d.Claimed = claimed(cred)
			return
		}
	}

	if v == nil {
		v = e.Verifiers[cred.Method]
	}
	if v == nil {
		d.Deny(reason.InternalError, authgate.Checkf("verify", authgate.Fail, "route %s accepts %s but no %s verifier is configured", route.Name, cred.Method, cred.Method))
		return
	}
	verdict, err := v.Verify(ctx, cred)
	d.Claimed, d.Token, d.ClockSkew = verdict.Claimed, verdict.Token, verdict.ClockSkew
	d.Checks = append(d.Checks, verdict.Checks...)
	if err != nil {
		code, retry := unavailable(err)
		d.RetryAfter = retry
		if verdict.Reason == code {
			// The verifier's own failing check already says why.
			d.Allowed, d.Reason = false, code
		} else {
			d.Deny(code, authgate.Checkf("verify", authgate.Fail, "%s verifier could not decide: %v", cred.Method, err))
		}
		return
	}
	if verdict.Reason != "" {
		// The verifier's failing check is already in the trace.
		d.Allowed, d.Reason = false, verdict.Reason
		if e.Guard != nil && countsAsFailure(verdict.Reason) {
			delay, checks := e.Guard.Failed(ctx, attempt, d.Time)
			d.Delay = delay
			d.Checks = append(d.Checks, checks...)
		}
		return
	}
	if e.Guard != nil {
		e.Guard.Succeeded(ctx, attempt)
	}

	p := verdict.Principal
	d.Principal = &p
	code, checks, missing := route.Authorize(p)
	d.Checks = append(d.Checks, checks...)
	if code != "" {
		d.Reason, d.MissingScopes = code, missing
		d.Checks[len(d.Checks)-1].Reason = code
		return
	}
	d.Allowed = true
}

// countsAsFailure reports whether a verifier's refusal counts against the
// attempt's failure counters: every refused credential except a correct
// password that has expired or must be changed, which its holder cannot
// fix by trying less.
func countsAsFailure(code reason.Code) bool {
	switch reason.Lookup(code).Category {
	case "session":
		// A browser with an ended session sends its cookie with every
		// asset of a page; counting those would throttle the address of
		// someone who merely left a tab open. Tokens are 256-bit random:
		// there is nothing to guess.
		return false
	}
	return code != reason.PasswordExpired && code != reason.PasswordChangeRequired
}

// claimed is who a credential refused before verification claims to be:
// the user name or the API key's id; nothing for a token, which is not
// decoded unverified.
func claimed(c authgate.Credential) string {
	switch c.Method {
	case authgate.MethodBasic:
		return authgate.LoggableName(c.Username)
	case authgate.MethodAPIKey:
		if id, _, ok := apikey.Parse(c.Secret); ok {
			return id
		}
	}
	return ""
}

// unavailable maps a verifier's error to its 503 reason.
func unavailable(err error) (reason.Code, time.Duration) {
	var u *authgate.UnavailableError
	if errors.As(err, &u) && reason.Known(u.Reason) {
		return u.Reason, u.RetryAfter
	}
	return reason.InternalError, 0
}

// fingerprint identifies a secret across requests without revealing it: a
// keyed hash, so a leaked log cannot be used to test guesses offline.
func (e *Engine) fingerprint(c authgate.Credential) string {
	m, _ := e.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, e.FingerprintKey)
	}
	defer func() { m.Reset(); e.macs.Put(m) }()
	m.Write([]byte(c.Method))
	m.Write([]byte{0})
	m.Write([]byte(c.Username))
	m.Write([]byte{0})
	m.Write([]byte(c.Secret))
	var sum [sha256.Size]byte
	return hex.EncodeToString(m.Sum(sum[:0])[:8])
}

func tokenInQuery(q string) bool {
	if !strings.Contains(q, "access_token") {
		return false
	}
	v, err := url.ParseQuery(q)
	return err == nil && v.Has("access_token")
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
