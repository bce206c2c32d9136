// Package totp is 2-step verification with authenticator apps (RFC 6238
// time-based one-time passwords) and single-use recovery codes.
//
// Besides "right" and "wrong" it tells apart a code typed too slowly
// (code_expired), a code used twice (code_reused) and a code that would be
// right if the device's clock were set differently (code_clock_skew, with
// the estimated skew), by comparing the code with those of every step
// within ten minutes of now. Only the current step and the one before it
// are accepted, as RFC 6238 §5.2 advises for network delay.
//
// Secrets are kept sealed (AES-256-GCM under a key derived from the
// gateway key, bound to the user's name) and recovery codes as keyed
// digests, so a copy of the user store alone reveals neither. No code,
// secret or digest ever appears in a check, an error or a log line.
package totp
