package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
)

// generateCmd fills a sign-in log with made-up events, to try the queries
// and measure them at size (e.g. 1 000 000 events over 30 days).
func generateCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "generate --events N",
		Short: "Fill an empty sign-in log with realistic made-up events (for trials and benchmarks)",
		Args:  cobra.NoArgs,
	}
	path := configFlag(c)
	n := c.Flags().Int("events", 1_000_000, "how many events")
	days := c.Flags().Int("days", 30, "spread them over this many days up to now")
	seed := c.Flags().Int64("seed", 1, "the same seed gives the same events")
	force := c.Flags().Bool("force", false, "add them even though the log already holds events")
	c.RunE = func(c *cobra.Command, _ []string) error {
		if *n < 1 || *days < 1 {
			return usagef("--events and --days must be at least 1")
		}
		ctx := c.Context()
		_, events, err := openEvents(ctx, *path)
		if err != nil {
			return err
		}
		defer events.Close()
		if existing, _, err := events.Query(ctx, signinlog.Filter{}, signinlog.Page{Limit: 1}); err != nil {
			return err
		} else if len(existing) > 0 && !*force {
			return usagef("the sign-in log already holds events; made-up ones would mix with them — use an empty log (another data_dir or database), or --force")
		}
		span := time.Duration(*days) * 24 * time.Hour
		start, began := time.Now().Add(-span), time.Now()
		batch := make([]*authgate.Decision, 0, 1000)
		written := 0
		flush := func() error {
			if err := events.Write(ctx, batch); err != nil {
				return err
			}
			written += len(batch)
			batch = batch[:0]
			if written%100_000 == 0 {
				fmt.Fprintf(e.stderr, "%d events…\n", written)
			}
			return nil
		}
		for d := range signinlog.Synthetic(*n, start, span, *seed) {
			if batch = append(batch, d); len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		took := time.Since(began)
		fmt.Fprintf(e.stdout, "%d made-up events written over the last %d days in %s (%.0f events/s)\n", written, *days, took.Round(time.Millisecond), float64(written)/took.Seconds())
		return nil
	}
	return c
}
