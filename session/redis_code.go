package session

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// codeScript records a used code unless a use not yet expired at now is
// recorded: SET NX PX, with expiry decided by the caller's clock like every
// other read. Times in Unix ms.
//
// KEYS[1] code. ARGV: now, expires, TTL (expires − now, from Go so that
// Lua never formats a large number).
var codeScript = redis.NewScript(`
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if held > tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// UseCode records the use of user's code of step until expires and reports
// whether it is the first, atomically across gateways.
func (r *Redis) UseCode(ctx context.Context, user string, step int64, expires time.Time) (bool, error) {
	if user == "" {
		return false, ErrInvalid
	}
	now := r.now()
	ttl := remaining(now, expires)
	if ttl <= 0 {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ms := now.UnixMilli()
	first, err := codeScript.Run(ctx, r.client, []string{r.codeKey(user, step)}, ms, ms+ttl, ttl).Int()
	if err != nil {
		return false, unavailable("use code", err)
	}
	return first == 1, nil
}
