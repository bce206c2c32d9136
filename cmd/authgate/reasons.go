package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/authgate/authgate/reason"
)

func reasonsCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "reasons",
		Short: "Print the reason catalogue",
		Args:  cobra.NoArgs,
	}
	format := c.Flags().String("format", "table", "table, json or markdown")
	c.RunE = func(*cobra.Command, []string) error {
		switch *format {
		case "json":
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(reason.All())
		case "markdown":
			return reason.WriteMarkdown(e.stdout)
		case "table":
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "CODE\tSTATUS\tVISIBILITY\tMESSAGE\tHINT")
			for _, r := range reason.All() {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", r.Code, r.Status, r.Visibility, r.Message, r.Hint)
			}
			return w.Flush()
		}
		return usagef("unknown --format %q — use table, json or markdown", *format)
	}
	return c
}
