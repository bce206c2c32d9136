package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/signinlog"
)

func keysCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "keys", Short: "Manage API keys"}

	create := &cobra.Command{
		Use:   "create --owner O --scopes S [--expires D]",
		Short: "Create an API key; it is printed once and only its hash is stored",
		Args:  cobra.NoArgs,
	}
	owner := create.Flags().String("owner", "", "who the key belongs to (required)")
	scopes := create.Flags().String("scopes", "", "comma-separated scopes")
	expires := create.Flags().String("expires", "", "lifetime, e.g. 90d or 12h (default: never expires)")
	withStore(create, func(_ *config.Config, st accounts.Store, _ []string) error {
		if *owner == "" {
			return usagef("--owner is required — say who the key belongs to, e.g. --owner billing-service")
		}
		var at time.Time
		if *expires != "" {
			d, err := durationFlag("expires", *expires)
			if err != nil {
				return err
			}
			at = time.Now().Add(d)
		}
		iss, err := st.CreateKey(context.Background(), *owner, splitList(*scopes), at)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "key %s created for %s; this is the only time it is shown:\n", iss.ID, iss.Owner)
		fmt.Fprintln(e.stdout, iss.Key)
		return nil
	})

	rotate := &cobra.Command{
		Use:   "rotate ID [--overlap D]",
		Short: "Issue a successor key; the old one keeps working for the overlap period, then fails as key_rotated",
		Args:  cobra.ExactArgs(1),
	}
	overlap := rotate.Flags().String("overlap", "24h", "how long the old key keeps working, e.g. 0, 1h or 7d")
	withStore(rotate, func(_ *config.Config, st accounts.Store, args []string) error {
		d, err := durationFlag("overlap", *overlap)
		if err != nil {
			return err
		}
		iss, err := st.RotateKey(context.Background(), args[0], d)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "key %s replaces %s; %s works until %s. The new key, shown only now:\n", iss.ID, args[0], args[0], time.Now().Add(d).UTC().Format(time.RFC3339))
		fmt.Fprintln(e.stdout, iss.Key)
		return nil
	})

	revoke := &cobra.Command{Use: "revoke ID", Short: "Revoke a key at once", Args: cobra.ExactArgs(1)}
	withStore(revoke, func(_ *config.Config, st accounts.Store, args []string) error {
		if err := st.RevokeKey(context.Background(), args[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "key %s revoked\n", args[0])
		return nil
	})

	list := &cobra.Command{Use: "list", Short: "List keys with their state and last use", Args: cobra.NoArgs}
	listPath := configFlag(list)
	list.RunE = func(c *cobra.Command, _ []string) error {
		ctx := c.Context()
		cfg, st, err := openStore(ctx, *listPath)
		if err != nil {
			return err
		}
		defer st.Close()
		keys, err := st.Keys(ctx)
		if err != nil {
			return err
		}
		use := newKeyUsage(ctx, cfg)
		defer use.close()
		now := time.Now()
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tOWNER\tSCOPES\tSTATE\tCREATED\tEXPIRES\tLAST USED\tNOTE")
		for _, k := range keys {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Owner, orDash(strings.Join(k.Scopes, " ")), keyState(k, now),
				stamp(k.CreatedAt), stampOr(k.ExpiresAt, "never"), use.lastUsed(k.ID), use.note(k, now))
		}
		if use.err != nil {
			fmt.Fprintf(w, "\n(last use unknown: %v)\n", use.err)
		}
		return w.Flush()
	}

	show := &cobra.Command{Use: "show ID", Short: "Show a key's state, its last use and, once rotated out, who still presents it", Args: cobra.ExactArgs(1)}
	showPath := configFlag(show)
	show.RunE = func(c *cobra.Command, args []string) error {
		ctx := c.Context()
		cfg, st, err := openStore(ctx, *showPath)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.Refresh(ctx); err != nil {
			return err
		}
		k, err := st.APIKey(ctx, args[0])
		if err != nil {
			return storeError(accounts.UnknownKey(args[0]))
		}
		now := time.Now()
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		field := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
		field("key", k.ID)
		field("owner", k.Owner)
		field("state", keyState(k, now))
		field("scopes", orDash(strings.Join(k.Scopes, " ")))
		field("created", when(k.CreatedAt, now))
		field("expires", whenOr(k.ExpiresAt, now, "never"))
		if !k.RotatedAt.IsZero() {
			field("rotated", fmt.Sprintf("%s, replaced by %s; works until %s", when(k.RotatedAt, now), k.Successor, when(k.OverlapUntil, now)))
		}
		if !k.RevokedAt.IsZero() {
			field("revoked", when(k.RevokedAt, now))
		}
		if !k.DisabledAt.IsZero() {
			field("disabled", when(k.DisabledAt, now))
		}
		use := newKeyUsage(ctx, cfg)
		defer use.close()
		if use.err == nil && !k.RotatedAt.IsZero() {
			field("presented since rotation", use.sinceRotation(k))
		}
		activity(ctx, cfg, field, signinlog.Filter{KeyID: k.ID}, now)
		return w.Flush()
	}

	disable := &cobra.Command{Use: "disable ID", Short: "Disable a key (api_key_disabled) without revoking it", Args: cobra.ExactArgs(1)}
	withStore(disable, func(_ *config.Config, st accounts.Store, args []string) error {
		if err := st.SetKeyDisabled(context.Background(), args[0], true); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "key %s disabled; 'authgate keys enable %s' undoes it\n", args[0], args[0])
		return nil
	})
	enable := &cobra.Command{Use: "enable ID", Short: "Enable a disabled key", Args: cobra.ExactArgs(1)}
	withStore(enable, func(_ *config.Config, st accounts.Store, args []string) error {
		if err := st.SetKeyDisabled(context.Background(), args[0], false); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "key %s enabled\n", args[0])
		return nil
	})

	c.AddCommand(create, rotate, revoke, list, show, disable, enable)
	return c
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") }

// keyState names a key's state at now: active, rotated (in overlap or
// out), revoked, expired, and disabled on top of any of them.
func keyState(k authgate.APIKey, now time.Time) string {
	s := string(k.State)
	switch {
	case k.State == authgate.KeyRotated && now.Before(k.OverlapUntil):
		s = "rotated (overlap)"
	case k.State == authgate.KeyRotated:
		s = "rotated out"
	case k.State == authgate.KeyActive && !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		s = "expired"
	}
	if !k.DisabledAt.IsZero() {
		s += ", disabled"
	}
	return s
}

func whenOr(t, now time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return when(t, now)
}

func stampOr(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return stamp(t)
}
