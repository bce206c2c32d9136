package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/jsonquote"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/reason"
)

// problem is an RFC 9457 problem document with authgate's extensions.
type problem struct {
	Type        string `json:"type"`
	Title       string `json:"title"`
	Status      int    `json:"status"`
	Detail      string `json:"detail"`
	Instance    string `json:"instance"`
	Code        string `json:"code"`
	RequestID   string `json:"request_id"`
	Hint        string `json:"hint,omitempty"`
	Explanation string `json:"explanation,omitempty"`
	RetryAfter  int    `json:"retry_after,omitempty"`
	Scope       string `json:"scope,omitempty"`
	ServerTime  string `json:"server_time,omitempty"`
}

// refuse writes the public answer for a refused decision: the reason the
// route's detail level allows the caller to see.
func (g *Gateway) refuse(w http.ResponseWriter, r *http.Request, d *authgate.Decision, route *policy.Route) {
	if d.Delay > 0 {
		// Repeated failures are answered slowly; the wait holds only this
		// request's goroutine, and ends early if the client leaves.
		t := time.NewTimer(d.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	verbose := route != nil && route.Verbose
	pub := reason.Lookup(d.Reason).Public(verbose)
	explanation := ""
	if verbose && pub.Code == d.Reason {
		explanation = failingDetail(d)
	}
	if route != nil {
		// One field with every challenge (RFC 9110 §11.6.1 allows a list):
		// nginx's auth_request passes on only the first of several fields.
		if c := g.challengeHeader(d, route, pub); c != "" {
			w.Header().Set("Www-Authenticate", c)
		}
	}
	g.writeRefusal(w, r, d, route, pub, explanation)
}

// writeRefusal renders pub as a problem document, or as an HTML page for a
// browser.
func (g *Gateway) writeRefusal(w http.ResponseWriter, r *http.Request, d *authgate.Decision, route *policy.Route, pub reason.Reason, explanation string) {
	verbose := route != nil && route.Verbose
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Authgate-Reason", string(pub.Code))
	p := problem{
		Type: g.cfg.TypeBase + string(pub.Code), Title: pub.Title, Status: pub.Status,
		Detail: pub.Message, Instance: "urn:authgate:request:" + d.RequestID,
		Code: string(pub.Code), RequestID: d.RequestID, Explanation: explanation,
	}
	if verbose {
		p.Hint = pub.Hint
	}
	if pub.Retry {
		secs := int((d.RetryAfter + time.Second - 1) / time.Second)
		p.RetryAfter = max(secs, 1)
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	if pub.Code == reason.InsufficientScopeCode && route != nil {
		p.Scope = strings.Join(route.Scopes, " ")
	}
	if timeReason(pub.Code) {
		p.ServerTime = g.cfg.Now().UTC().Format(time.RFC3339)
	}
	if wantsHTML(r) {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(p.Status)
		refusalPage.Execute(w, p)
		return
	}
	body := p.appendJSON(make([]byte, 0, 512))
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(p.Status)
	w.Write(body)
}

// appendJSON appends p and a newline, byte for byte as json.Marshal
// writes it (TestProblemJSONMatchesEncodingJSON), without its reflection:
// every refusal writes one.
func (p *problem) appendJSON(b []byte) []byte {
	field := func(key, v string, omitEmpty bool) {
		if v == "" && omitEmpty {
			return
		}
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		b = jsonquote.Append(b, v, jsonquote.Marshal)
	}
	b = append(b, `{"type":`...)
	b = jsonquote.Append(b, p.Type, jsonquote.Marshal)
	field("title", p.Title, false)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(p.Status), 10)
	field("detail", p.Detail, false)
	field("instance", p.Instance, false)
	field("code", p.Code, false)
	field("request_id", p.RequestID, false)
	field("hint", p.Hint, true)
	field("explanation", p.Explanation, true)
	if p.RetryAfter != 0 {
		b = append(b, `,"retry_after":`...)
		b = strconv.AppendInt(b, int64(p.RetryAfter), 10)
	}
	field("scope", p.Scope, true)
	field("server_time", p.ServerTime, true)
	return append(b, '}', '\n')
}

// failingDetail is the detail of the check that refused, for verbose routes.
func failingDetail(d *authgate.Decision) string {
	for i := len(d.Checks) - 1; i >= 0; i-- {
		if d.Checks[i].Result == authgate.Fail {
			return d.Checks[i].Detail
		}
	}
	return ""
}

func timeReason(c reason.Code) bool {
	return c == reason.TokenExpired || c == reason.TokenNotYetValid || c == reason.TokenIssuedInFuture
}

// wantsHTML reports whether the client is a browser asking for a page.
func wantsHTML(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "text/html") && !strings.Contains(a, "application/json")
}

// challengeKey is what a refusal's challenges depend on: the route, the
// public reason, and whether a bearer token was presented.
type challengeKey struct {
	route  *policy.Route
	code   reason.Code
	bearer bool
}

// challengeHeader is the WWW-Authenticate value of a refusal: challenges
// joined into one field, or "" for none. Each value is built once per
// route, reason and method and then remembered: there are at most a few
// thousand, and building them was a microsecond of every refusal.
func (g *Gateway) challengeHeader(d *authgate.Decision, route *policy.Route, pub reason.Reason) string {
	k := challengeKey{route, pub.Code, d.Method == authgate.MethodBearer}
	if v, ok := g.challengeCache.Load(k); ok {
		return v.(string)
	}
	v := strings.Join(g.challenges(d, route, pub), ", ")
	g.challengeCache.Store(k, v)
	return v
}

// challenges lists one WWW-Authenticate challenge per scheme the route
// accepts (RFC 9110 §11.6.1), for 401 and 400-class refusals, and the
// Bearer insufficient_scope challenge for 403 (RFC 6750 §3).
func (g *Gateway) challenges(d *authgate.Decision, route *policy.Route, pub reason.Reason) []string {
	scopeDenied := pub.BearerError == reason.InsufficientScope
	if !(pub.Status == 401 || pub.Status == 400 || pub.Status == 431 || scopeDenied && d.Method == authgate.MethodBearer) {
		return nil
	}
	realm := quote(first(route.Realm, g.cfg.Realm, "authgate"))
	var out []string
	for _, m := range authgate.Methods {
		if !route.Accepts(m) || scopeDenied && m != authgate.MethodBearer {
			continue
		}
		switch m {
		case authgate.MethodBasic:
			out = append(out, "Basic realm="+realm+`, charset="UTF-8"`)
		case authgate.MethodAPIKey:
			out = append(out, "ApiKey realm="+realm+", header="+quote(g.cfg.APIKeyHeader))
		case authgate.MethodSession:
			// No registered scheme fits a cookie session; this one names
			// where a browser signs in, so the 401 still says how.
			out = append(out, "AuthgateSession realm="+realm+", sign_in="+quote(g.cfg.Prefix+"sign-in"))
		case authgate.MethodBearer:
			c := "Bearer realm=" + realm
			// RFC 6750 §3: no error code when no token was presented.
			if d.Method == authgate.MethodBearer && pub.BearerError != "" {
				c += `, error="` + pub.BearerError + `", error_description=` + quote(pub.Title)
				if scopeDenied {
					c += ", scope=" + quote(strings.Join(route.Scopes, " "))
				}
			}
			out = append(out, c)
		}
	}
	return out
}

// quote makes an RFC 9110 quoted-string.
func quote(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return `"` + s + `"`
	}
	return strconv.Quote(s)
}
