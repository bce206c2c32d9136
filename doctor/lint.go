package doctor

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/authgate/authgate/reason"
)

// LintOptions configure an offline token lint.
type LintOptions struct {
	// Audience is the audience the API expects; "" skips the check.
	Audience string
	// JWKS is a key set file to check the signature and kid against.
	JWKS string
	// Now is the local clock; time.Now when nil.
	Now func() time.Time
}

// Lint decodes a token without trusting it or using the network (unless
// JWKS is a URL) and reports what a verifier would object to: structure,
// header, claims, times relative to now, and red flags. The error is
// non-nil only when there is no token at all.
func Lint(ctx context.Context, raw string, o LintOptions) (*Report, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	r := &Report{Kind: "token", CheckedAt: now().UTC(), Causes: []Cause{}}
	d := &diagnosis{report: r, red: &redactor{}}
	tok := strings.TrimSpace(raw)
	if tok == "" {
		return nil, &OptionError{"no token: give a file, or pipe the token on standard input"}
	}
	// The slips a token file or variable often has; each is a cause of
	// its own, and the token behind it is still read.
	if s, rest, ok := strings.Cut(tok, " "); ok && strings.EqualFold(s, "Bearer") {
		d.add(reason.BearerPrefixDoubled, 60, FromDoctor, "The value starts with \"Bearer \": a client that adds the prefix itself sends it twice.")
		tok = strings.TrimSpace(rest)
	}
	if len(tok) >= 2 && strings.ContainsRune(`"'`, rune(tok[0])) {
		d.add(reason.CredentialQuoted, 80, FromDoctor, "The token is wrapped in quotation marks.")
		tok = strings.Trim(tok, `"'`)
	}
	if strings.IndexFunc(tok, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }) >= 0 {
		d.add(reason.CredentialWhitespace, 85, FromDoctor, "The token contains whitespace inside it (a line break from copying?).")
		tok = strings.Join(strings.Fields(tok), "")
	}
	d.red.add(tok)
	ti, notes := inspectToken(tok, clocks{local: now()}, o.Audience)
	for _, n := range notes {
		d.note(n.ID, n.Severity, n.Text)
	}
	if o.JWKS != "" {
		set, where, err := loadKeys(ctx, http.DefaultClient, keySource{jwks: o.JWKS})
		if err != nil {
			d.note("keys_unavailable", Warning, "Could not load the key set "+where+": "+err.Error()+"; the signature was not checked.")
		} else {
			ti.Signature = checkSignature(tok, ti, set, where)
		}
	}
	r.Token = ti
	d.tokenCauses()
	d.finish()
	r.Outcome = Succeeded
	if len(r.Causes) > 0 {
		r.Outcome = Failed
	}
	return r, nil
}
