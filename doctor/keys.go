package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/go-jose/go-jose/v4"
	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// maxDocument bounds what doctor reads of a key set or discovery document.
const maxDocument = 1 << 20

// keySource is where a token's keys come from: a discovery URL, a JWKS URL
// or a JWKS file.
type keySource struct {
	issuer string // --issuer, "" when only a key set was given
	jwks   string // --jwks URL or FILE
}

// loadKeys fetches the key set. With an issuer and no key set it follows
// OIDC discovery (issuer + /.well-known/openid-configuration → jwks_uri).
func loadKeys(ctx context.Context, client *http.Client, src keySource) (*jose.JSONWebKeySet, string, error) {
	where := src.jwks
	if where == "" {
		disc := strings.TrimSuffix(src.issuer, "/") + "/.well-known/openid-configuration"
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := fetchJSON(ctx, client, disc, &doc); err != nil {
			return nil, disc, fmt.Errorf("discovery: %w", err)
		}
		if doc.JWKSURI == "" {
			return nil, disc, errors.New("discovery document has no jwks_uri")
		}
		// Only what the user typed may name a local file: a document from
		// the network must not make doctor open one.
		if !strings.HasPrefix(doc.JWKSURI, "https://") && !strings.HasPrefix(doc.JWKSURI, "http://") {
			return nil, disc, fmt.Errorf("discovery document's jwks_uri %q is not an http(s) URL", authgate.Printable(doc.JWKSURI))
		}
		if strings.HasPrefix(src.issuer, "https://") && !strings.HasPrefix(doc.JWKSURI, "https://") {
			return nil, disc, fmt.Errorf("the issuer is https but its discovery document's jwks_uri %q is not", authgate.Printable(doc.JWKSURI))
		}
		where = doc.JWKSURI
	}
	var set jose.JSONWebKeySet
	if strings.HasPrefix(where, "http://") || strings.HasPrefix(where, "https://") {
		if err := fetchJSON(ctx, client, where, &set); err != nil {
			return nil, where, err
		}
		return &set, where, nil
	}
	f, err := os.Open(where)
	if err != nil {
		return nil, where, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxDocument))
	if err != nil {
		return nil, where, err
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, where, fmt.Errorf("not a JWKS document: %w", err)
	}
	return &set, where, nil
}

func fetchJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocument)).Decode(v); err != nil {
		return fmt.Errorf("GET %s: not JSON: %w", url, err)
	}
	return nil
}

// checkSignature verifies raw with the key its kid names in set.
func checkSignature(raw string, ti *TokenInfo, set *jose.JSONWebKeySet, where string) *SignatureCheck {
	sc := &SignatureCheck{KeySet: where, Result: "unchecked"}
	if ti.Format != "jwt" || ti.Problem != "" || strings.EqualFold(ti.Algorithm, "none") {
		sc.Detail = "the token has no signature to check"
		return sc
	}
	var key *jose.JSONWebKey
	if ti.KeyID != "" {
		if ks := set.Key(ti.KeyID); len(ks) > 0 {
			key = &ks[0]
		}
	} else if len(set.Keys) == 1 {
		key = &set.Keys[0]
	}
	if key == nil {
		sc.Result = "key_unknown"
		sc.Detail = fmt.Sprintf("kid %q is not among the %d keys of %s", ti.KeyID, len(set.Keys), where)
		ti.codes = append(ti.codes, tokenFinding{reason.KeyUnknown, 85, "The token's kid " + fmt.Sprintf("%q", ti.KeyID) + " is not in the issuer's current key set (" + itoa(len(set.Keys)) + " keys): the issuer rotated its keys, or the token comes from another environment."})
		return sc
	}
	parser := jwtlib.NewParser(jwtlib.WithoutClaimsValidation(), jwtlib.WithValidMethods([]string{ti.Algorithm}))
	_, err := parser.Parse(raw, func(*jwtlib.Token) (any, error) { return key.Key, nil })
	switch {
	case err == nil:
		sc.Result = "verified"
		sc.Detail = fmt.Sprintf("%s signature verified with kid %q", ti.Algorithm, key.KeyID)
	case errors.Is(err, jwtlib.ErrTokenSignatureInvalid):
		sc.Result = "invalid"
		sc.Detail = fmt.Sprintf("the signature does not verify with kid %q", key.KeyID)
		ti.codes = append(ti.codes, tokenFinding{reason.TokenSignatureInvalid, 85, "The signature does not verify with the issuer's key " + fmt.Sprintf("%q", key.KeyID) + ": the token was altered, or signed by someone else."})
	default:
		sc.Result = "invalid"
		sc.Detail = fmt.Sprintf("kid %q (%s key, alg %q) cannot verify alg %s", key.KeyID, keyKind(key.Key), key.Algorithm, ti.Algorithm)
		ti.codes = append(ti.codes, tokenFinding{reason.TokenAlgorithm, 80, "The token's alg " + ti.Algorithm + " does not fit its key " + fmt.Sprintf("%q", key.KeyID) + " (" + keyKind(key.Key) + ")."})
	}
	return sc
}

func keyKind(k any) string {
	switch fmt.Sprintf("%T", k) {
	case "*ecdsa.PublicKey":
		return "EC"
	case "*rsa.PublicKey":
		return "RSA"
	case "ed25519.PublicKey":
		return "OKP"
	case "[]uint8":
		return "symmetric"
	}
	return fmt.Sprintf("%T", k)
}
