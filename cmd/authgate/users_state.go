package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/server"
	"github.com/authgate/authgate/signinlog"
)

// userStateCmds are the commands that change or show a user's state.
func userStateCmds(e *env) []*cobra.Command {
	disable := &cobra.Command{Use: "disable NAME", Short: "Disable a user: its password is refused (account_disabled) until enabled", Args: cobra.ExactArgs(1)}
	withStore(disable, func(_ *config.Config, st accounts.Store, args []string) error {
		if err := st.SetUserDisabled(context.Background(), args[0], true); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s disabled; every gateway refuses it within its store.refresh_interval\n", args[0])
		return nil
	})

	enable := &cobra.Command{Use: "enable NAME", Short: "Enable a disabled user", Args: cobra.ExactArgs(1)}
	withStore(enable, func(_ *config.Config, st accounts.Store, args []string) error {
		if err := st.SetUserDisabled(context.Background(), args[0], false); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s enabled\n", args[0])
		return nil
	})

	unlock := &cobra.Command{
		Use:   "unlock NAME",
		Short: "End a user's lock after repeated failures, on every gateway",
		Long: `Ends the account lock recorded in the store and every failure-counter lock
of the user that began before now — the whole account and each (user, source)
pair — on every gateway sharing the store, within its store.refresh_interval.
Locks of source addresses are not lifted: they hold every user's attempts
from that address.`,
		Args: cobra.ExactArgs(1),
	}
	withStore(unlock, func(_ *config.Config, st accounts.Store, args []string) error {
		was, err := st.UnlockUser(context.Background(), args[0])
		if err != nil {
			return err
		}
		if was {
			fmt.Fprintf(e.stdout, "user %s unlocked\n", args[0])
		} else {
			fmt.Fprintf(e.stdout, "user %s had no account lock; any lock of it from one source ends too\n", args[0])
		}
		return nil
	})

	expire := &cobra.Command{Use: "expire-password NAME", Short: "Refuse the user's current password (password_change_required) until a new one is set", Args: cobra.ExactArgs(1)}
	withStore(expire, func(_ *config.Config, st accounts.Store, args []string) error {
		if err := st.RequirePasswordChange(context.Background(), args[0]); err != nil {
			return err
		}
		// A password an admin distrusts ends the sessions made with it.
		if err := st.RevokeSessions(context.Background(), args[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s must change its password, and its sessions ended; set the new one with 'authgate users set-password %s'\n", args[0], args[0])
		return nil
	})

	reset2fa := &cobra.Command{Use: "reset-2fa NAME", Short: "Remove a user's authenticator app and recovery codes; the next sign-in enrolls again", Args: cobra.ExactArgs(1)}
	withStore(reset2fa, func(_ *config.Config, st accounts.Store, args []string) error {
		// Sessions end first: a session that passed only the password
		// must not become a full one between the two writes.
		u, err := st.User(context.Background(), args[0])
		if err != nil {
			return accounts.UnknownUser(args[0])
		}
		if !u.Enrolled() {
			return fmt.Errorf("%w: user %q has no second factor enrolled, so there is nothing to reset; nothing was changed", accounts.ErrState, args[0])
		}
		if err := st.RevokeSessions(context.Background(), args[0]); err != nil {
			return err
		}
		if err := st.ResetTOTP(context.Background(), args[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "2-step verification of %s removed and its sessions ended; it sets up a new app at its next sign-in\n", args[0])
		return nil
	})

	signOut := &cobra.Command{Use: "sign-out NAME", Short: "End every session of a user, on every gateway (within store.refresh_interval)", Args: cobra.ExactArgs(1)}
	withStore(signOut, func(_ *config.Config, st accounts.Store, args []string) error {
		if err := st.RevokeSessions(context.Background(), args[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "every session of %s ended; its next request is refused as session_revoked\n", args[0])
		return nil
	})

	show := &cobra.Command{Use: "show NAME", Short: "Show a user's state, lock and recent sign-in activity", Args: cobra.ExactArgs(1)}
	path := configFlag(show)
	show.RunE = func(c *cobra.Command, args []string) error {
		ctx := c.Context()
		cfg, st, err := openStore(ctx, *path)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Refresh(ctx); err != nil {
			return err
		}
		u, err := st.User(ctx, args[0])
		if err != nil {
			return storeError(accounts.UnknownUser(args[0]))
		}
		now := time.Now()
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		field := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
		field("user", u.Name)
		field("state", u.State(now))
		field("scopes", orDash(strings.Join(u.Scopes, " ")))
		field("created", when(u.CreatedAt, now))
		field("password", fmt.Sprintf("%s hash, set %s", passhash.Name(u.PasswordHash), when(u.PasswordChangedAt, now)))
		if cfg.Passwords.MaxAge > 0 && !u.PasswordChangedAt.IsZero() {
			field("password expires", when(u.PasswordChangedAt.Add(cfg.Passwords.MaxAge), now))
		}
		if u.MustChangePassword {
			field("must change password", "yes: the current password is refused with password_change_required")
		}
		field("previous passwords", fmt.Sprintf("%d kept (recognised for %s after a change)", len(u.Previous), config.FormatDuration(cfg.Passwords.KeepPrevious)))
		if u.Disabled() {
			field("disabled", when(u.DisabledAt, now))
		}
		if u.Locked(now) {
			field("locked", fmt.Sprintf("%s until %s: %s", when(u.LockedAt, now), when(u.LockedUntil, now), u.LockCause))
		}
		if !u.UnlockedAt.IsZero() {
			field("last unlocked", when(u.UnlockedAt, now))
		}
		if u.Enrolled() {
			field("2-step verification", fmt.Sprintf("on since %s; %d recovery code(s) left", when(u.TOTPEnrolledAt, now), len(u.RecoveryCodes)))
		} else {
			field("2-step verification", "off")
		}
		if !u.SessionsRevokedAt.IsZero() {
			field("sessions ended", when(u.SessionsRevokedAt, now))
		}
		activity(ctx, cfg, field, signinlog.Filter{User: u.Name}, now)
		return w.Flush()
	}
	return []*cobra.Command{disable, enable, unlock, expire, reset2fa, signOut, show}
}

// activity adds what the sign-in log knows of one user or key: its last
// success and its refusals over the last 24 hours. A sign-in log that
// cannot be read is a line saying so, not an error: the store's own state
// is still worth seeing.
func activity(ctx context.Context, cfg *config.Config, field func(k, v string), f signinlog.Filter, now time.Time) {
	if cfg.Log.Store == config.LogStoreNone {
		field("sign-ins", "not recorded (log.store is none)")
		return
	}
	events, err := server.OpenEventStore(ctx, cfg)
	if err != nil {
		field("sign-ins", "the sign-in log cannot be read: "+err.Error())
		return
	}
	defer events.Close()
	ok := f
	ok.Outcome = "allow"
	last, _, err := events.Query(ctx, ok, signinlog.Page{Limit: 1})
	switch {
	case err != nil:
		field("last success", "unknown: "+err.Error())
	case len(last) == 0:
		field("last success", "none in the sign-in log")
	default:
		field("last success", fmt.Sprintf("%s from %s (request %s)", when(last[0].Time, now), last[0].Source, last[0].RequestID))
	}
	bad := f
	bad.Outcome, bad.Since = "deny", now.Add(-24*time.Hour)
	groups, err := events.Stats(ctx, bad, signinlog.ByReason)
	if err != nil {
		field("refusals (24 h)", "unknown: "+err.Error())
		return
	}
	field("refusals (24 h)", countList(groups))
}

// countList writes grouped counts as "412 key_rotated, 3 api_key_expired".
func countList(groups []signinlog.Count) string {
	if len(groups) == 0 {
		return "none"
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		parts[i] = fmt.Sprintf("%d %s", g.Count, orDash(g.Key))
	}
	return strings.Join(parts, ", ")
}

// listUsers writes the users table of `users list`.
func listUsers(out io.Writer, users []authgate.User, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tSTATE\tHASH\tSCOPES\tPASSWORD CHANGED\tPREVIOUS KEPT\tNOTE")
	for _, u := range users {
		note := ""
		switch {
		case u.Locked(now):
			note = "locked until " + stamp(u.LockedUntil) + ": " + u.LockCause
		case u.Disabled():
			note = "disabled " + stamp(u.DisabledAt)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", u.Name, u.State(now), passhash.Name(u.PasswordHash), orDash(strings.Join(u.Scopes, " ")),
			stamp(u.PasswordChangedAt), len(u.Previous), note)
	}
	return w.Flush()
}

// when writes t with how long ago it was: "2026-11-30 10:00Z (2 days ago)".
func when(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return stamp(t) + " (" + authgate.Ago(now, t) + ")"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
