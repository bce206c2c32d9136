// Package reason is authgate's closed catalogue of decision reasons. Every
// refusal the gateway gives names exactly one code from here, with its HTTP
// status, a public message that is safe to show anyone, a remediation hint,
// and how much of it a public response may reveal.
//
// Codes are a stable contract: once shipped, a code is never renamed or
// reused. New codes are added; old ones are deprecated, not removed.
package reason

import "sort"

// Code is a stable, machine-readable reason code such as "token_expired".
type Code string

// Visibility says how much of a reason a public response may reveal.
type Visibility string

const (
	// Public reasons are shown as they are: they reveal nothing about which
	// accounts or keys exist.
	Public Visibility = "public"
	// Verbose reasons are shown only on routes with detail "verbose"; on
	// "minimal" routes they are masked, so they never reveal whether a user
	// or key exists.
	Verbose Visibility = "verbose"
	// Private reasons are never shown; they would leak part of a secret.
	// Routes with detail "verbose" show their VerboseMask instead.
	Private Visibility = "private"
)

// Bearer error codes of RFC 6750 §3.1.
const (
	InvalidRequest    = "invalid_request"
	InvalidToken      = "invalid_token"
	InsufficientScope = "insufficient_scope"
)

// Reason is one catalogue entry.
type Reason struct {
	Code     Code   `json:"code"`
	Status   int    `json:"status"`
	Category string `json:"category"`
	// Title is a short stable summary, used as the problem document's title.
	Title string `json:"title"`
	// Message is safe for anyone to read and says what happened.
	Message string `json:"message"`
	// Hint says how to fix it; public responses show it on verbose routes.
	Hint       string     `json:"hint"`
	Visibility Visibility `json:"visibility"`
	// Mask is the code minimal-detail responses show instead (Verbose and
	// Private reasons); VerboseMask the code verbose responses show instead
	// (Private reasons).
	Mask        Code `json:"mask,omitempty"`
	VerboseMask Code `json:"verbose_mask,omitempty"`
	// BearerError is the RFC 6750 error code a Bearer challenge carries
	// when a token was presented.
	BearerError string `json:"bearer_error,omitempty"`
	// Retry is set when the response carries Retry-After.
	Retry bool `json:"retry,omitempty"`
}

// Public returns the reason a public response shows for r: r itself, or its
// mask, depending on the route's detail level.
func (r Reason) Public(verbose bool) Reason {
	switch {
	case r.Visibility == Public:
		return r
	case verbose && r.Visibility == Verbose:
		return r
	case verbose && r.VerboseMask != "":
		return Lookup(r.VerboseMask)
	default:
		return Lookup(r.Mask)
	}
}

var byCode = func() map[Code]Reason {
	m := make(map[Code]Reason, len(catalogue))
	for _, r := range catalogue {
		if _, dup := m[r.Code]; dup {
			panic("reason: duplicate code " + string(r.Code))
		}
		m[r.Code] = r
	}
	return m
}()

// Lookup returns the catalogue entry for c. An unknown code is a programming
// error; Lookup then returns the entry for internal_error so that a response
// is still well formed.
func Lookup(c Code) Reason {
	if r, ok := byCode[c]; ok {
		return r
	}
	return byCode[InternalError]
}

// Known reports whether c is in the catalogue.
func Known(c Code) bool {
	_, ok := byCode[c]
	return ok
}

// All returns the catalogue ordered by category, then code.
func All() []Reason {
	out := append([]Reason(nil), catalogue...)
	sort.SliceStable(out, func(i, j int) bool {
		if ci, cj := categoryOrder[out[i].Category], categoryOrder[out[j].Category]; ci != cj {
			return ci < cj
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// Categories in the order documentation lists them.
var categoryOrder = map[string]int{
	"request": 0, "password": 1, "api_key": 2, "token": 3, "session": 4, "two_factor": 5,
	"account": 6, "throttle": 7, "portal": 8, "policy": 9, "dependency": 10,
}
