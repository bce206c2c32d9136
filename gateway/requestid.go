package gateway

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"net/http"
	"time"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// requestID keeps a valid X-Request-Id set by a trusted proxy, so the
// proxy's logs and ours share the id, and otherwise makes a new one: 48 bits
// of milliseconds then 80 random bits, so ids sort by time. Ids from other
// clients are not kept: a client could reuse another request's id and make
// an admin's lookup find the wrong attempt.
func requestID(r *http.Request, fromTrustedProxy bool) string {
	if id := r.Header.Get("X-Request-Id"); fromTrustedProxy && validRequestID(id) {
		return id
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	rand.Read(b[6:])
	return idEncoding.EncodeToString(b[:])
}

// validRequestID reports whether id is 1–128 characters of letters, digits
// and "-_.:" — enough for UUIDs, ULIDs and trace ids, nothing that could
// break a log line or a header.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}
