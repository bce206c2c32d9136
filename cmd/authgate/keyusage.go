package main

import (
	"context"
	"fmt"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/server"
	"github.com/authgate/authgate/signinlog"
)

// keyUsage answers, from the sign-in log, when each key was last used and
// how often a rotated-out key is still presented. The log being off or
// unreadable is recorded in err and shown, never fatal: the keys' own
// state is still worth listing.
type keyUsage struct {
	ctx    context.Context
	events signinlog.Store
	err    error
}

func newKeyUsage(ctx context.Context, cfg *config.Config) *keyUsage {
	u := &keyUsage{ctx: ctx}
	if cfg.Log.Store == config.LogStoreNone {
		u.err = fmt.Errorf("log.store is none, so uses are not recorded")
		return u
	}
	u.events, u.err = server.OpenEventStore(ctx, cfg)
	return u
}

func (u *keyUsage) close() {
	if u.events != nil {
		u.events.Close()
	}
}

// lastUsed is when key id was last accepted, "-" when never or unknown.
func (u *keyUsage) lastUsed(id string) string {
	if u.err != nil {
		return "?"
	}
	found, _, err := u.events.Query(u.ctx, signinlog.Filter{KeyID: id, Outcome: "allow"}, signinlog.Page{Limit: 1})
	if err != nil {
		u.err = err
		return "?"
	}
	if len(found) == 0 {
		return "-"
	}
	return stamp(found[0].Time)
}

// note says what an admin should know of k in a listing.
func (u *keyUsage) note(k authgate.APIKey, now time.Time) string {
	switch {
	case k.Successor != "":
		n := fmt.Sprintf("replaced by %s; works until %s", k.Successor, stamp(k.OverlapUntil))
		if u.err == nil {
			n += "; " + u.sinceRotation(k)
		}
		return n
	case !k.RevokedAt.IsZero():
		return "revoked " + stamp(k.RevokedAt)
	}
	return ""
}

// sinceRotation counts the events presenting rotated-out key k since its
// rotation, and how many of them were refused as key_rotated.
func (u *keyUsage) sinceRotation(k authgate.APIKey) string {
	groups, err := u.events.Stats(u.ctx, signinlog.Filter{KeyID: k.ID, Since: k.RotatedAt}, signinlog.ByReason)
	if err != nil {
		u.err = err
		return "uses since rotation unknown"
	}
	var all, refused int64
	for _, g := range groups {
		all += g.Count
		if reason.Code(g.Key) == reason.KeyRotated {
			refused += g.Count
		}
	}
	if all == 0 {
		return "not presented since its rotation"
	}
	return fmt.Sprintf("presented %d time(s) since its rotation, %d of them refused as key_rotated", all, refused)
}
