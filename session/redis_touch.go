package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// touchScript writes a session's new record, keeping the key's TTL, only
// if the key still holds the record the caller read: a compare-and-set on
// one key. A session deleted meanwhile stays deleted, and a Save made
// meanwhile (the second step passed) is not overwritten with what was read
// before it. It returns 1 when it wrote, 0 when the key is gone, -1 when it
// holds another record.
//
// KEYS[1] session. ARGV: the record read, the record to write.
var touchScript = redis.NewScript(`
local held = redis.call('GET', KEYS[1])
if not held then
  return 0
end
if held ~= ARGV[1] then
  return -1
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`)

// Touch sets the LastSeen of the live session with id, or returns
// ErrNotFound and writes nothing. The expiry stays, both the key's TTL and
// the one in the record, and the user's index is not written.
func (r *Redis) Touch(ctx context.Context, id string, lastSeen time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	key := r.sessionKey(id)
	for {
		data, err := r.client.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return ErrNotFound
		}
		if err != nil {
			return unavailable("touch", err)
		}
		rec, err := decode(id, data)
		if err != nil {
			return unavailable("touch", err)
		}
		if !r.now().Before(rec.Expires) {
			return ErrNotFound
		}
		rec.LastSeen = lastSeen
		rec.Session = normalize(rec.Session)
		next, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("session: redis touch: %w", err)
		}
		wrote, err := touchScript.Run(ctx, r.client, []string{key}, data, next).Int()
		if err != nil {
			return unavailable("touch", err)
		}
		switch wrote {
		case 1:
			return nil
		case 0:
			return ErrNotFound
		}
		// Another write came between the read and the script: read again.
		// Each round lost is a write that succeeded, and the timeout ends
		// the loop.
	}
}
