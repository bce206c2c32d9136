package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// The sign-in log's price (issue 3): rows against a gateway that keeps no
// durable log and the same rows against the normal gateway, measured in
// rounds of off, on, on, off and added up per gateway, so that a drift of
// the shared machine during the runs weighs on both sides alike.
//
// Without a durable log, a gateway writes a log line for every decision
// (log.decisions defaults to all), its only record; with one, lines for
// refusals only. The log-off gateway keeps the lines of the log-on one
// (decisions: refused), so that the pair prices the sign-in log alone,
// not the sign-in log against another way of recording every decision.
const (
	logOnMinRatio   = 0.9
	logOffConfigTag = "  store: none # bench: the sign-in log switched off\n  decisions: refused # the lines the log-on gateway writes\n"
)

// logPricedRows are the rows measured with the log off and on: the
// API-key proxy row, and forward-auth with a JWT, where the log's share of
// the work is largest (the upstream row (a) does not pay it).
var logPricedRows = []string{"proxy/api_key", "verify/jwt-ES256"}

// logPricedRowsMatching returns the rows of logPricedRows whose log-off
// or log-on row run matches (all of them when run is nil).
func logPricedRowsMatching(run *regexp.Regexp) []string {
	var names []string
	for _, name := range logPricedRows {
		if run == nil || run.MatchString(name+",log-off") || run.MatchString(name+",log-on") {
			names = append(names, name)
		}
	}
	return names
}

// measureLogPrice runs the pairs of rows names. The log-off gateway shares
// the run's data folder (the same users and keys) but writes no events.
func measureLogPrice(ctx context.Context, binary, dir string, fx *Fixture, on *child, names []string, load LoadOptions, log io.Writer, children *[]*child) ([]Row, error) {
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
	var rows []Row
	for _, name := range names {
		offRow, onRow, err := logPair(ctx, name, off, on, fx, load, log)
		if err != nil {
			return nil, err
		}
		rows = append(rows, offRow, onRow)
	}
	return rows, off.stop()
}

// logPair measures row name against the log-off and the log-on gateway in
// logRounds(load.Duration) rounds of off, on, on, off, and returns the sums
// as the rows "name,log-off" and "name,log-on". Each gateway is measured
// for 2 × load.Duration in all, in slices of load.Duration / rounds, so
// that a drift of the shared machine over seconds (its CPU time per
// request moved by 40 % between two rows of the same gateway) weighs on
// both sides alike; only the first slice of each gateway is warmed up for
// load.Warmup, the later ones for a quarter second.
func logPair(ctx context.Context, name string, off, on *child, fx *Fixture, load LoadOptions, log io.Writer) (Row, Row, error) {
	offS, onS := findScenario(off.URL, fx, name), findScenario(on.URL, fx, name)
	if offS == nil || onS == nil {
		return Row{}, Row{}, fmt.Errorf("bench: no row %q to price the sign-in log with", name)
	}
	offS.Name, offS.Group, offS.About = name+",log-off", "sign-in log", offS.About+"; with log.store: none (no durable sign-in log)"
	onS.Name, onS.Group, onS.About = name+",log-on", "sign-in log", onS.About+"; the normal gateway (SQLite sign-in log)"
	offS.MinRatio, onS.CompareTo, onS.MinRatio = 0, offS.Name, logOnMinRatio
	if offS.CompareTo != rowUpstream { // forward-auth rows keep their ratio to (a), shown
		offS.CompareTo = ""
	}
	sums := map[string]*LoadResult{}
	rounds := logRounds(load.Duration)
	var order []*Scenario
	for range rounds {
		order = append(order, offS, onS, onS, offS)
	}
	for _, s := range order {
		l := load
		if l.ServerCPU = on.CPU; s == offS {
			l.ServerCPU = off.CPU
		}
		l.Duration = load.Duration / time.Duration(rounds)
		if sums[s.Name] != nil {
			l.Warmup = min(load.Warmup, 250*time.Millisecond)
		}
		res, err := Load(ctx, s.Target, l)
		if err != nil {
			return Row{}, Row{}, err
		}
		fmt.Fprintf(log, "[log] %-28s %7.0f rps  p50 %6.2f ms  p99 %6.2f ms  cpu %5.1f µs  errors %d\n", s.Name, res.RPS(),
			ms(res.Latency.Quantile(0.5)), ms(res.Latency.Quantile(0.99)), float64(res.CPUPerRequest())/float64(time.Microsecond), res.Errors)
		if sums[s.Name] == nil {
			sums[s.Name] = res
		} else {
			sums[s.Name].add(res)
		}
		time.Sleep(250 * time.Millisecond)
	}
	return newRow(*offS, sums[offS.Name]), newRow(*onS, sums[onS.Name]), nil
}

// logRounds is how many rounds of off, on, on, off a pair runs: four, or
// fewer so that no slice is shorter than two seconds.
func logRounds(d time.Duration) int {
	return int(min(4, max(1, d/(2*time.Second))))
}

// findScenario returns a copy of the row called name, aimed at gateway.
func findScenario(gateway string, fx *Fixture, name string) *Scenario {
	for _, s := range scenarios("", "", gateway, fx) {
		if s.Name == name {
			return &s
		}
	}
	return nil
}
