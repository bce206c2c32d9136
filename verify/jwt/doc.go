// Package jwt verifies Bearer JSON Web Tokens (RFC 6750, RFC 7519) against
// the issuers the gateway trusts, following the JWT best current practices
// of RFC 8725: a per-issuer algorithm allow-list, keys only from the
// issuer's configured JWKS (never from the token's jku, x5u or jwk headers),
// a key type that must match the algorithm family, and mandatory iss, aud
// and exp checks with a small leeway.
//
// A Verifier turns every refusal into one catalogued reason with a trace of
// the checks that ran and the non-secret values they compared, so an admin
// can tell an expired token (and by how long) from a key rotation or a
// token minted for another API. It answers with an error only when it could
// not decide: the issuer's keys cannot be fetched, which becomes the 503
// reason issuer_unavailable instead of blaming the caller.
//
// Check order: structure, issuer (unverified iss), algorithm, key (kid),
// signature, exp, nbf, iat, aud, sub. Keys are fetched at Start, refreshed
// in the background, and refreshed at most once per MinRefreshInterval
// when a token names an unknown kid. Verified tokens are cached by the
// SHA-256 of the token so a repeated token costs a hash, a map lookup and
// the time checks.
package jwt
