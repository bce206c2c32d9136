package doctor

import (
	"strconv"
	"time"

	"github.com/authgate/authgate/reason"
)

// Outcome is the overall result of a check.
type Outcome string

const (
	// Succeeded: the server answered with a 2xx or 3xx status (or, for a
	// token lint, nothing authgate would reject was found).
	Succeeded Outcome = "succeeded"
	// Failed: the server refused, or the token has a problem; Causes says why.
	Failed Outcome = "failed"
	// Unreachable: no HTTP answer at all; Network says why.
	Unreachable Outcome = "unreachable"
)

// Report is the whole diagnosis of one request or one token, as plain
// values: renderers turn it into text or JSON.
type Report struct {
	// Kind is "request" for a request check, "token" for an offline lint.
	Kind      string    `json:"kind"`
	CheckedAt time.Time `json:"checked_at"`
	Outcome   Outcome   `json:"outcome"`

	Request  *RequestInfo  `json:"request,omitempty"`
	Hops     []Hop         `json:"hops,omitempty"`
	Response *ResponseInfo `json:"response,omitempty"`
	Network  *NetworkError `json:"network_error,omitempty"`
	Token    *TokenInfo    `json:"token,omitempty"`
	Clock    *ClockInfo    `json:"clock,omitempty"`

	// Causes are ranked, most likely first; empty when nothing failed.
	Causes []Cause `json:"causes"`
	// Notes are other observations: server bugs, red flags, context.
	Notes []Note `json:"notes,omitempty"`
	// ExplainCommand is the command an authgate admin runs to see the
	// refusal's full decision trace; set when the server is authgate.
	ExplainCommand string `json:"explain_command,omitempty"`
}

// TopCause returns the most likely cause, or a zero Cause when there is none.
func (r *Report) TopCause() Cause {
	if len(r.Causes) == 0 {
		return Cause{}
	}
	return r.Causes[0]
}

// Likelihood says how sure a cause is.
type Likelihood string

const (
	Certain  Likelihood = "certain"
	Likely   Likelihood = "likely"
	Possible Likelihood = "possible"
)

// Where a cause was found.
const (
	FromServer = "server" // the server said so (authgate reason, RFC 6750 error)
	FromDoctor = "doctor" // doctor's own analysis of the request, token or path
)

// Cause is one likely reason for the failure, as a code of authgate's
// catalogue with its remediation hint.
type Cause struct {
	Code       reason.Code `json:"code"`
	Title      string      `json:"title"`
	Likelihood Likelihood  `json:"likelihood"`
	// Sources lists who found it: FromServer, FromDoctor, or both.
	Sources []string `json:"sources"`
	// Evidence says what was seen, one sentence each.
	Evidence []string `json:"evidence"`
	Hint     string   `json:"hint"`
	score    int
}

// FoundBy reports whether source is among the cause's sources.
func (c Cause) FoundBy(source string) bool {
	for _, s := range c.Sources {
		if s == source {
			return true
		}
	}
	return false
}

// Severity of a note.
type Severity string

const (
	Info    Severity = "info"
	Warning Severity = "warning"
	Fault   Severity = "problem"
)

// Note is an observation that is not itself a cause: a server that breaks
// a standard, a proxy on the path, a red flag in a token.
type Note struct {
	// ID is stable, for scripts: "no_challenge", "redirect_other_host", ...
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Text     string   `json:"text"`
}

// RequestInfo is what was sent, with every secret described, never shown.
type RequestInfo struct {
	Method      string           `json:"method"`
	URL         string           `json:"url"`
	Host        string           `json:"host,omitempty"` // a Host header that overrides the URL's
	Credentials []CredentialInfo `json:"credentials"`
	Proxy       string           `json:"proxy,omitempty"`
	ClientCert  string           `json:"client_certificate,omitempty"`
}

// CredentialInfo describes one credential the request carried.
type CredentialInfo struct {
	Header string `json:"header"`
	// Kind is basic, bearer, api_key, or the scheme's name for others.
	Kind   string `json:"kind"`
	Scheme string `json:"scheme,omitempty"`
	User   string `json:"user,omitempty"`
	Secret Secret `json:"secret"`
}

// Hop is one request and its answer on the way to the final response.
type Hop struct {
	Method   string `json:"method"`
	URL      string `json:"url"`
	Status   int    `json:"status"`
	Location string `json:"location,omitempty"`
	// Credentials reports whether this hop carried the credentials.
	Credentials bool `json:"credentials_sent"`
	// Dropped lists the credential headers not sent on this hop because a
	// redirect led to another host, as clients do.
	Dropped []string `json:"dropped,omitempty"`
}

// ResponseInfo is the final answer.
type ResponseInfo struct {
	Status          int         `json:"status"`
	StatusText      string      `json:"status_text"`
	Meaning         string      `json:"meaning,omitempty"`
	Challenges      []Challenge `json:"challenges,omitempty"`
	ProxyChallenges []Challenge `json:"proxy_challenges,omitempty"`
	ChallengeError  string      `json:"challenge_error,omitempty"`
	RetryAfter      string      `json:"retry_after,omitempty"`
	Date            string      `json:"date,omitempty"`
	Server          string      `json:"server,omitempty"`
	Via             []string    `json:"via,omitempty"`
	ContentType     string      `json:"content_type,omitempty"`
	RequestID       string      `json:"request_id,omitempty"`
	Problem         *Problem    `json:"problem,omitempty"`
	// Authgate is set when the answer comes from authgate.
	Authgate *AuthgateInfo `json:"authgate,omitempty"`
	TLS      *TLSInfo      `json:"tls,omitempty"`
}

// Problem is an RFC 9457 problem document, with authgate's extensions.
type Problem struct {
	Type        string `json:"type,omitempty"`
	Title       string `json:"title,omitempty"`
	Status      int    `json:"status,omitempty"`
	Detail      string `json:"detail,omitempty"`
	Instance    string `json:"instance,omitempty"`
	Code        string `json:"code,omitempty"`
	RequestID   string `json:"request_id,omitempty"`
	Hint        string `json:"hint,omitempty"`
	Explanation string `json:"explanation,omitempty"`
	RetryAfter  int    `json:"retry_after,omitempty"`
	Scope       string `json:"scope,omitempty"`
	ServerTime  string `json:"server_time,omitempty"`
}

// AuthgateInfo is what an authgate server reported.
type AuthgateInfo struct {
	Reason    reason.Code `json:"reason"`
	RequestID string      `json:"request_id,omitempty"`
	// Masked reports whether the route hides the precise reason (detail
	// "minimal"): the admin sees it with `authgate explain`.
	Masked bool `json:"masked,omitempty"`
}

// TLSInfo describes the connection's TLS.
type TLSInfo struct {
	Version    string    `json:"version"`
	Cipher     string    `json:"cipher,omitempty"`
	Subject    string    `json:"certificate_subject,omitempty"`
	Issuer     string    `json:"certificate_issuer,omitempty"`
	NotAfter   time.Time `json:"certificate_not_after,omitzero"`
	VerifyErr  string    `json:"verify_error,omitempty"`
	CertAsked  bool      `json:"client_certificate_requested,omitempty"`
	CertGiven  bool      `json:"client_certificate_sent,omitempty"`
	Unverified bool      `json:"unverified,omitempty"`
}

// NetworkError explains why no HTTP answer came.
type NetworkError struct {
	// Kind is dns, refused, tls, timeout, proxy or other.
	Kind        string `json:"kind"`
	Error       string `json:"error"`
	Explanation string `json:"explanation"`
}

// ClockInfo compares the local clock with the server's.
type ClockInfo struct {
	Local time.Time `json:"local"`
	// Server is the server's time: authgate's server_time when given,
	// else the Date header. Zero when the server sent neither.
	Server       time.Time `json:"server,omitzero"`
	ServerSource string    `json:"server_source,omitempty"`
	// SkewSeconds is server minus local: positive when the local clock is
	// behind. Date has one-second resolution, so ±2 s is noise.
	SkewSeconds int64 `json:"skew_seconds"`
}

// TokenInfo is a token decoded without trusting it.
type TokenInfo struct {
	// Format is jwt, jwe or opaque.
	Format    string     `json:"format"`
	Problem   string     `json:"problem,omitempty"`
	Secret    Secret     `json:"secret"`
	Algorithm string     `json:"alg,omitempty"`
	KeyID     string     `json:"kid,omitempty"`
	Type      string     `json:"typ,omitempty"`
	Issuer    string     `json:"iss,omitempty"`
	Subject   string     `json:"sub,omitempty"`
	Audience  []string   `json:"aud,omitempty"`
	Scopes    []string   `json:"scopes,omitempty"`
	Expires   *TokenTime `json:"exp,omitempty"`
	NotBefore *TokenTime `json:"nbf,omitempty"`
	IssuedAt  *TokenTime `json:"iat,omitempty"`
	// Lifetime is exp − iat (or exp − nbf), in seconds, when both are set.
	LifetimeSeconds int64 `json:"lifetime_seconds,omitempty"`
	// Signature is the result of checking against --issuer/--jwks keys.
	Signature *SignatureCheck `json:"signature,omitempty"`
	codes     []tokenFinding
}

// TokenTime is one of the token's times, relative to both clocks.
type TokenTime struct {
	At time.Time `json:"at"`
	// Local and Server are "5 min ago", "in 3 min" ...; Server is empty
	// when the server's clock is unknown.
	Local  string `json:"relative_to_local"`
	Server string `json:"relative_to_server,omitempty"`
}

// SignatureCheck is the result of checking a token against a key set.
type SignatureCheck struct {
	KeySet string `json:"key_set"`
	// Result is verified, key_unknown, invalid, or unchecked.
	Result string `json:"result"`
	Detail string `json:"detail"`
}

func itoa(n int) string { return strconv.Itoa(n) }
