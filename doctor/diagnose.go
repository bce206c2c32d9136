package doctor

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/authgate/authgate/credential"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/verify/apikey"
)

// diagnosis collects causes while a check runs and ranks them at the end.
type diagnosis struct {
	report     *Report
	red        *redactor
	extracted  credential.Result
	sentKinds  map[string]bool
	queryToken string
	apiKey     string
	authScheme string // the Authorization header's first word, "" without one
	tokenSent  bool
	causes     map[reason.Code]*Cause
	order      []reason.Code
}

// add records one piece of evidence for code. Evidence for the same code
// from several places is merged; the cause keeps its best score.
func (d *diagnosis) add(code reason.Code, score int, source, evidence string) {
	if d.causes == nil {
		d.causes = map[reason.Code]*Cause{}
	}
	c := d.causes[code]
	if c == nil {
		c = &Cause{Code: code}
		d.causes[code] = c
		d.order = append(d.order, code)
	}
	c.score = max(c.score, score)
	if !contains(c.Sources, source) {
		c.Sources = append(c.Sources, source)
	}
	if evidence = d.red.clean(evidence); !contains(c.Evidence, evidence) {
		c.Evidence = append(c.Evidence, evidence)
	}
}

func (d *diagnosis) note(id string, sev Severity, text string) {
	d.report.Notes = append(d.report.Notes, Note{ID: id, Severity: sev, Text: d.red.clean(text)})
}

// finish ranks the causes: by score, then in the order they were found.
func (d *diagnosis) finish() {
	out := make([]Cause, 0, len(d.order))
	for _, code := range d.order {
		c := *d.causes[code]
		r := reason.Lookup(code)
		c.Title, c.Hint = r.Title, r.Hint
		switch {
		case c.score >= 90:
			c.Likelihood = Certain
		case c.score >= 60:
			c.Likelihood = Likely
		default:
			c.Likelihood = Possible
		}
		if contains(c.Sources, FromServer) && contains(c.Sources, FromDoctor) {
			c.Sources = []string{FromServer, FromDoctor}
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	d.report.Causes = out
}

// bearerCandidate finds the token a request carries, repairing the
// format slips (doubled prefix, quotes, whitespace) that have their own
// causes, so the token itself can still be read.
func bearerCandidate(h http.Header) string {
	v := strings.TrimSpace(h.Get("Authorization"))
	if v == "" {
		return ""
	}
	scheme, rest, ok := strings.Cut(v, " ")
	switch {
	case !ok:
		if strings.Count(v, ".") != 2 {
			return ""
		}
		rest = v // a token sent without a scheme
	case !strings.EqualFold(scheme, "Bearer"):
		return ""
	}
	rest = strings.TrimSpace(rest)
	for {
		s, r, ok := strings.Cut(rest, " ")
		if !ok || !strings.EqualFold(s, "Bearer") {
			break
		}
		rest = strings.TrimSpace(r)
	}
	rest = strings.Trim(rest, `"'`)
	return strings.Join(strings.Fields(rest), "")
}

// token inspects the request's bearer token, and checks it against the
// issuer's keys when asked to.
func (d *diagnosis) token(ctx context.Context, client *http.Client, o Options, h http.Header, c clocks) {
	raw := bearerCandidate(h)
	if raw == "" {
		return
	}
	d.tokenSent = true
	d.red.add(raw)
	ti, notes := inspectToken(raw, c, o.Audience)
	for _, n := range notes {
		d.note(n.ID, n.Severity, n.Text)
	}
	if o.Issuer != "" && ti.Issuer != "" && strings.TrimSuffix(ti.Issuer, "/") != strings.TrimSuffix(o.Issuer, "/") {
		ti.codes = append(ti.codes, tokenFinding{reason.IssuerUntrusted, 85, fmt.Sprintf("The token's issuer is %q, not %q: it comes from another issuer or environment.", ti.Issuer, o.Issuer)})
	}
	if o.Issuer != "" || o.JWKS != "" {
		kctx, cancel := context.WithTimeout(ctx, o.Timeout)
		set, where, err := loadKeys(kctx, client, keySource{issuer: o.Issuer, jwks: o.JWKS})
		cancel()
		if err != nil {
			d.note("keys_unavailable", Warning, "Could not load the issuer's keys from "+where+": "+err.Error()+"; the signature was not checked.")
		} else {
			ti.Signature = checkSignature(raw, ti, set, where)
			if o.Insecure && strings.HasPrefix(where, "https://") {
				// -k applies to the key fetch too: whoever sat between us
				// and the issuer could have served its own keys.
				d.note("keys_unverified_tls", Warning, "The keys came from "+where+" without certificate verification (-k): a verified signature proves only that the token matches the keys that were served.")
			}
		}
	}
	d.report.Token = ti
}

// tokenCauses adds what the token itself shows.
func (d *diagnosis) tokenCauses() {
	if d.report.Token == nil {
		return
	}
	for _, f := range d.report.Token.codes {
		d.add(f.code, f.score, FromDoctor, f.evidence)
	}
}

// response diagnoses the final answer.
func (d *diagnosis) response(o Options) {
	r, ri := d.report, d.report.Response
	d.pathNotes(ri)
	if r.Outcome != Failed {
		return
	}
	st := ri.Status

	// What the server itself says comes first.
	if a := ri.Authgate; a != nil {
		ev := "The server is authgate and reports " + string(a.Reason)
		if a.RequestID != "" {
			ev += " for request " + a.RequestID
		}
		if ri.Problem != nil && ri.Problem.Explanation != "" {
			ev += ": " + ri.Problem.Explanation
		}
		d.add(a.Reason, 100, FromServer, ev+".")
		if a.Masked {
			d.note("authgate_masked", Info, "This route hides the precise reason (detail: minimal), so the server names only "+string(a.Reason)+". Give the admin the request id: they see the exact cause with `authgate explain`.")
		}
	}
	var bearer *Challenge
	for i := range ri.Challenges {
		if ri.Challenges[i].Is("Bearer") {
			bearer = &ri.Challenges[i]
			break
		}
	}
	if bearer != nil {
		desc := bearer.Param("error_description")
		switch e := bearer.Param("error"); e {
		case reason.InvalidToken:
			if code := codeFromDescription(desc); code != "" {
				d.add(code, 70, FromServer, fmt.Sprintf("The Bearer challenge says error=%q, error_description=%q.", e, desc))
			}
		case reason.InsufficientScope:
			ev := "The Bearer challenge says error=\"insufficient_scope\""
			if s := bearer.Param("scope"); s != "" {
				ev += "; the route needs scope " + fmt.Sprintf("%q", s)
				if t := r.Token; t != nil && len(t.Scopes) > 0 {
					ev += ", the token has " + fmt.Sprintf("%q", strings.Join(t.Scopes, " "))
				}
			}
			d.add(reason.InsufficientScopeCode, 90, FromServer, ev+".")
		}
		if bearer.Param("error") != "" && len(r.Request.Credentials) == 0 {
			d.note("challenge_error_without_token", Info, "The Bearer challenge carries an error code although no token was sent; RFC 6750 §3 says it should not. Harmless, but worth telling the server's owner.")
		}
	}
	if ri.Problem != nil && ri.Problem.Scope != "" && ri.Authgate == nil {
		d.add(reason.InsufficientScopeCode, 80, FromServer, "The problem document names the scope the request lacks: "+fmt.Sprintf("%q", ri.Problem.Scope)+".")
	}

	// doctor's own reading of the request.
	if d.queryToken != "" {
		score := 40
		if d.queryToken == "access_token" {
			score = 93
		}
		d.add(reason.TokenInQuery, score, FromDoctor, "The URL carries a credential in its query (?"+d.queryToken+"=…), where proxies and logs record it.")
	}
	d.formatCauses(ri, st)

	switch st {
	case 401:
		if len(ri.Challenges) == 0 {
			d.note("no_challenge", Fault, "The 401 carries no WWW-Authenticate challenge, which RFC 9110 §15.5.2 requires: a client cannot tell which scheme to use. This is a bug worth reporting to the server's owner.")
		}
		d.refusedCredentials(ri)
		for _, c := range ri.Challenges {
			if c.Is("AuthgateSession") {
				d.note("browser_session", Info, "This route takes browser sessions from authgate's sign-in page ("+c.Param("sign_in")+"): open the URL in a browser to sign in there. Scripts need a credential from another challenge, or a route of their own that accepts an API key or a token.")
			}
		}
	case 400:
		d.tokenCauses()
	case 403:
		// authgate names the one reason; guesses would only add noise.
		if ri.Authgate == nil {
			d.add(reason.InsufficientScopeCode, 50, FromDoctor, "A 403 means the server recognised the request and refuses it: most often the credential lacks a scope or role the resource needs.")
			d.add(reason.NetworkNotAllowed, 35, FromDoctor, "A 403 can also mean your network address is not allowed (IP allow-list, VPN).")
		}
	case 407:
		ev := "A proxy asks for its own credentials"
		if len(ri.ProxyChallenges) > 0 {
			ev += " (Proxy-Authenticate: " + ri.ProxyChallenges[0].String() + ")"
		}
		d.add(reason.CredentialsMissing, 85, FromDoctor, ev+": put them in the proxy URL (HTTPS_PROXY=http://user:password@proxy:port) or ask the proxy's admin; the server has not seen the request.")
	case 429:
		d.note("throttled", Fault, "The server throttles this client (429)"+retryText(ri)+". Repeated failed attempts often cause it; fix the credential before retrying.")
	case 431:
		d.add(reason.CredentialTooLarge, 90, FromDoctor, "The server answered 431: a header, usually the token, is too large for it.")
	case 404:
		if ri.Authgate == nil {
			d.note("not_found", Info, "404: check the URL. Some APIs answer 404 instead of 401 or 403 to hide what exists.")
		}
	default:
		if st >= 500 && ri.Authgate == nil {
			d.note("server_error", Fault, fmt.Sprintf("The server failed (%d)%s: this is not about your credentials.", st, retryText(ri)))
		}
	}
}

// formatCauses reports what credential.Extractor, the gateway's own
// parser, finds wrong with the format of what was sent.
func (d *diagnosis) formatCauses(ri *ResponseInfo, st int) {
	ex := d.extracted
	detail := ex.Check.Detail
	hops := d.report.Hops
	if last := hops[len(hops)-1]; len(hops) > 1 && !last.Credentials && hops[0].Credentials && (st == 401 || st == 403) {
		for _, h := range hops {
			if len(h.Dropped) > 0 {
				d.add(reason.CredentialsMissing, 92, FromDoctor, "The credentials were dropped on the redirect to "+h.URL+" ("+strings.Join(h.Dropped, ", ")+"), so the server that answered got none: the classic stripped Authorization header. Send the request to the final URL directly.")
				return
			}
		}
	}
	switch ex.Reason {
	case "":
	case reason.CredentialsMissing:
		if !d.sentKinds["cookie"] && st == 401 {
			d.add(reason.CredentialsMissing, 90, FromDoctor, "The request carried no credentials.")
		}
	case reason.SchemeNotAccepted:
		// Only a scheme the gateway does not know: it may still be the one
		// this server asks for.
		scheme := d.authScheme
		if len(ri.Challenges) > 0 && !challenged(ri.Challenges, scheme) {
			d.add(reason.SchemeNotAccepted, 88, FromDoctor, "The request uses scheme "+scheme+", but the server challenges only "+schemes(ri.Challenges)+".")
		}
	case reason.SchemeMissing:
		d.add(ex.Reason, 85, FromDoctor, "The Authorization header holds a value with no scheme before it ("+detail+").")
	default:
		d.add(ex.Reason, 95, FromDoctor, "The credential's format is wrong: "+detail+".")
	}
	// A known scheme the server does not ask for.
	if scheme := d.authScheme; scheme != "" && len(ri.Challenges) > 0 && ex.Reason != reason.SchemeMissing && ex.Reason != reason.SchemeNotAccepted {
		if !challenged(ri.Challenges, scheme) && (st == 401 || st == 400) {
			d.add(reason.SchemeNotAccepted, 88, FromDoctor, "The request sent "+scheme+" credentials, but the server challenges only "+schemes(ri.Challenges)+".")
		}
	}
}

// refusedCredentials explains a 401 for credentials that are well formed.
func (d *diagnosis) refusedCredentials(ri *ResponseInfo) {
	if d.extracted.Reason != "" && d.extracted.Reason != reason.CredentialsAmbiguous {
		d.tokenCauses()
		return
	}
	switch {
	case d.sentKinds["basic"] && (len(ri.Challenges) == 0 || challenged(ri.Challenges, "Basic")):
		d.add(reason.InvalidCredentials, 70, FromDoctor, "The server refused the user name and password. If they are right, an app or password store may hold an old password, or it was typed with Caps Lock or a stray space.")
	case d.sentKinds["api_key"]:
		d.add(reason.InvalidCredentials, 60, FromDoctor, "The server refused the API key: it is unknown, revoked, rotated out or expired, or belongs to another environment.")
		if ri.Authgate != nil && d.apiKey != "" && apikey.Problem(d.apiKey) != "" {
			d.add(reason.APIKeyMalformed, 80, FromDoctor, "The key does not have the form of an authgate key (agk_<id>_<secret>): "+apikey.Problem(d.apiKey)+".")
		}
	}
	if d.tokenSent {
		d.tokenCauses()
		t := d.report.Token
		if len(t.codes) == 0 && t.Format == "jwt" && t.Signature == nil {
			d.add(reason.KeyUnknown, 30, FromDoctor, "The server refuses the token, and nothing in it looks wrong from here: check its signing key with --issuer or --jwks, and its audience with --audience.")
			d.add(reason.AudienceMismatch, 25, FromDoctor, "The token's audience may not be the one this API expects (check with --audience).")
		}
	}
}

// pathNotes records what the path shows: proxies, TLS, clocks.
func (d *diagnosis) pathNotes(ri *ResponseInfo) {
	r := d.report
	if p := r.Request.Proxy; p != "" {
		d.note("proxy", Info, "The request went through the proxy "+p+" (from HTTP_PROXY, HTTPS_PROXY or ALL_PROXY); a 401 or 407 may come from it rather than from the server.")
	}
	if len(ri.Via) > 0 {
		d.note("via", Info, "The answer passed through "+strings.Join(ri.Via, ", ")+" (Via header).")
	}
	if ri.ChallengeError != "" {
		d.note("challenge_malformed", Fault, "A challenge header is malformed ("+ri.ChallengeError+"); clients may fail to read it.")
	}
	if t := ri.TLS; t != nil {
		if t.Version == "TLS 1.0" || t.Version == "TLS 1.1" {
			d.note("tls_old", Fault, t.Version+" is obsolete (RFC 8996); many clients refuse it.")
		}
		if t.Unverified {
			msg := "--insecure: the server's certificate was not verified."
			if t.VerifyErr != "" {
				msg += " It would fail: " + t.VerifyErr + "."
			}
			d.note("tls_unverified", Warning, msg)
		}
		if left := t.NotAfter.Sub(r.CheckedAt); !t.NotAfter.IsZero() && left < 14*24*time.Hour {
			d.note("tls_cert_expiring", Warning, "The server's certificate expires "+relative(t.NotAfter, r.CheckedAt)+".")
		}
		if t.CertAsked && !t.CertGiven {
			sev := Info
			if ri.Status == 401 || ri.Status == 403 {
				sev = Fault
			}
			d.note("client_certificate_requested", sev, "The server asked for a client certificate and none was given; if it requires one, pass --cert and --key.")
		}
	}
	if c := r.Clock; c != nil && !c.Server.IsZero() {
		skew := time.Duration(c.SkewSeconds) * time.Second
		if skew.Abs() >= 5*time.Second {
			sev := Info
			if skew.Abs() > Leeway {
				sev = Warning
			}
			dir := "ahead of"
			if skew < 0 {
				dir = "behind"
			}
			d.note("clock_skew", sev, "The server's clock ("+c.ServerSource+") is "+human(skew)+" "+dir+" yours; token times are judged by the server's.")
		}
	}
}

func challenged(cs []Challenge, scheme string) bool {
	for _, c := range cs {
		if c.Is(scheme) || c.Is("ApiKey") && strings.EqualFold(scheme, "Api-Key") {
			return true
		}
	}
	return false
}

func schemes(cs []Challenge) string {
	var s []string
	for _, c := range cs {
		if !contains(s, c.Scheme) {
			s = append(s, c.Scheme)
		}
	}
	return strings.Join(s, ", ")
}

func retryText(ri *ResponseInfo) string {
	if ri.RetryAfter == "" {
		return ""
	}
	return "; retry after " + ri.RetryAfter + " s (Retry-After)"
}

// codeFromDescription maps an RFC 6750 error_description to a reason code:
// authgate's own titles exactly, other servers' wording by keywords.
func codeFromDescription(desc string) reason.Code {
	if desc == "" {
		return ""
	}
	for _, r := range reason.All() {
		if strings.EqualFold(desc, r.Title) {
			return r.Code
		}
	}
	d := strings.ToLower(desc)
	for _, k := range []struct {
		words []string
		code  reason.Code
	}{
		{[]string{"expired", "exp claim", "is expired"}, reason.TokenExpired},
		{[]string{"not yet valid", "not before", "nbf", "before the"}, reason.TokenNotYetValid},
		{[]string{"issued in the future", "used before issued", "iat"}, reason.TokenIssuedInFuture},
		{[]string{"audience", "aud "}, reason.AudienceMismatch},
		{[]string{"signing key", "kid", "key id", "no matching key", "unable to find"}, reason.KeyUnknown},
		{[]string{"signature"}, reason.TokenSignatureInvalid},
		{[]string{"algorithm", "alg "}, reason.TokenAlgorithm},
		{[]string{"issuer not allowed"}, reason.IssuerNotAllowed},
		{[]string{"issuer", "iss "}, reason.IssuerUntrusted},
		{[]string{"malformed", "invalid format", "could not be decoded", "segments"}, reason.TokenMalformed},
		{[]string{"missing claim", "claim missing", "required claim"}, reason.TokenClaimMissing},
	} {
		for _, w := range k.words {
			if strings.Contains(d, w) {
				return k.code
			}
		}
	}
	return ""
}
