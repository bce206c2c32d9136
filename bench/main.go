package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// options are the harness's flags.
type options struct {
	binary     string
	conns      int
	warmup     time.Duration
	duration   time.Duration
	run        *regexp.Regexp
	isolation  bool
	iso        IsolationOptions
	stuffing   StuffingOptions
	cpuprofile string
	profileRow string
	json       bool
	keep       bool
	logLevel   string
	signInLog  string
}

func main() {
	os.Exit(mainStatus(os.Args[1:]))
}

// mainStatus runs one command line: a server mode when the parent harness
// starts this program as a child, the harness otherwise.
func mainStatus(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.binary, "binary", "bin/authgate", "the authgate binary to measure")
	fs.IntVar(&o.conns, "conns", 32, "connections of the load generator, each with one request in flight")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured warm-up before each row")
	fs.DurationVar(&o.duration, "duration", 8*time.Second, "measured time of each row")
	runPattern := fs.String("run", "", "run only the rows matching this regexp (and the rows they are compared with)")
	fs.BoolVar(&o.isolation, "isolation", true, "measure isolation (e): the API-key p99 while a wrong-password burst runs")
	fs.IntVar(&o.iso.ProbeConns, "iso-conns", 4, "isolation: connections of the API-key probe")
	fs.Float64Var(&o.iso.ProbeRate, "iso-rate", 400, "isolation: the probe's total requests per second")
	fs.IntVar(&o.iso.Burst, "burst", 64, "isolation: connections sending wrong Basic passwords during the probe")
	fs.IntVar(&o.stuffing.Attempts, "stuffing-attempts", 50000, "stuffing (-run stuffing): wrong passwords the attack sends")
	fs.IntVar(&o.stuffing.Users, "stuffing-users", 500, "stuffing: user names the attempts are spread over")
	fs.IntVar(&o.stuffing.Sources, "stuffing-sources", 200, "stuffing: source addresses (X-Forwarded-For, 10.66.0.0/16) they come from")
	fs.IntVar(&o.stuffing.Conns, "stuffing-conns", 64, "stuffing: attack connections, each waiting for its answer")
	fs.DurationVar(&o.stuffing.MaxTime, "stuffing-max-time", 150*time.Second, "stuffing: the attack starts no attempt after this")
	fs.DurationVar(&o.stuffing.Patience, "stuffing-patience", 500*time.Millisecond, "stuffing: how long the attack waits for an answer before dropping the attempt and sending the next; 0 waits for every answer")
	fs.Float64Var(&o.stuffing.LegitRate, "stuffing-legit-rate", 20, "stuffing: the legitimate client's sign-ins per second")
	fs.DurationVar(&o.stuffing.Idle, "stuffing-idle", 5*time.Second, "stuffing: the legitimate client measured alone before the attack")
	fs.BoolVar(&o.stuffing.TargetLegit, "stuffing-target-legit", false, "stuffing: the attack targets the legitimate client's account too")
	fs.IntVar(&o.stuffing.MemoryKiB, "stuffing-memory-kib", 4096, "stuffing: argon2id memory of the run's password hashes (the product's default is 7168)")
	fs.IntVar(&o.stuffing.Iterations, "stuffing-iterations", 1, "stuffing: argon2id iterations (the product's default is 5)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "also run one row (-profile-row) against an in-process gateway and write its CPU profile to this file")
	fs.StringVar(&o.profileRow, "profile-row", rowProxyAPIKey, "the gateway row -cpuprofile repeats, or isolation")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON instead of tables")
	fs.StringVar(&o.logLevel, "log-level", "info", "the gateway's log level; keep info (the default, one decision line per request) except to price the log (warn)")
	fs.StringVar(&o.signInLog, "sign-in-log", "sqlite", "the gateway's log.store for the main rows: sqlite (the default) or none, to measure the gateway core's targets without the durable log")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (configuration, store, logs) and print its path")
	// Server modes, for the child processes the harness starts.
	upstream := fs.Bool("upstream", false, "child mode: serve the demo upstream")
	reverseProxy := fs.String("reverse-proxy", "", "child mode: serve a bare reverse proxy to this URL")
	gatewayConfig := fs.String("gateway-config", "", "child mode: serve this gateway configuration in-process (with -cpuprofile)")
	listen := fs.String("listen", "127.0.0.1:0", "child modes: address to listen on")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *runPattern != "" {
		re, err := regexp.Compile(*runPattern)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: -run:", err)
			return 2
		}
		o.run = re
	}
	o.iso.Warmup, o.iso.Duration = o.warmup, o.duration

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case *upstream:
		err = serve(ctx, *listen, upstreamHandler())
	case *reverseProxy != "":
		h, herr := reverseProxyHandler(*reverseProxy)
		if err = herr; err == nil {
			err = serve(ctx, *listen, h)
		}
	case *gatewayConfig != "":
		if o.cpuprofile == "" {
			err = errors.New("-gateway-config needs -cpuprofile")
		} else {
			err = serveGatewayProfiled(ctx, *gatewayConfig, o.cpuprofile)
		}
	default:
		var rep *Report
		if rep, err = harness(ctx, o, os.Stderr); err == nil {
			if o.json {
				err = rep.writeJSON(os.Stdout)
			} else {
				rep.writeText(os.Stdout)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

// harness runs every selected row and returns the report; progress goes to
// log. It fails only when the servers cannot be set up.
func harness(ctx context.Context, o options, log io.Writer) (_ *Report, err error) {
	started := time.Now()
	binary, err := filepath.Abs(o.binary)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("no authgate binary at %s — build it first (make build, or go build -o bin/authgate ./cmd/authgate) or pass -binary", o.binary)
	}
	dir, err := os.MkdirTemp("", "authgate-bench-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintf(log, "keeping the run's folder: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	var children []*child
	defer func() {
		for i := len(children) - 1; i >= 0; i-- {
			if serr := children[i].stop(); serr != nil {
				fmt.Fprintf(log, "warning: %s: %v (log: %s)\n", children[i].name, serr, children[i].Log)
			}
		}
	}()
	up, err := startSelf("upstream", filepath.Join(dir, "upstream.log"), "-upstream")
	if err != nil {
		return nil, err
	}
	children = append(children, up)
	rep := &Report{Machine: thisMachine(), Settings: Settings{
		Conns: o.conns, Warmup: o.warmup.String(), Duration: o.duration.String(), Binary: o.binary, LogLevel: o.logLevel, SignInLog: o.signInLog,
		Started: started.UTC().Format(time.RFC3339),
	}}
	if wantsMainGateway(o) {
		if err := measureMain(ctx, o, binary, dir, up, rep, log, &children); err != nil {
			return nil, err
		}
	}
	if o.run != nil && o.run.MatchString("stuffing") {
		res, err := measureStuffing(ctx, binary, dir, up.URL, o.stuffing, log)
		if err != nil {
			return nil, err
		}
		rep.Stuffing = newStuffingRow(res)
	}
	rep.Settings.Elapsed = time.Since(started).Round(time.Second).Seconds()
	rep.compare()
	return rep, nil
}

// acceptanceOf returns the acceptance row that refusal row s is compared
// with, when s is one and that row is among rows: the rows a refusal is
// compared with are gateway rows, not the baselines.
func acceptanceOf(rows []Scenario, s Scenario) (Scenario, bool) {
	if s.CompareTo == "" || s.CompareTo == rowUpstream || s.CompareTo == rowReverseProxy {
		return Scenario{}, false
	}
	for _, r := range rows {
		if r.Name == s.CompareTo {
			return r, true
		}
	}
	return Scenario{}, false
}

// wantsMainGateway reports whether o selects anything measured against the
// main gateway: a row, the sign-in log's price, isolation or a profile.
// Only -run stuffing does without it.
func wantsMainGateway(o options) bool {
	if o.run == nil || o.cpuprofile != "" || len(logPricedRowsMatching(o.run)) > 0 || o.isolation && o.run.MatchString("isolation") {
		return true
	}
	names := &Fixture{Tokens: map[string]string{}} // the row names need only the algorithms
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		names.Issuers = append(names.Issuers, &issuer{Alg: alg})
	}
	return len(selectRows(scenarios("", "", "", names), o.run)) > 0
}

// measureMain starts the reverse proxy and the main gateway in front of
// up, and measures into rep the rows, the sign-in log's price, isolation
// and the profile that o selects. The servers it starts join children.
func measureMain(ctx context.Context, o options, binary, dir string, up *child, rep *Report, log io.Writer, children *[]*child) error {
	rp, err := startSelf("reverse proxy", filepath.Join(dir, "reverse-proxy.log"), "-reverse-proxy", up.URL)
	if err != nil {
		return err
	}
	*children = append(*children, rp)
	if o.signInLog != "sqlite" && o.signInLog != "none" {
		return fmt.Errorf("-sign-in-log %q: use sqlite or none", o.signInLog)
	}
	fx, err := prepareFixture(ctx, binary, dir, up.URL, o.logLevel, o.signInLog)
	if err != nil {
		return err
	}
	gw, err := startGateway(binary, fx.ConfigPath, filepath.Join(dir, "authgate.log"))
	if err != nil {
		return err
	}
	*children = append(*children, gw)
	fmt.Fprintf(log, "upstream %s, reverse proxy %s, authgate %s (pid %d, log %s)\n", up.URL, rp.URL, gw.URL, gw.Pid(), gw.Log)

	rows := selectRows(scenarios(up.URL, rp.URL, gw.URL, fx), o.run)
	load := LoadOptions{Conns: o.conns, Warmup: o.warmup, Duration: o.duration}
	// Each row reports the CPU of the process it sends its requests to.
	loadOf := func(s Scenario) LoadOptions {
		l := load
		switch strings.TrimSuffix(s.Name, againSuffix) {
		case rowUpstream:
			l.ServerCPU = up.CPU
		case rowReverseProxy:
			l.ServerCPU = rp.CPU
		default:
			l.ServerCPU = gw.CPU
		}
		return l
	}
	// again measures row s a second time, as "s,again"; rows compared
	// with s are compared with the mean of its two runs (Report.compare).
	again := func(s Scenario, when string) error {
		s.Name, s.About = s.Name+againSuffix, s.About+"; measured again "+when
		res, err := Load(ctx, s.Target, loadOf(s))
		if err != nil {
			return err
		}
		row := newRow(s, res)
		rep.Rows = append(rep.Rows, row)
		fmt.Fprintf(log, "[again] %-24s %7.0f rps  p50 %6.2f ms  p99 %6.2f ms  cpu %5.1f µs  errors %d\n", s.Name, row.RPS, row.P50ms, row.P99ms, row.CPUus, row.Errors)
		time.Sleep(250 * time.Millisecond)
		return nil
	}
	for i, s := range rows {
		res, err := Load(ctx, s.Target, loadOf(s))
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		row := newRow(s, res)
		rep.Rows = append(rep.Rows, row)
		fmt.Fprintf(log, "[%2d/%d] %-26s %7.0f rps  p50 %6.2f ms  p99 %6.2f ms  cpu %5.1f µs  errors %d\n", i+1, len(rows), s.Name, row.RPS, row.P50ms, row.P99ms, row.CPUus, row.Errors)
		time.Sleep(250 * time.Millisecond) // let the servers settle between rows
		// A refusal is compared with the mean of its acceptance's runs
		// just before and just after it, which cancels the machine's
		// drift over the three.
		if acc, ok := acceptanceOf(rows, s); ok {
			if err := again(acc, "right after its refusal"); err != nil {
				return err
			}
		}
	}
	// The baselines again, after every other row: rows are compared with
	// the mean of both runs of their baseline, so that the shared
	// machine's drift over the minutes between the first row and the last
	// weighs on every row alike.
	for _, s := range rows {
		if s.Name != rowUpstream && s.Name != rowReverseProxy {
			continue
		}
		if err := again(s, "after the other rows"); err != nil {
			return err
		}
	}

	if priced := logPricedRowsMatching(o.run); o.signInLog == "sqlite" && len(priced) > 0 {
		logRows, err := measureLogPrice(ctx, binary, dir, fx, gw, priced, load, log, children)
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, logRows...)
	}

	if o.isolation && (o.run == nil || o.run.MatchString("isolation")) {
		fmt.Fprintf(log, "isolation: API-key probe idle, then beside %d wrong-password connections ...\n", o.iso.Burst)
		res, err := measureIsolation(ctx, gw.URL, fx, o.iso)
		if err != nil {
			return err
		}
		rep.Isolation = newIsolationRow(o.iso, res)
		fmt.Fprintf(log, "isolation: p99 idle %.2f ms, under the burst %.2f ms (%.2f×)\n", rep.Isolation.IdleP99ms, rep.Isolation.BusyP99ms, rep.Isolation.Ratio)
	}

	if o.cpuprofile != "" {
		row, err := profileRow(ctx, o, fx, gw, rp.URL, dir, log)
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, row)
		rep.Profile = o.cpuprofile
	}
	return nil
}

// profileRow stops the gateway binary (both would share one store) and
// repeats the row -profile-row names against an in-process, profiled copy
// of it.
func profileRow(ctx context.Context, o options, fx *Fixture, gw *child, reverseProxy, dir string, log io.Writer) (Row, error) {
	if err := gw.stop(); err != nil {
		fmt.Fprintf(log, "warning: authgate: %v\n", err)
	}
	profile, err := filepath.Abs(o.cpuprofile)
	if err != nil {
		return Row{}, err
	}
	pg, err := startSelf("profiled gateway", filepath.Join(dir, "authgate-profiled.log"), "-gateway-config", fx.ConfigPath, "-cpuprofile", profile)
	if err != nil {
		return Row{}, err
	}
	defer pg.stop()
	if err := waitHealthy(pg.URL+"/.authgate/health", 10*time.Second); err != nil {
		return Row{}, err
	}
	if o.profileRow == "isolation" {
		res, err := measureIsolation(ctx, pg.URL, fx, o.iso)
		if err != nil {
			return Row{}, err
		}
		s := Scenario{Name: "profiled:isolation", Group: "profiled", About: "the API-key probe during the wrong-password burst, in-process, with runtime/pprof on"}
		if err := pg.stop(); err != nil {
			return Row{}, fmt.Errorf("the profiled gateway did not stop cleanly, so %s may be incomplete: %w", profile, err)
		}
		fmt.Fprintf(log, "profiled: isolation p99 idle %.2f ms, under the burst %.2f ms\n", ms(res.Idle.Latency.Quantile(0.99)), ms(res.Busy.Latency.Quantile(0.99)))
		return newRow(s, res.Busy), nil
	}
	var s Scenario
	for _, c := range scenarios("", reverseProxy, pg.URL, fx) {
		if c.Name == o.profileRow {
			s = c
		}
	}
	if s.Name == "" || s.Group == "baseline" {
		return Row{}, fmt.Errorf("-profile-row %q is not a gateway row", o.profileRow)
	}
	s.About = s.Name + " against the same gateway code in-process, with runtime/pprof on"
	s.Name, s.Group, s.MinRatio = "profiled:"+s.Name, "profiled", 0
	if s.CompareTo != rowUpstream {
		s.CompareTo = rowReverseProxy
	}
	res, err := Load(ctx, s.Target, LoadOptions{Conns: o.conns, Warmup: o.warmup, Duration: o.duration})
	if err != nil {
		return Row{}, err
	}
	if err := pg.stop(); err != nil {
		return Row{}, fmt.Errorf("the profiled gateway did not stop cleanly, so %s may be incomplete: %w", profile, err)
	}
	row := newRow(s, res)
	fmt.Fprintf(log, "profiled: %.0f rps, CPU profile in %s\n", row.RPS, profile)
	return row, nil
}

// selectRows keeps the rows whose name matches re, and every row they are
// compared with, directly or not, in their original order. A nil re keeps
// every row.
func selectRows(all []Scenario, re *regexp.Regexp) []Scenario {
	if re == nil {
		return all
	}
	byName := map[string]Scenario{}
	for _, s := range all {
		byName[s.Name] = s
	}
	keep := map[string]bool{}
	for _, s := range all {
		for n := s.Name; n != "" && re.MatchString(s.Name) && !keep[n]; n = byName[n].CompareTo {
			keep[n] = true
		}
	}
	var out []Scenario
	for _, s := range all {
		if keep[s.Name] {
			out = append(out, s)
		}
	}
	return out
}
