package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const minRSABits = 2048

// key is one public signing key of an issuer.
type key struct {
	kid  string
	alg  string // the JWK's alg member; empty when the JWK does not bind one
	kind keyKind
	bits int // RSA modulus size
	pub  crypto.PublicKey
}

// String describes the key type for the trace, e.g. "RSA 2048" or "EC P-256".
func (k *key) String() string {
	if k.kind == kindRSA {
		return "RSA " + strconv.Itoa(k.bits)
	}
	return k.kind.String()
}

// keySet is an immutable snapshot of an issuer's published keys; a refresh
// replaces the whole snapshot.
type keySet struct {
	byKid   map[string][]*key // keys without a kid are filed under ""
	keys    []*key
	fetched time.Time
}

// lookupStatus is how a key lookup ended.
type lookupStatus uint8

const (
	keyFound     lookupStatus = iota
	kidUnknown                // no key has the token's kid
	keyWrongKind              // the kid's key does not fit the algorithm family
	keyWrongAlg               // the kid's JWK is bound to another algorithm
	kidAmbiguous              // no kid, and not exactly one key fits
)

// lookup finds the key for a token's kid and alg. The key type must fit
// the algorithm family: the token's alg never chooses how a key is used,
// which makes HMAC-with-a-public-key confusion impossible. On keyWrongKind
// and keyWrongAlg the mismatched key is returned for the trace.
func (s *keySet) lookup(kid, alg string) (*key, lookupStatus) {
	want := algorithms[alg].kind
	if kid == "" {
		var found *key
		n := 0
		for _, k := range s.keys {
			if k.kind == want && (k.alg == "" || k.alg == alg) {
				found, n = k, n+1
			}
		}
		if n != 1 {
			return nil, kidAmbiguous
		}
		return found, keyFound
	}
	cands := s.byKid[kid]
	if len(cands) == 0 {
		return nil, kidUnknown
	}
	for _, k := range cands {
		if k.kind == want && (k.alg == "" || k.alg == alg) {
			return k, keyFound
		}
	}
	for _, k := range cands {
		if k.kind == want {
			return k, keyWrongAlg
		}
	}
	return cands[0], keyWrongKind
}

// contains reports whether k, the very key a token was verified with, is
// still published in s.
func (s *keySet) contains(k *key) bool {
	return slices.Contains(s.byKid[k.kid], k)
}

// parseKeySet turns JWKS JSON into a key set. Keys it cannot use (other
// key types, encryption keys, symmetric keys, short RSA keys) are left out
// and described in skipped, as RFC 7517 §5 asks. Keys unchanged since prev
// keep their identity, so verdicts cached against them stay valid.
func parseKeySet(data []byte, prev *keySet, fetched time.Time) (set *keySet, skipped []string, err error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := unmarshalObject(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("key set is not a JWKS document: %s", jsonProblem(err))
	}
	if doc.Keys == nil {
		return nil, nil, errors.New("key set has no \"keys\" array")
	}
	set = &keySet{byKid: make(map[string][]*key, len(doc.Keys)), fetched: fetched}
	for i, raw := range doc.Keys {
		k, problem := newKey(raw)
		if problem != "" {
			skipped = append(skipped, fmt.Sprintf("key #%d: %s", i, problem))
			continue
		}
		if prev != nil {
			for _, old := range prev.byKid[k.kid] {
				if old.alg == k.alg && old.pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(k.pub) {
					k = old
					break
				}
			}
		}
		set.keys = append(set.keys, k)
		set.byKid[k.kid] = append(set.byKid[k.kid], k)
	}
	return set, skipped, nil
}

// newKey decodes one JWK with go-jose, or says why it is not usable.
func newKey(raw json.RawMessage) (*key, string) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(raw); err != nil {
		return nil, "not a usable JWK: " + err.Error()
	}
	name := "kid " + quote(jwk.KeyID)
	if jwk.Use == "enc" {
		return nil, name + " is an encryption key (use=enc)"
	}
	k := &key{kid: jwk.KeyID, alg: jwk.Algorithm}
	switch pub := jwk.Key.(type) {
	case []byte:
		return nil, name + " is a symmetric key; HMAC is never accepted"
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return nil, name + " contains private key material; the issuer must publish only public keys"
	case *rsa.PublicKey:
		k.kind, k.bits, k.pub = kindRSA, pub.N.BitLen(), pub
		if k.bits < minRSABits {
			return nil, fmt.Sprintf("%s is RSA %d, shorter than %d bits", name, k.bits, minRSABits)
		}
	case *ecdsa.PublicKey:
		k.pub = pub
		switch pub.Curve {
		case elliptic.P256():
			k.kind = kindP256
		case elliptic.P384():
			k.kind = kindP384
		case elliptic.P521():
			k.kind = kindP521
		default:
			return nil, name + " uses an unsupported curve"
		}
	case ed25519.PublicKey:
		k.kind, k.pub = kindEd25519, pub
	default:
		return nil, fmt.Sprintf("%s has unsupported key type %T", name, jwk.Key)
	}
	if k.alg != "" && algorithms[k.alg].kind != k.kind {
		return nil, fmt.Sprintf("%s is bound to alg %s, which does not sign with a %s key", name, quote(k.alg), k)
	}
	return k, ""
}
