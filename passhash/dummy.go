package passhash

import (
	"crypto/rand"
	"sync"
)

// dummies caches one dummy hash per parameter set.
var dummies sync.Map // Argon2Params → string

// Dummy returns an argon2id hash of a random password nobody knows, computed
// once per parameter set and then reused. Verifiers check a password for an
// unknown user against it, so that unknown and known users cost the same
// hashing time. Invalid parameters fall back to DefaultArgon2.
func Dummy(p Argon2Params) string {
	if p.Valid() != nil {
		p = DefaultArgon2
	}
	if h, ok := dummies.Load(p); ok {
		return h.(string)
	}
	h, err := Hash(rand.Text(), p)
	if err != nil {
		// Hash fails only on invalid parameters, excluded above.
		panic("passhash: dummy hash: " + err.Error())
	}
	actual, _ := dummies.LoadOrStore(p, h)
	return actual.(string)
}
