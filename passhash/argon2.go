// Package passhash creates and checks password hashes. New hashes are
// argon2id PHC strings; existing hashes from bcrypt and Apache htpasswd
// ({SHA}, $apr1$) files are verified as they are, so users can be imported
// without resetting their passwords. Plain-text and crypt(3) DES "hashes"
// are refused: Check says which format a value looks like and how to fix it.
//
// No error of this package ever contains a password or a hash.
package passhash

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the cost parameters of an argon2id hash.
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultArgon2 is the argon2id configuration of new hashes: 7 MiB of
// memory, 5 iterations, 1 degree of parallelism. OWASP's Password Storage
// Cheat Sheet lists it among five configurations that defend equally well
// (19 MiB with 2 iterations is the one it names first) and differ only in
// how they trade memory for CPU. This one takes about the same CPU per hash
// and under half the memory: a hash's blocks stay out of most of the
// machine's shared cache, and the collector runs a third as often during a
// burst of wrong passwords. Measured in the isolation row of `make bench`
// (docs/benchmarks.md): a concurrent API-key route's p99 rose 1.9-2.2×
// under 64 wrong-password connections, against 2.6-2.7× with 19 MiB.
var DefaultArgon2 = Argon2Params{MemoryKiB: 7168, Iterations: 5, Parallelism: 1}

const (
	argonSaltLen = 16
	argonKeyLen  = 32
	// Limits on parameters read from a stored hash, so that a corrupt or
	// hostile hash cannot make a single check allocate gigabytes.
	argonMaxMemoryKiB  = 1 << 20 // 1 GiB
	argonMaxIterations = 100
)

// Valid returns nil if p can be used to hash, or an error naming the bad
// parameter.
func (p Argon2Params) Valid() error {
	switch {
	case p.Parallelism < 1:
		return fmt.Errorf("passhash: argon2id parallelism must be at least 1")
	case p.Iterations < 1 || p.Iterations > argonMaxIterations:
		return fmt.Errorf("passhash: argon2id iterations must be between 1 and %d, not %d", argonMaxIterations, p.Iterations)
	case p.MemoryKiB < 8*uint32(p.Parallelism) || p.MemoryKiB > argonMaxMemoryKiB:
		return fmt.Errorf("passhash: argon2id memory must be between %d and %d KiB, not %d", 8*uint32(p.Parallelism), argonMaxMemoryKiB, p.MemoryKiB)
	}
	return nil
}

// Hash returns the argon2id PHC string of password with a fresh 16-byte
// random salt: $argon2id$v=19$m=...,t=...,p=...$salt$hash. It fails only on
// invalid parameters or when the system's random source fails.
func Hash(password string, p Argon2Params) (string, error) {
	if err := p.Valid(); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("passhash: reading random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.MemoryKiB, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key)), nil
}

// argon2Hash is a parsed argon2id PHC string.
type argon2Hash struct {
	params Argon2Params
	salt   []byte
	key    []byte
}

// parseArgon2 parses an argon2id PHC string. Its errors describe the
// problem without quoting the value.
func parseArgon2(encoded string) (argon2Hash, error) {
	var h argon2Hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, corrupt("argon2id", "it does not have the six $-separated fields $argon2id$v=19$m=,t=,p=$salt$hash")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, corrupt("argon2id", "its version is not v=19")
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return h, corrupt("argon2id", "parameter "+strconv.Quote(k)+" is not a number")
		}
		switch k {
		case "m":
			h.params.MemoryKiB = uint32(n)
		case "t":
			h.params.Iterations = uint32(n)
		case "p":
			if n > 255 {
				return h, corrupt("argon2id", "parallelism is above 255")
			}
			h.params.Parallelism = uint8(n)
		default:
			return h, corrupt("argon2id", "it has an unknown parameter "+strconv.Quote(k))
		}
	}
	if err := h.params.Valid(); err != nil {
		return h, corrupt("argon2id", "its parameters are out of range")
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return h, corrupt("argon2id", "its salt is not at least 8 bytes of unpadded base64")
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(h.key) < 16 {
		return h, corrupt("argon2id", "its hash is not at least 16 bytes of unpadded base64")
	}
	return h, nil
}

// verify reports whether password derives h's key, in constant time.
func (h argon2Hash) verify(password string) bool {
	key := argon2.IDKey([]byte(password), h.salt, h.params.Iterations, h.params.MemoryKiB, h.params.Parallelism, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}
