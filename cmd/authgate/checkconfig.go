package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func checkConfigCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "check-config FILE",
		Short: "Validate a configuration file without starting anything",
		Long: `Validates a configuration file and prints every problem as
FILE:LINE: what is wrong — how to fix it. Exits 2 when the file has problems.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			cfg, err := loadConfig(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s: OK — %d route(s), %d issuer(s), listening on %s\n", cfg.File, len(cfg.Routes), len(cfg.Issuers), cfg.Listen)
			for _, r := range cfg.Routes {
				host := r.Host
				if host == "" {
					host = "*"
				}
				up := "(forward-auth only)"
				if r.Upstream != nil {
					up = r.Upstream.Redacted()
				}
				accept := make([]string, len(r.Accept))
				for i, m := range r.Accept {
					accept[i] = string(m)
				}
				fmt.Fprintf(e.stdout, "  route %-12s %s%s → %s  accepts %s, detail %s\n", r.Name, host, r.Path, up, strings.Join(accept, ", "), r.Detail)
			}
			return nil
		},
	}
}
