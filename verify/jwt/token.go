package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// header is the part of a JWS protected header the verifier reads. jku,
// x5u and jwk are decoded only to note in the trace that they are ignored.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
	Jku  string          `json:"jku"`
	X5u  string          `json:"x5u"`
	Jwk  json.RawMessage `json:"jwk"`
}

// rawToken is a token split and decoded, not yet verified. headerOK and
// claimsOK say how far decoding got, so the trace can show what was read
// even from a token that is refused as malformed.
type rawToken struct {
	header       header
	claims       claims
	headerOK     bool
	claimsOK     bool
	signingInput string
	signature    []byte
}

// strictB64 rejects padding and non-zero trailing bits, so every token has
// exactly one encoding and a cached verdict cannot be reused by a variant.
var strictB64 = base64.RawURLEncoding.Strict()

// decodeToken splits tok into its three parts and decodes them. It returns
// an empty problem when the token is structurally a JWS compact JWT, and
// otherwise a non-secret description of what is wrong.
func decodeToken(tok string) (rt rawToken, problem string) {
	if tok == "" {
		return rt, "token is empty"
	}
	switch n := strings.Count(tok, ".") + 1; n {
	case 3:
	case 5:
		return rt, "5 dot-separated parts: an encrypted JWE, not a signed JWT"
	default:
		return rt, fmt.Sprintf("%d dot-separated parts, a JWT has 3", n)
	}
	h, rest, _ := strings.Cut(tok, ".")
	c, s, _ := strings.Cut(rest, ".")
	for _, p := range [...]struct{ name, val string }{{"header", h}, {"claims", c}, {"signature", s}} {
		if p.val == "" && p.name != "signature" {
			return rt, p.name + " part is empty"
		}
		if i := indexNotB64URL(p.val); i >= 0 {
			return rt, fmt.Sprintf("%s part has a character outside base64url at offset %d", p.name, i)
		}
	}
	hb, err := strictB64.DecodeString(h)
	if err != nil {
		return rt, "header part is not valid base64url"
	}
	if err := unmarshalObject(hb, &rt.header); err != nil {
		return rt, "header: " + jsonProblem(err)
	}
	if rt.header.Alg == "" {
		return rt, "header has no alg"
	}
	rt.headerOK = true
	if len(rt.header.Crit) > 0 {
		// RFC 7515 §4.1.11: extensions listed in crit must be understood;
		// this verifier understands none.
		return rt, "header lists crit extensions, which this verifier does not support"
	}
	cb, err := strictB64.DecodeString(c)
	if err != nil {
		return rt, "claims part is not valid base64url"
	}
	var cs claimSet
	if err := unmarshalObject(cb, &cs); err != nil {
		return rt, "claims: " + jsonProblem(err)
	}
	if rt.claims, err = cs.parse(); err != nil {
		return rt, "claims: " + err.Error()
	}
	rt.claimsOK = true
	if rt.signature, err = strictB64.DecodeString(s); err != nil {
		return rt, "signature part is not valid base64url"
	}
	rt.signingInput = tok[:len(h)+1+len(c)]
	return rt, ""
}

// indexNotB64URL returns the index of the first byte of s outside the
// base64url alphabet, or -1. The standard decoder skips line breaks, which
// would let two different strings carry the same token.
func indexNotB64URL(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return i
		}
	}
	return -1
}

// unmarshalObject decodes a JSON object; JSON null or any other value is
// refused, which plain json.Unmarshal into a struct would accept.
func unmarshalObject(b []byte, v any) error {
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return errNotObject
	}
	return json.Unmarshal(b, v)
}

var errNotObject = errors.New("not a JSON object")

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, errNotObject):
		return "not a JSON object"
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		// Every typed field read here is a string; the rest are raw.
		return fmt.Sprintf("%s must be a string, not a JSON %s", typ.Field, typ.Value)
	}
	return "not valid JSON"
}
