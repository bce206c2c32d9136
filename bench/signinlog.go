package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The sign-in log's price (issue 3): the API-key proxy row against a
// gateway that keeps no durable log, then against the normal gateway, back
// to back so that the machine's drift between them is small.
const (
	rowLogOff       = "proxy/api_key,log-off"
	rowLogOn        = "proxy/api_key,log-on"
	logOnMinRatio   = 0.9
	logOffConfigTag = "  store: none # bench: the sign-in log switched off\n"
)

// measureLogPrice runs the pair. The log-off gateway shares the run's data
// folder (the same users and keys) but writes no events.
func measureLogPrice(ctx context.Context, binary, dir string, fx *Fixture, on *child, load LoadOptions, log io.Writer, children *[]*child) ([]Row, error) {
	text, err := os.ReadFile(fx.ConfigPath)
	if err != nil {
		return nil, err
	}
	offText := strings.Replace(string(text), "  store: sqlite\n", logOffConfigTag, 1)
	if offText == string(text) {
		return nil, fmt.Errorf("bench: no log: section in %s to switch the sign-in log off", fx.ConfigPath)
	}
	offPath := filepath.Join(dir, "authgate-log-off.yaml")
	if err := os.WriteFile(offPath, []byte(offText), 0o600); err != nil {
		return nil, err
	}
	off, err := startGateway(binary, offPath, filepath.Join(dir, "authgate-log-off.log"))
	if err != nil {
		return nil, err
	}
	*children = append(*children, off)
	pair := []Scenario{
		{Name: rowLogOff, Group: "sign-in log", About: "proxy mode, API key, with log.store: none (no durable sign-in log)",
			Target: apiKeyTarget(off.URL, fx)},
		{Name: rowLogOn, Group: "sign-in log", About: "the same against the normal gateway (SQLite sign-in log), right after",
			Target: apiKeyTarget(on.URL, fx), CompareTo: rowLogOff, MinRatio: logOnMinRatio},
	}
	var rows []Row
	for _, s := range pair {
		res, err := Load(ctx, s.Target, load)
		if err != nil {
			return nil, err
		}
		row := newRow(s, res)
		rows = append(rows, row)
		fmt.Fprintf(log, "[log] %-26s %7.0f rps  p50 %6.2f ms  p99 %6.2f ms  errors %d\n", s.Name, row.RPS, row.P50ms, row.P99ms, row.Errors)
		time.Sleep(250 * time.Millisecond)
	}
	return rows, off.stop()
}

func apiKeyTarget(base string, fx *Fixture) Target {
	return Target{URL: base + "/bench/hello", Header: map[string][]string{"X-API-Key": {fx.APIKey}}, Expect: []int{200}}
}
