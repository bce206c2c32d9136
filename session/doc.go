// Package session keeps the browser sessions of the sign-in portal and the
// TOTP codes already used, so that a cookie names a session every gateway
// can find and a 2-step code is accepted once only. Memory serves one node;
// Redis is shared by every gateway using the same server and prefix. Both
// pass the conformance suite in session/sessiontest.
//
// # Tokens and ids
//
// The cookie holds a token (NewToken): 32 random bytes, base64url. Stores
// only ever see the session's id, the base64url SHA-256 of the token, so a
// leaked store dump (or a Redis MONITOR) gives no usable cookie.
//
// # Time
//
// Every store has a clock (Now) that decides expiry: a session or used code
// is forgotten once Now() reaches its expires time. Expiry times are rounded
// up to a whole millisecond, the granularity of Redis TTLs, in both stores;
// session fields (CreatedAt, LastSeen, SecondFactorAt) round-trip to the
// nanosecond, in UTC and without a monotonic clock reading. Redis also
// checks expiry against its record with the store's clock, and its TTLs
// (expires − Now()) only reclaim the space, so a test clock works the same
// against both stores.
package session
