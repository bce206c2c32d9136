package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/htpasswd"
)

// chain looks a user up in each store in turn: the gateway's own store
// first, then a users file read as it is.
type chain []authgate.UserStore

func (c chain) User(ctx context.Context, name string) (authgate.User, error) {
	for _, s := range c {
		u, err := s.User(ctx, name)
		if !errors.Is(err, authgate.ErrNotFound) {
			return u, err
		}
	}
	return authgate.User{}, authgate.ErrNotFound
}

// reloadEvery rereads a users file when it changes, so edits made with
// htpasswd take effect without a restart.
func reloadEvery(ctx context.Context, f *htpasswd.File, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := f.Reload(); err != nil {
				log.Warn("users file not reloaded; the previous version stays in use", "error", err)
			}
		}
	}
}
