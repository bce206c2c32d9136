package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/sqlite"
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
	withStore(create, func(_ *config.Config, st *sqlite.Store, _ []string) error {
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
	withStore(rotate, func(_ *config.Config, st *sqlite.Store, args []string) error {
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
	withStore(revoke, func(_ *config.Config, st *sqlite.Store, args []string) error {
		if err := st.RevokeKey(context.Background(), args[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "key %s revoked\n", args[0])
		return nil
	})

	list := &cobra.Command{Use: "list", Short: "List keys with their state", Args: cobra.NoArgs}
	withStore(list, func(_ *config.Config, st *sqlite.Store, _ []string) error {
		keys, err := st.Keys(context.Background())
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tOWNER\tSCOPES\tSTATE\tCREATED\tEXPIRES\tNOTE")
		for _, k := range keys {
			note := ""
			switch {
			case k.Successor != "":
				note = fmt.Sprintf("replaced by %s; works until %s", k.Successor, stamp(k.OverlapUntil))
			case !k.RevokedAt.IsZero():
				note = "revoked " + stamp(k.RevokedAt)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Owner, strings.Join(k.Scopes, " "), k.State, stamp(k.CreatedAt), stampOr(k.ExpiresAt, "never"), note)
		}
		return w.Flush()
	})

	c.AddCommand(create, rotate, revoke, list)
	return c
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04Z") }

func stampOr(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return stamp(t)
}
