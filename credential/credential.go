// Package credential reads what a request presents — the Authorization
// header, an API-key header — and turns it into an authgate.Credential or
// the one reason it cannot. It verifies nothing: it only parses, and it
// tells apart the many ways a client gets the format wrong.
package credential

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Extractor parses credentials for one configuration.
type Extractor struct {
	// APIKeyHeader is the header API keys are read from (canonical form).
	APIKeyHeader string
	// MaxBytes bounds the length of a credential header.
	MaxBytes int
	// SessionCookie names the cookie that carries a portal session on
	// routes that accept session.
	SessionCookie string
}

// Result is what Extract found: a credential, or the reason there is none,
// and the trace steps that led there.
type Result struct {
	Credential authgate.Credential
	// Method is the credential's method, also on failure when the scheme
	// was recognised (a Bearer challenge then carries an error code).
	Method authgate.Method
	Reason reason.Code
	Check  authgate.Check
}

// misnamedHeaders are headers clients put credentials in by mistake.
var misnamedHeaders = []string{
	"Authorisation", "X-Authorization", "Api-Key", "X-Api-Token", "X-Auth-Token",
	"X-Access-Token", "Token", "Access-Token", "Bearer", "X-Token", "Apikey", "X-Apikey",
}

// Extract finds the one credential of a request among the methods accept
// allows. It never panics on any input.
func (e *Extractor) Extract(h http.Header, accept []authgate.Method) Result {
	authz := h.Values("Authorization")
	var keys []string
	if accepts(accept, authgate.MethodAPIKey) {
		keys = h.Values(e.APIKeyHeader)
	}
	switch {
	case len(authz) > 1:
		return fail(reason.CredentialsAmbiguous, "%d Authorization headers", len(authz))
	case len(keys) > 1:
		return fail(reason.CredentialsAmbiguous, "%d %s headers", len(keys), e.APIKeyHeader)
	}
	if len(authz) == 1 {
		r := e.authorization(authz[0], accept)
		if len(keys) == 0 {
			if r.Reason == reason.SchemeNotAccepted {
				// A browser may hold Basic credentials for the upstream;
				// its session cookie is what this route reads.
				if c, ok := e.session(h, accept); ok {
					return c
				}
			}
			return r
		}
		// A route that reads API keys may still see an Authorization header
		// meant for the upstream; it is ambiguous only when both are ours.
		if r.Reason != reason.SchemeNotAccepted {
			return fail(reason.CredentialsAmbiguous, "both Authorization and %s headers carry credentials", e.APIKeyHeader)
		}
	}
	if len(keys) == 1 {
		return e.apiKey(keys[0], e.APIKeyHeader)
	}
	if c, ok := e.session(h, accept); ok {
		return c
	}
	for _, name := range misnamedHeaders {
		if h.Get(name) != "" {
			return fail(reason.CredentialsWrongHeader, "no credential in the headers this route reads; found header %s", name)
		}
	}
	return fail(reason.CredentialsMissing, "no Authorization header%s", e.keyHeaderNote(accept))
}

func (e *Extractor) keyHeaderNote(accept []authgate.Method) string {
	var note string
	if accepts(accept, authgate.MethodAPIKey) {
		note = " and no " + e.APIKeyHeader + " header"
	}
	if accepts(accept, authgate.MethodSession) && e.SessionCookie != "" {
		note += " and no " + e.SessionCookie + " cookie"
	}
	return note
}

// session finds the session cookie on a route that accepts session. Only
// its form is checked here; the session verifier looks it up. Of several
// cookies of that name (set for different paths), the first is used, as
// browsers send the most specific first.
func (e *Extractor) session(h http.Header, accept []authgate.Method) (Result, bool) {
	if e.SessionCookie == "" || !accepts(accept, authgate.MethodSession) {
		return Result{}, false
	}
	var found []string
	for _, line := range h.Values("Cookie") {
		for part := range strings.SplitSeq(line, ";") {
			name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && name == e.SessionCookie {
				found = append(found, strings.Trim(value, `"`))
			}
		}
	}
	if len(found) == 0 {
		return Result{}, false
	}
	header := "Cookie " + e.SessionCookie
	if len(found[0]) > e.MaxBytes {
		r := fail(reason.CredentialTooLarge, "%s is %d bytes, limit %d", header, len(found[0]), e.MaxBytes)
		r.Method = authgate.MethodSession
		return r, true
	}
	r := ok(authgate.Credential{Method: authgate.MethodSession, Header: header, Secret: found[0]})
	r.Method = authgate.MethodSession
	if len(found) > 1 {
		r.Check.Detail += fmt.Sprintf("; %d cookies of that name, the first was used", len(found))
	}
	return r, true
}

// authorization parses one Authorization header value.
func (e *Extractor) authorization(v string, accept []authgate.Method) Result {
	if len(v) > e.MaxBytes {
		return fail(reason.CredentialTooLarge, "Authorization is %d bytes, limit %d", len(v), e.MaxBytes)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return fail(reason.CredentialEmpty, "Authorization header is empty")
	}
	if isQuote(v[0]) {
		return fail(reason.CredentialQuoted, "Authorization value starts with a quotation mark")
	}
	scheme, rest, hasRest := strings.Cut(v, " ")
	method, known := schemeMethod(scheme)
	if !hasRest {
		if known {
			return fail(reason.CredentialEmpty, "scheme %s without a credential", scheme)
		}
		return fail(reason.SchemeMissing, "Authorization holds a %d-byte value without a scheme", len(v))
	}
	if !known {
		return fail(reason.SchemeNotAccepted, "scheme %s is not one of %s", schemeName(scheme), methodList(accept))
	}
	if !accepts(accept, method) {
		r := fail(reason.SchemeNotAccepted, "scheme %s (%s) is not accepted here; route accepts %s", scheme, method, methodList(accept))
		r.Method = method
		return r
	}
	r := e.credential(strings.TrimLeft(rest, " "), method)
	r.Method = method
	return r
}

func (e *Extractor) credential(rest string, method authgate.Method) Result {
	switch method {
	case authgate.MethodBearer:
		if s, r, _ := strings.Cut(rest, " "); strings.EqualFold(s, "bearer") && r != "" {
			return fail(reason.BearerPrefixDoubled, "value starts with %q twice", "Bearer")
		}
		return e.opaque(rest, "Authorization", authgate.MethodBearer)
	case authgate.MethodAPIKey:
		return e.apiKey(rest, "Authorization")
	default:
		return basic(rest)
	}
}

func (e *Extractor) apiKey(v, header string) Result {
	if len(v) > e.MaxBytes {
		return fail(reason.CredentialTooLarge, "%s is %d bytes, limit %d", header, len(v), e.MaxBytes)
	}
	r := e.opaque(strings.TrimSpace(v), header, authgate.MethodAPIKey)
	r.Method = authgate.MethodAPIKey
	return r
}

// opaque checks a token or key for the slips that make it unusable.
func (e *Extractor) opaque(v, header string, m authgate.Method) Result {
	switch {
	case v == "":
		return fail(reason.CredentialEmpty, "%s: %s credential is empty", header, m)
	case isQuote(v[0]) || isQuote(v[len(v)-1]):
		return fail(reason.CredentialQuoted, "%s: %s credential is wrapped in quotes", header, m)
	case indexSpace(v) >= 0:
		return fail(reason.CredentialWhitespace, "%s: %s credential contains whitespace at byte %d", header, m, indexSpace(v))
	}
	return ok(authgate.Credential{Method: m, Header: header, Secret: v})
}

// basic decodes RFC 7617 credentials.
func basic(v string) Result {
	switch {
	case v == "":
		return fail(reason.CredentialEmpty, "Basic credential is empty")
	case isQuote(v[0]):
		return fail(reason.CredentialQuoted, "Basic credential is wrapped in quotes")
	case indexSpace(v) >= 0:
		return fail(reason.CredentialWhitespace, "Basic credential contains whitespace")
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		// Some clients drop the padding; accept that, nothing else.
		if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "=")); err != nil {
			return fail(reason.BasicEncodingInvalid, "Basic credential (%d bytes) is not standard base64", len(v))
		}
	}
	s := string(raw)
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fail(reason.BasicCharactersInvalid, "decoded Basic credential is not UTF-8 text without control characters")
	}
	user, pass, found := strings.Cut(s, ":")
	if !found {
		return fail(reason.BasicSeparatorMissing, "decoded Basic credential (%d bytes) has no colon", len(s))
	}
	return ok(authgate.Credential{Method: authgate.MethodBasic, Header: "Authorization", Username: user, Secret: pass})
}

// indexSpace is strings.IndexFunc(s, unicode.IsSpace), a byte at a time
// over ASCII: a bearer token or API key is hundreds of ASCII bytes, and
// decoding each as a rune for unicode.IsSpace cost about 1 µs a request.
func indexSpace(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			if j := strings.IndexFunc(s[i:], unicode.IsSpace); j >= 0 {
				return i + j
			}
			return -1
		}
		if asciiSpace[c] {
			return i
		}
	}
	return -1
}

// asciiSpace holds the ASCII bytes unicode.IsSpace reports as space.
var asciiSpace = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = unicode.IsSpace(rune(c))
	}
	return t
}()
