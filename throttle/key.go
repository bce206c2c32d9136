package throttle

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/netip"
)

// Kind names what a failure counter is kept for. The values are stable: they
// are part of the keys stored in Redis and of configuration.
type Kind string

// The kinds of failure counters.
const (
	KindUser       Kind = "user" // a user name
	KindAddress    Kind = "addr" // one source address (IPv4, or IPv6 in full)
	KindNetwork    Kind = "net"  // the /64 an IPv6 source address belongs to
	KindCredential Kind = "cred" // a credential fingerprint (see Fingerprint)
	KindPair       Kind = "pair" // a (user, source) pair
)

// Kinds lists every kind.
var Kinds = []Kind{KindUser, KindAddress, KindNetwork, KindCredential, KindPair}

// maxValueLen bounds the part of a key taken from the request; longer values
// are replaced by a digest so an attacker cannot make stored keys huge.
const maxValueLen = 128

// Key identifies one failure counter. Build it with the constructors in this
// file; the zero Key is invalid and every Limiter refuses it with
// ErrInvalidKey.
type Key struct {
	kind  Kind
	value string
}

// Kind returns what the key counts failures for.
func (k Key) Kind() Kind { return k.kind }

// IsZero reports whether k is the zero (invalid) Key.
func (k Key) IsZero() bool { return k.kind == "" }

// String returns the key as "kind:value", the form stored by backends.
func (k Key) String() string { return string(k.kind) + ":" + k.value }

func newKey(kind Kind, value string) Key {
	if len(value) > maxValueLen {
		sum := sha256.Sum256([]byte(value))
		value = "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return Key{kind: kind, value: value}
}

// UserKey returns the key counting failures for a user name. The name is
// used as given: the caller passes the canonical form its user store uses,
// so that "Alice" and "alice" are one counter when they are one account.
func UserKey(name string) Key { return newKey(KindUser, name) }

// AddressKey returns the key counting failures from one source address. An
// IPv4 address carried in IPv6 (::ffff:192.0.2.1) counts as the IPv4 address
// and a zone is dropped. It returns the zero Key for an invalid address.
func AddressKey(ip netip.Addr) Key {
	ip, ok := normalize(ip)
	if !ok {
		return Key{}
	}
	return newKey(KindAddress, ip.String())
}

// NetworkKey returns the key counting failures from the IPv6 /64 that ip
// belongs to, since one client usually holds a whole /64 and can rotate
// addresses inside it. It reports false for IPv4 (including IPv4 carried in
// IPv6) and invalid addresses, which have no network counter.
func NetworkKey(ip netip.Addr) (Key, bool) {
	ip, ok := normalize(ip)
	if !ok || ip.Is4() {
		return Key{}, false
	}
	return newKey(KindNetwork, netip.PrefixFrom(ip, 64).Masked().String()), true
}

// SourceKeys returns the keys a failure from ip counts against: its address
// and, for IPv6, its /64. It returns nil for an invalid address.
func SourceKeys(ip netip.Addr) []Key {
	a := AddressKey(ip)
	if a.IsZero() {
		return nil
	}
	if n, ok := NetworkKey(ip); ok {
		return []Key{a, n}
	}
	return []Key{a}
}

// CredentialKey returns the key counting failures for one presented
// credential. fingerprint must not reveal the credential: build it with
// Fingerprint. It returns the zero Key for an empty fingerprint.
func CredentialKey(fingerprint string) Key {
	if fingerprint == "" {
		return Key{}
	}
	return newKey(KindCredential, fingerprint)
}

// Fingerprint returns a short keyed digest (HMAC-SHA-256, 128 bits) of a
// credential, safe to store in Redis and logs: without the deployment secret
// it cannot be tested against guessed passwords. secret must be the same on
// every gateway sharing a Redis.
func Fingerprint(secret, credential []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(credential)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// PairKey returns the key counting failures for one user from one source:
// the address for IPv4, the /64 for IPv6 (a client's privacy addresses
// change inside it). Locking pairs first keeps a flood from one source from
// locking the real user out everywhere. It returns the zero Key for an
// invalid address.
func PairKey(user string, ip netip.Addr) Key {
	ip, ok := normalize(ip)
	if !ok {
		return Key{}
	}
	src := ip.String()
	if ip.Is6() {
		src = netip.PrefixFrom(ip, 64).Masked().String()
	}
	// The source never holds a space, so the first space splits the pair
	// unambiguously whatever the user name holds.
	return newKey(KindPair, src+" "+user)
}

func normalize(ip netip.Addr) (netip.Addr, bool) {
	if !ip.IsValid() {
		return ip, false
	}
	return ip.Unmap().WithZone(""), true
}
