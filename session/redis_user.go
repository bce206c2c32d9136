package session

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// A Redis store's per-user operations: its index of ids is a hint that is
// checked against the sessions and pruned as it is read.

// DeleteUser forgets every session of user and returns how many live ones
// it forgot. A session saved while it runs is kept.
func (r *Redis) DeleteUser(ctx context.Context, user string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	now := r.now()
	recs, ids, err := r.index(ctx, user)
	if err != nil {
		return 0, unavailable("delete user", err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	uk := r.userKey(user)
	dels := make([]*redis.IntCmd, len(ids))
	_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, rec := range recs {
			if rec != nil && rec.User == user {
				dels[i] = p.Del(ctx, r.sessionKey(ids[i]))
			}
		}
		// Only the ids read: an id added meanwhile stays listed.
		p.ZRem(ctx, uk, toAny(ids)...)
		return nil
	})
	if err != nil {
		return 0, unavailable("delete user", err)
	}
	n := 0
	for i, d := range dels {
		if d != nil && d.Val() == 1 && now.Before(recs[i].Expires) {
			n++
		}
	}
	return n, nil
}

// List returns the live sessions of user, newest first, and prunes the
// user's index of ids without a live session of that user.
func (r *Redis) List(ctx context.Context, user string) ([]Session, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	now := r.now()
	recs, ids, err := r.index(ctx, user)
	if err != nil {
		return nil, unavailable("list", err)
	}
	var out []Session
	var stale []any
	for i, rec := range recs {
		if rec == nil || rec.User != user || !now.Before(rec.Expires) {
			stale = append(stale, ids[i])
			continue
		}
		out = append(out, rec.Session)
	}
	if len(stale) > 0 {
		// Housekeeping: the answer stands if it fails, and the next List
		// tries again.
		r.client.ZRem(ctx, r.userKey(user), stale...)
	}
	sortNewestFirst(out)
	return out, nil
}

// index returns the ids in user's index and their records, nil where the
// session is gone.
func (r *Redis) index(ctx context.Context, user string) ([]*record, []string, error) {
	ids, err := r.client.ZRange(ctx, r.userKey(user), 0, -1).Result()
	if err != nil || len(ids) == 0 {
		return nil, nil, err
	}
	gets := make([]*redis.StringCmd, len(ids))
	_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			gets[i] = p.Get(ctx, r.sessionKey(id))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, err
	}
	recs := make([]*record, len(ids))
	for i, g := range gets {
		data, err := g.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		rec, err := decode(ids[i], data)
		if err != nil {
			return nil, nil, err
		}
		recs[i] = &rec
	}
	return recs, ids, nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
