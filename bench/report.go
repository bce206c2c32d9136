package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// The report: one table row per scenario with its ratio and target, the
// isolation figure, and a closing list of missed targets. The same facts
// are available as JSON (-json) for tracking over time. A missed target is
// marked MISS but does not change the exit status: this is a measurement.

// Report is everything a run measured.
type Report struct {
	Machine   Machine       `json:"machine"`
	Settings  Settings      `json:"settings"`
	Rows      []Row         `json:"rows"`
	Isolation *IsolationRow `json:"isolation,omitempty"`
	Stuffing  *StuffingRow  `json:"stuffing,omitempty"`
	// Misses lists, one line each, the targets this run missed.
	Misses []string `json:"misses"`
	// Profile is the CPU profile written with -cpuprofile, if any.
	Profile string `json:"profile,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	CPU        string `json:"cpu,omitempty"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
}

// Settings are the run's load settings.
type Settings struct {
	Conns     int     `json:"conns"`
	Warmup    string  `json:"warmup"`
	Duration  string  `json:"duration"`
	Binary    string  `json:"binary"`
	LogLevel  string  `json:"gateway_log_level"`
	SignInLog string  `json:"gateway_sign_in_log"`
	Started   string  `json:"started"`
	Elapsed   float64 `json:"elapsed_s"`
}

// Row is one scenario's figures.
type Row struct {
	Name   string  `json:"name"`
	Group  string  `json:"group"`
	About  string  `json:"about"`
	RPS    float64 `json:"rps"`
	P50ms  float64 `json:"p50_ms"`
	P99ms  float64 `json:"p99_ms"`
	MeanMs float64 `json:"mean_ms"`
	MaxMs  float64 `json:"max_ms"`
	// CPUus is the CPU time, in microseconds, that the process under test
	// (the upstream, the reverse proxy or authgate) spent per request in
	// the measured window: a figure the machine's noise moves far less
	// than rps, since time the process waits for a core costs it nothing.
	CPUus      float64        `json:"server_cpu_us_per_request,omitempty"`
	Requests   uint64         `json:"requests"`
	Errors     uint64         `json:"errors"`
	Statuses   map[int]uint64 `json:"statuses"`
	FirstError string         `json:"first_error,omitempty"`
	CompareTo  string         `json:"compare_to,omitempty"`
	Ratio      float64        `json:"ratio,omitempty"`
	MinRatio   float64        `json:"min_ratio,omitempty"`
	// Met is nil when the row has no target.
	Met *bool `json:"met,omitempty"`
}

// IsolationRow is the isolation measurement's figures.
type IsolationRow struct {
	ProbeRate     float64        `json:"probe_rps"`
	ProbeConns    int            `json:"probe_conns"`
	Burst         int            `json:"burst_conns"`
	IdleP50ms     float64        `json:"idle_p50_ms"`
	IdleP99ms     float64        `json:"idle_p99_ms"`
	BusyP50ms     float64        `json:"busy_p50_ms"`
	BusyP99ms     float64        `json:"busy_p99_ms"`
	ProbeErrors   uint64         `json:"probe_errors"`
	BurstRPS      float64        `json:"burst_rps"`
	BurstStatuses map[int]uint64 `json:"burst_statuses"`
	BurstErrors   uint64         `json:"burst_errors"`
	Ratio         float64        `json:"ratio"`
	MaxRatio      float64        `json:"max_ratio"`
	Met           bool           `json:"met"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// newRow turns a scenario's result into a row; the ratio is filled in by
// compare, once every row is known.
func newRow(s Scenario, r *LoadResult) Row {
	return Row{
		Name: s.Name, Group: s.Group, About: s.About,
		RPS: r.RPS(), P50ms: ms(r.Latency.Quantile(0.50)), P99ms: ms(r.Latency.Quantile(0.99)),
		MeanMs: ms(r.Latency.Mean()), MaxMs: ms(r.Latency.Max()), CPUus: float64(r.CPUPerRequest()) / float64(time.Microsecond),
		Requests: r.Requests, Errors: r.Errors, Statuses: r.Statuses, FirstError: r.FirstError,
		CompareTo: s.CompareTo, MinRatio: s.MinRatio,
	}
}

// againSuffix names the second run of a baseline row (measureMain).
const againSuffix = ",again"

// compare fills in every row's ratio and verdict, and lists the misses. A
// baseline measured twice counts as the mean of its two runs.
func (rep *Report) compare() {
	byName := map[string]*Row{}
	for i := range rep.Rows {
		byName[rep.Rows[i].Name] = &rep.Rows[i]
	}
	rep.Misses = []string{}
	for i := range rep.Rows {
		r := &rep.Rows[i]
		if r.Requests == 0 {
			rep.Misses = append(rep.Misses, fmt.Sprintf("%s: no answer came back inside the measured window", r.Name))
		}
		if r.Errors > 0 {
			rep.Misses = append(rep.Misses, fmt.Sprintf("%s: %d of %d answers were errors (first: %s)", r.Name, r.Errors, r.Requests, r.FirstError))
		}
		ref := byName[r.CompareTo]
		if ref == nil || ref.RPS == 0 {
			continue
		}
		refRPS, refWhat := ref.RPS, fmt.Sprintf("%.0f rps", ref.RPS)
		if again := byName[ref.Name+againSuffix]; again != nil && again.RPS > 0 {
			refRPS = (ref.RPS + again.RPS) / 2
			refWhat = fmt.Sprintf("%.0f rps, the mean of %.0f and %.0f", refRPS, ref.RPS, again.RPS)
		}
		r.Ratio = r.RPS / refRPS
		if r.MinRatio == 0 {
			continue
		}
		met := r.Ratio >= r.MinRatio
		r.Met = &met
		if !met {
			rep.Misses = append(rep.Misses, fmt.Sprintf("%s: %.0f rps is %.2f× %s (%s), target ≥ %.2f×", r.Name, r.RPS, r.Ratio, ref.Name, refWhat, r.MinRatio))
		}
	}
	if iso := rep.Isolation; iso != nil && !iso.Met {
		rep.Misses = append(rep.Misses, fmt.Sprintf("isolation: API-key p99 %.2f ms under the burst is %.2f× its idle p99 %.2f ms, target ≤ %.1f×", iso.BusyP99ms, iso.Ratio, iso.IdleP99ms, iso.MaxRatio))
	}
	if rep.Stuffing != nil {
		rep.Misses = append(rep.Misses, rep.Stuffing.misses()...)
	}
}

// newIsolationRow summarises an isolation measurement.
func newIsolationRow(o IsolationOptions, r *IsolationResult) *IsolationRow {
	row := &IsolationRow{
		ProbeRate: o.ProbeRate, ProbeConns: o.ProbeConns, Burst: o.Burst,
		IdleP50ms: ms(r.Idle.Latency.Quantile(0.5)), IdleP99ms: ms(r.Idle.Latency.Quantile(0.99)),
		BusyP50ms: ms(r.Busy.Latency.Quantile(0.5)), BusyP99ms: ms(r.Busy.Latency.Quantile(0.99)),
		ProbeErrors: r.Idle.Errors + r.Busy.Errors,
		Ratio:       r.Ratio(), MaxRatio: isolationMaxRatio,
	}
	if r.Burst != nil {
		row.BurstRPS, row.BurstStatuses, row.BurstErrors = r.Burst.RPS(), r.Burst.Statuses, r.Burst.Errors
	}
	row.Met = row.Ratio > 0 && row.Ratio <= isolationMaxRatio && row.ProbeErrors == 0
	return row
}

// writeText prints the report as tables.
func (rep *Report) writeText(w io.Writer) {
	m := rep.Machine
	fmt.Fprintf(w, "\nauthgate bench — %s, %d CPU (GOMAXPROCS %d), %s, %s\n", m.CPU, m.NumCPU, m.GOMAXPROCS, m.OS, m.GoVersion)
	if len(rep.Rows) > 0 || rep.Isolation != nil {
		fmt.Fprintf(w, "%d connections, closed loop, %s warm-up + %s measured per row; loopback only; gateway log level %s, sign-in log %s\n", rep.Settings.Conns, rep.Settings.Warmup, rep.Settings.Duration, rep.Settings.LogLevel, rep.Settings.SignInLog)
	}
	width := len("scenario")
	for _, r := range rep.Rows {
		width = max(width, len(r.Name))
	}
	line := func(name, rps, p50, p99, cpu, errs, ratio, vs, target, verdict string) {
		fmt.Fprintf(w, "  %-*s %8s %8s %8s %8s %7s %7s  %-*s %-8s %s\n", width, name, rps, p50, p99, cpu, errs, ratio, width, vs, target, verdict)
	}
	group := ""
	for _, r := range rep.Rows {
		if r.Group != group {
			group = r.Group
			fmt.Fprintf(w, "\n%s\n", strings.ToUpper(group))
			line("scenario", "rps", "p50 ms", "p99 ms", "cpu µs", "errors", "ratio", "vs", "target", "")
		}
		ratio, target, verdict := "", "", ""
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f×", r.Ratio)
		}
		if r.MinRatio > 0 {
			target = fmt.Sprintf("≥ %.2f×", r.MinRatio)
		}
		if r.Met != nil {
			verdict = "ok"
			if !*r.Met {
				verdict = "MISS"
			}
		}
		if r.Errors > 0 || r.Requests == 0 {
			verdict += " ERRORS"
		}
		cpu := ""
		if r.CPUus > 0 {
			cpu = fmt.Sprintf("%.1f", r.CPUus)
		}
		line(r.Name, fmt.Sprintf("%.0f", r.RPS), fmt.Sprintf("%.2f", r.P50ms), fmt.Sprintf("%.2f", r.P99ms), cpu,
			fmt.Sprint(r.Errors), ratio, r.CompareTo, target, verdict)
	}
	if iso := rep.Isolation; iso != nil {
		verdict := "ok"
		if !iso.Met {
			verdict = "MISS"
		}
		fmt.Fprintf(w, "\nISOLATION (proxy/api_key probe, %d connections paced to %.0f rps in all)\n", iso.ProbeConns, iso.ProbeRate)
		fmt.Fprintf(w, "  idle:                                   p50 %.2f ms  p99 %.2f ms\n", iso.IdleP50ms, iso.IdleP99ms)
		fmt.Fprintf(w, "  during %3d wrong-password connections:  p50 %.2f ms  p99 %.2f ms\n", iso.Burst, iso.BusyP50ms, iso.BusyP99ms)
		fmt.Fprintf(w, "  p99 ratio %.2f×   target ≤ %.1f×   %s   (probe errors: %d)\n", iso.Ratio, iso.MaxRatio, verdict, iso.ProbeErrors)
		fmt.Fprintf(w, "  the burst got %.0f answers/s: %s\n", iso.BurstRPS, statusList(iso.BurstStatuses))
	}
	if rep.Stuffing != nil {
		rep.Stuffing.writeText(w)
	}
	if rep.Profile != "" {
		fmt.Fprintf(w, "\nCPU profile of the in-process gateway (%s): %s\n  go tool pprof -top %s\n", rep.Rows[len(rep.Rows)-1].Name, rep.Profile, rep.Profile)
	}
	if len(rep.Misses) == 0 {
		fmt.Fprintln(w, "\nEvery target met.")
		return
	}
	fmt.Fprintf(w, "\nMISSED (%d) — figures from a shared machine are noisy; rerun before concluding:\n", len(rep.Misses))
	for _, m := range rep.Misses {
		fmt.Fprintln(w, "  -", m)
	}
}

// statusList renders status counts as "401 ×120, 503 ×40".
func statusList(m map[int]uint64) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		name := fmt.Sprint(c)
		if c == 0 {
			name = "transport error"
		}
		parts[i] = fmt.Sprintf("%s ×%d", name, m[c])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// writeJSON prints the report as one indented JSON document.
func (rep *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// thisMachine describes the machine, reading the CPU model where Linux
// tells it.
func thisMachine() Machine {
	m := Machine{NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if m.CPU == "" {
		m.CPU = "unknown CPU"
	}
	return m
}
