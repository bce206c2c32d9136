package quickstart

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
	jwtlib "github.com/golang-jwt/jwt/v5"
)

// issuer is the demo token issuer: an ES256 key kept in the data folder and
// its public half published as a JWKS file.
type issuer struct {
	key *ecdsa.PrivateKey
	kid string
}

// loadIssuer reads the demo issuer's key, creating it on first use, and
// (re)writes demo-jwks.json.
func loadIssuer(dir string) (*issuer, error) {
	path := filepath.Join(dir, "demo-issuer.pem")
	var key *ecdsa.PrivateKey
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%s is not a PEM file; delete it and run quickstart again", path)
		}
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w; delete it and run quickstart again", path, err)
		}
		key = k
	case errors.Is(err, os.ErrNotExist):
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
		der, _ := x509.MarshalECPrivateKey(key)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, fmt.Errorf("cannot write the demo issuer key: %w", err)
		}
	default:
		return nil, err
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(pub)
	is := &issuer{key: key, kid: "demo-" + hex.EncodeToString(sum[:4])}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: is.kid, Algorithm: "ES256", Use: "sig"}}}
	out, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, err
	}
	return is, os.WriteFile(filepath.Join(dir, "demo-jwks.json"), out, 0o644)
}

// sign mints a demo token.
func (is *issuer) sign(iat, exp time.Time, sub, scope string) (string, error) {
	t := jwtlib.NewWithClaims(jwtlib.SigningMethodES256, jwtlib.MapClaims{
		"iss": DemoIssuer, "sub": sub, "aud": DemoAudience, "scope": scope,
		"iat": iat.Unix(), "exp": exp.Unix(),
	})
	t.Header["kid"] = is.kid
	return t.SignedString(is.key)
}
