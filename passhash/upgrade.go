package passhash

import "fmt"

// Outdated reports whether encoded, a hash a password has just matched,
// should be made again with p: it is a supported hash of another format
// (bcrypt, {SHA}, $apr1$) or an argon2id hash with other parameters.
// Hashes nothing can verify are not outdated: there is no password to
// hash them again with.
func Outdated(encoded string, p Argon2Params) bool {
	f, err := identify(encoded)
	switch {
	case err != nil:
		return false
	case f != formatArgon2id:
		return true
	}
	h, err := parseArgon2(encoded)
	return err == nil && h.params != p
}

// Describe names encoded's format and, for argon2id, its parameters
// ("argon2id m=19456 t=2 p=1"), for traces and log lines. Like Name, it
// never returns any part of the salt or the hash.
func Describe(encoded string) string {
	if Name(encoded) != "argon2id" {
		return Name(encoded)
	}
	h, err := parseArgon2(encoded)
	if err != nil {
		return "argon2id (unreadable parameters)"
	}
	return h.params.String()
}

// String describes p as Describe does.
func (p Argon2Params) String() string {
	return fmt.Sprintf("argon2id m=%d t=%d p=%d", p.MemoryKiB, p.Iterations, p.Parallelism)
}
