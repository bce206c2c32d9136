package jwt

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// claimSet is the JSON shape of the registered claims the verifier reads.
// Claims with more than one JSON form stay raw and are parsed by parse.
type claimSet struct {
	Iss   string          `json:"iss"`
	Sub   string          `json:"sub"`
	Jti   string          `json:"jti"`
	Aud   json.RawMessage `json:"aud"`
	Exp   json.RawMessage `json:"exp"`
	Nbf   json.RawMessage `json:"nbf"`
	Iat   json.RawMessage `json:"iat"`
	Scope json.RawMessage `json:"scope"`
	Scp   json.RawMessage `json:"scp"`
}

// claims are the decoded, still unverified claims. Zero times mean absent.
type claims struct {
	iss, sub, jti string
	aud           []string
	exp, nbf, iat time.Time
	scopes        []string
}

// maxNumericDate is 9999-12-31T23:59:59Z; later dates do not fit time
// arithmetic safely and no issuer means them.
const maxNumericDate = 253402300799

func (cs *claimSet) parse() (c claims, err error) {
	c.iss, c.sub, c.jti = cs.Iss, cs.Sub, cs.Jti
	for _, d := range [...]struct {
		name string
		raw  json.RawMessage
		dst  *time.Time
	}{{"exp", cs.Exp, &c.exp}, {"nbf", cs.Nbf, &c.nbf}, {"iat", cs.Iat, &c.iat}} {
		if *d.dst, err = numericDate(d.raw); err != nil {
			return c, fmt.Errorf("%s %w", d.name, err)
		}
	}
	if c.aud, err = stringOrList(cs.Aud); err != nil {
		return c, fmt.Errorf("aud %w", err)
	}
	scope, scopeName := cs.Scope, "scope"
	if isNull(scope) {
		scope, scopeName = cs.Scp, "scp"
	}
	list, err := stringOrList(scope)
	if err != nil {
		return c, fmt.Errorf("%s %w", scopeName, err)
	}
	for _, s := range list {
		c.scopes = append(c.scopes, strings.Fields(s)...)
	}
	return c, nil
}

func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// numericDate decodes an RFC 7519 NumericDate: a JSON number of seconds
// since 1970, possibly fractional.
func numericDate(raw json.RawMessage) (time.Time, error) {
	if isNull(raw) {
		return time.Time{}, nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) {
		return time.Time{}, errors.New("is not a NumericDate (a JSON number of seconds since 1970)")
	}
	if f < 0 || f > maxNumericDate {
		return time.Time{}, errors.New("is a NumericDate outside 1970..9999")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// stringOrList decodes a claim that is a string or an array of strings.
func stringOrList(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("is not a valid JSON string")
		}
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("is neither a string nor an array of strings")
	}
	return list, nil
}

// checkClaims runs the exp, nbf, iat, aud and sub checks in that order. It
// reports whether all passed; on the first failure the trace holds the
// reason.
func checkClaims(t *trace, c *claims, is *issuerState, now time.Time) bool {
	leeway := is.cfg.Leeway
	if c.exp.IsZero() {
		t.deny("jwt.exp", reason.TokenClaimMissing, "token has no exp claim; tokens without expiry are never accepted")
		return false
	}
	detail, ago := expDetail(c.exp, now, leeway)
	if ago > leeway {
		t.v.ClockSkew = ago
		t.deny("jwt.exp", reason.TokenExpired, detail)
		return false
	}
	t.add("jwt.exp", authgate.Pass, detail)
	for _, tc := range [...]struct {
		name, claim string
		at          time.Time
		code        reason.Code
	}{{"jwt.nbf", "nbf", c.nbf, reason.TokenNotYetValid}, {"jwt.iat", "iat", c.iat, reason.TokenIssuedInFuture}} {
		if tc.at.IsZero() {
			t.add(tc.name, authgate.Skip, "token has no "+tc.claim+" claim")
			continue
		}
		detail, ahead := futureDetail(tc.claim, tc.at, now, leeway)
		if ahead > leeway {
			t.v.ClockSkew = ahead
			t.deny(tc.name, tc.code, detail)
			return false
		}
		t.add(tc.name, authgate.Pass, detail)
	}
	if len(c.aud) == 0 {
		t.deny("jwt.aud", reason.AudienceMismatch, "token has no aud claim")
		return false
	}
	matched := ""
	for _, a := range c.aud {
		if slices.Contains(is.cfg.Audiences, a) {
			matched = a
			break
		}
	}
	if matched == "" {
		t.deny("jwt.aud", reason.AudienceMismatch, fmt.Sprintf("aud=%s is not an audience of issuer %s on this gateway", quoteList(c.aud), is.cfg.Name))
		return false
	}
	t.add("jwt.aud", authgate.Pass, "aud contains "+quote(matched))
	if c.sub == "" {
		t.deny("jwt.sub", reason.TokenClaimMissing, "token has no sub claim")
		return false
	}
	t.add("jwt.sub", authgate.Pass, "sub="+quote(c.sub))
	return true
}
