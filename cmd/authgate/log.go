package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/server"
	"github.com/authgate/authgate/signinlog"
)

func explainCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "explain REQUEST_ID",
		Short: "Explain a decision from the sign-in log, by request id",
		Long: `Prints what happened to one request: what was presented (never a secret),
each check in order with its values, the one that decided, how to fix it,
and context worth knowing (a rotated key's successor, an old password still
in use, an issuer whose clock is off).`,
		Args: cobra.ExactArgs(1),
	}
	path := configFlag(c)
	c.RunE = func(c *cobra.Command, args []string) error {
		ctx := c.Context()
		cfg, events, err := openEvents(ctx, *path)
		if err != nil {
			return err
		}
		defer events.Close()
		found, err := events.Get(ctx, args[0])
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return fmt.Errorf("no event has request id %q — check the id (it is in the X-Request-Id header and the problem document), and that it is younger than log.retention_days (%d)", args[0], cfg.Log.RetentionDays)
		}
		users, err := openAccounts(ctx, cfg)
		if err != nil {
			return err
		}
		defer users.Close()
		for i, d := range found {
			if i > 0 {
				fmt.Fprintln(e.stdout, "\n---")
			}
			cx, err := signinlog.Gather(ctx, d, events, users, users, time.Now())
			if err != nil {
				return err
			}
			if err := signinlog.Explain(e.stdout, d, cx); err != nil {
				return err
			}
		}
		return nil
	}
	return c
}

// openEvents loads the configuration at path and opens its sign-in log.
func openEvents(ctx context.Context, path string) (*config.Config, signinlog.Store, error) {
	cfg, err := loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	events, err := server.OpenEventStore(ctx, cfg)
	return cfg, events, err
}

func logCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "log",
		Short: "List sign-in events, with filters; --follow streams, --stats counts",
		Args:  cobra.NoArgs,
	}
	path := configFlag(c)
	vals := map[string]*string{}
	help := map[string]string{
		"user": "user name (claimed or proved)", "key": "API key id", "route": "route name", "method": "basic, api_key or bearer",
		"reason": "reason code", "outcome": "allow or deny", "ip": "address or CIDR", "since": "duration (1h, 7d) or time",
		"until": "duration or time", "request_id": "request id", "fingerprint": "secret fingerprint",
	}
	for _, p := range signinlog.FilterParams {
		vals[p] = c.Flags().String(strings.ReplaceAll(p, "_", "-"), "", help[p])
	}
	format := c.Flags().String("format", "table", "table or json (one JSON object per line)")
	limit := c.Flags().Int("limit", 50, "how many events (1-1000)")
	follow := c.Flags().BoolP("follow", "f", false, "keep printing new events")
	stats := c.Flags().Bool("stats", false, "count events instead of listing them")
	by := c.Flags().String("by", "reason", "with --stats: reason, route or user")
	c.RunE = func(c *cobra.Command, _ []string) error {
		if *format != "table" && *format != "json" {
			return usagef("--format %q — use table or json", *format)
		}
		if *limit < 1 || *limit > 1000 {
			return usagef("--limit %d — use 1 to 1000", *limit)
		}
		f, err := signinlog.ParseFilter(func(p string) string { return *vals[p] }, time.Now())
		var fe *signinlog.FilterError
		if errors.As(err, &fe) {
			return usagef("--%s %q: %s — %s", strings.ReplaceAll(fe.Param, "_", "-"), fe.Value, fe.Msg, fe.Fix)
		}
		ctx := c.Context()
		_, events, err := openEvents(ctx, *path)
		if err != nil {
			return err
		}
		defer events.Close()
		if *stats {
			return printStats(ctx, e.stdout, events, f, signinlog.GroupBy(*by))
		}
		page, _, err := events.Query(ctx, f, signinlog.Page{Limit: *limit})
		if err != nil {
			return err
		}
		slices.Reverse(page) // oldest first, like a log
		p := newPrinter(e.stdout, *format)
		p.print(page)
		if !*follow {
			return nil
		}
		return followLog(ctx, events, f, page, p)
	}
	c.AddCommand(generateCmd(e))
	return c
}

// lateness is how long after its decision an event may still reach the
// store (a slow password check, a batch, a spool replaying after an
// outage); follow re-reads that much of the past so it never skips one.
const lateness = time.Minute

// followLog prints events as they reach the store until ctx ends (Ctrl-C).
// Each poll re-reads an overlapping window, page by page, and prints what
// it has not printed yet; late events are printed when they arrive, not
// skipped. What falls out of the window is forgotten, so memory stays
// bounded however long it runs.
func followLog(ctx context.Context, events signinlog.Store, f signinlog.Filter, seen []*authgate.Decision, p *printer) error {
	printed := map[string]time.Time{}
	var last time.Time
	mark := func(d *authgate.Decision) {
		printed[key(d)] = d.Time
		if d.Time.After(last) {
			last = d.Time
		}
	}
	for _, d := range seen {
		mark(d)
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		g := f
		if from := last.Add(-lateness); !last.IsZero() && from.After(g.Since) {
			g.Since = from
		}
		var fresh []*authgate.Decision
		for cursor := ""; ; {
			page, next, err := events.Query(ctx, g, signinlog.Page{Limit: 1000, Cursor: cursor})
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			for _, d := range page {
				if _, ok := printed[key(d)]; !ok {
					fresh = append(fresh, d)
				}
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		slices.SortStableFunc(fresh, func(a, b *authgate.Decision) int { return a.Time.Compare(b.Time) })
		for _, d := range fresh {
			mark(d)
		}
		p.print(fresh)
		for k, t := range printed {
			if t.Before(last.Add(-lateness)) {
				delete(printed, k)
			}
		}
	}
}

func key(d *authgate.Decision) string { return d.RequestID + "\x00" + d.Time.String() }

func printStats(ctx context.Context, w io.Writer, events signinlog.Store, f signinlog.Filter, by signinlog.GroupBy) error {
	if by != signinlog.ByReason && by != signinlog.ByRoute && by != signinlog.ByUser {
		return usagef("--by %q — use reason, route or user", by)
	}
	counts, err := events.Stats(ctx, f, by)
	if err != nil {
		return err
	}
	dropped, err := events.Dropped(ctx)
	if err != nil {
		return err
	}
	sort.SliceStable(counts, func(i, j int) bool { return counts[i].Count > counts[j].Count })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tEVENTS\n", strings.ToUpper(string(by)))
	var total int64
	for _, c := range counts {
		k := c.Key
		if k == "" {
			k = "(allowed)"
			if by != signinlog.ByReason {
				k = "(none)"
			}
		}
		fmt.Fprintf(tw, "%s\t%d\n", authgate.Printable(k), c.Count)
		total += c.Count
	}
	fmt.Fprintf(tw, "total\t%d\n", total)
	tw.Flush()
	if len(dropped) > 0 {
		var n int64
		var parts []string
		for r, c := range dropped {
			n += c
			parts = append(parts, fmt.Sprintf("%s %d", r, c))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "\n%d event(s) were dropped because the spool was full while the store was down (by reason: %s).\n", n, strings.Join(parts, ", "))
	}
	return nil
}

// printer prints events as a table or as JSON lines.
type printer struct {
	w      io.Writer
	json   bool
	header bool
}

func newPrinter(w io.Writer, format string) *printer { return &printer{w: w, json: format == "json"} }

func (p *printer) print(events []*authgate.Decision) {
	if p.json {
		enc := json.NewEncoder(p.w)
		for _, d := range events {
			enc.Encode(d)
		}
		return
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	if !p.header {
		fmt.Fprintln(tw, "TIME\tREQUEST ID\tROUTE\tMETHOD\tWHO\tSOURCE\tOUTCOME\tREASON")
		p.header = true
	}
	for _, d := range events {
		who := d.Claimed
		if d.Principal != nil {
			who = d.Principal.Subject
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Time.UTC().Format("2006-01-02 15:04:05"), authgate.Printable(d.RequestID), dash(d.Route), dash(string(d.Method)), dash(authgate.Printable(who)), d.Source, d.Outcome(), dash(string(d.Reason)))
	}
	tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
