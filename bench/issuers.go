package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
	jwtlib "github.com/golang-jwt/jwt/v5"
)

// The run's token issuers: one per signing algorithm the gateway should be
// measured with, each with a key pair made at start and its public half
// published as a JWKS file in the run's folder (jwks_file: in the
// configuration), so no key server is involved.

// benchAudience is the aud of every bench token; each issuer accepts it.
const benchAudience = "authgate-bench"

// issuer signs the tokens of one algorithm.
type issuer struct {
	Name   string // issuer name in the configuration, e.g. "es256"
	Alg    string // JWS algorithm, e.g. "ES256"
	Issuer string // the iss claim
	key    crypto.Signer
	method jwtlib.SigningMethod
	kid    string
}

// newIssuers makes one issuer each for ES256, RS256 and EdDSA.
func newIssuers() ([]*issuer, error) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	mk := func(name, alg string, key crypto.Signer, m jwtlib.SigningMethod) *issuer {
		return &issuer{Name: name, Alg: alg, Issuer: "https://" + name + ".bench.authgate.invalid",
			key: key, method: m, kid: name + "-1"}
	}
	return []*issuer{
		mk("es256", "ES256", ec, jwtlib.SigningMethodES256),
		mk("rs256", "RS256", rs, jwtlib.SigningMethodRS256),
		mk("eddsa", "EdDSA", ed, jwtlib.SigningMethodEdDSA),
	}, nil
}

// JWKSFile is the key set's file name, relative to the configuration.
func (is *issuer) JWKSFile() string { return is.Name + "-jwks.json" }

// writeJWKS publishes the issuer's public key in dir.
func (is *issuer) writeJWKS(dir string) error {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: is.key.Public(), KeyID: is.kid, Algorithm: is.Alg, Use: "sig"}}}
	out, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return fmt.Errorf("issuer %s: %w", is.Name, err)
	}
	return os.WriteFile(filepath.Join(dir, is.JWKSFile()), out, 0o644)
}

// sign mints a token issued at iat and expiring at exp.
func (is *issuer) sign(iat, exp time.Time) (string, error) {
	t := jwtlib.NewWithClaims(is.method, jwtlib.MapClaims{
		"iss": is.Issuer, "sub": "bench-client", "aud": benchAudience, "scope": "bench",
		"iat": iat.Unix(), "exp": exp.Unix(),
	})
	t.Header["kid"] = is.kid
	return t.SignedString(is.key)
}
