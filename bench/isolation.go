package main

import (
	"context"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Isolation: does a flood of wrong passwords — each one costing several
// argon2id hashes by design — slow everyone else down? A light, paced probe
// of the API-key route measures its p99 twice: with the gateway otherwise
// idle, then while a burst of wrong Basic passwords for the bench user runs
// from many connections at once. The gateway bounds concurrent hashing and
// answers 503 password_check_busy when its queue wait runs out, so the
// burst's answers are 401 or 503; both count as expected.

// IsolationOptions shape the isolation measurement.
type IsolationOptions struct {
	ProbeConns int     // connections of the API-key probe
	ProbeRate  float64 // its total requests per second
	Burst      int     // connections sending wrong passwords, each in a closed loop
	Warmup     time.Duration
	Duration   time.Duration
}

// IsolationResult is the probe's latency idle and under the burst.
type IsolationResult struct {
	Idle  *LoadResult // the probe alone, before the burst and after it, together
	Busy  *LoadResult // the probe during the burst
	Burst *LoadResult // the burst itself
}

// Ratio returns the probe's p99 under the burst divided by its idle p99.
func (r *IsolationResult) Ratio() float64 {
	idle := r.Idle.Latency.Quantile(0.99)
	if idle <= 0 {
		return 0
	}
	return float64(r.Busy.Latency.Quantile(0.99)) / float64(idle)
}

// measureIsolation runs the idle probe, the probe under the burst, and
// the idle probe again once the burst has drained; the idle p99 is taken
// over both idle runs. Measured only before the burst, the idle p99 was
// one 8 s window of a shared machine whose quiet p99 moved between 3 and
// 9 ms from one minute to the next, so the ratio judged the minute as
// much as the gateway; idle on both sides of the burst, the machine's
// drift weighs on both sides alike. gateway is the gateway's base URL.
func measureIsolation(ctx context.Context, gateway string, f *Fixture, o IsolationOptions) (*IsolationResult, error) {
	probe := Target{URL: gateway + "/bench/hello", Header: http.Header{"X-API-Key": {f.APIKey}}, Expect: []int{200}}
	probeOpts := LoadOptions{Conns: o.ProbeConns, Rate: o.ProbeRate, Warmup: o.Warmup, Duration: o.Duration}
	res := &IsolationResult{}
	var err error
	if res.Idle, err = Load(ctx, probe, probeOpts); err != nil {
		return nil, err
	}

	wrong := "Basic " + base64.StdEncoding.EncodeToString([]byte(f.User+":"+f.WrongPassword))
	burst := Target{URL: gateway + "/bench/hello", Header: http.Header{"Authorization": {wrong}},
		Expect: []int{http.StatusUnauthorized, http.StatusServiceUnavailable}}
	// The burst starts a second before the probe, so the probe's window
	// (after its own warm-up) sees it at full strength, and is cut off
	// when the probe ends. Its whole life is measured: its answers take
	// seconds (hashing, queueing), so few would both start and end inside
	// the probe's window.
	lead := time.Second
	burstCtx, stopBurst := context.WithCancel(ctx)
	defer stopBurst()
	var wg sync.WaitGroup
	var burstErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		res.Burst, burstErr = Load(burstCtx, burst, LoadOptions{Conns: o.Burst, Duration: lead + o.Warmup + o.Duration + time.Second})
	}()
	select {
	case <-time.After(lead):
	case <-ctx.Done():
	}
	res.Busy, err = Load(ctx, probe, probeOpts)
	stopBurst()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if burstErr != nil {
		return nil, burstErr
	}
	// The checks the burst left queued give up within queue_timeout (2 s
	// by default), and the one being hashed ends sooner.
	select {
	case <-time.After(drain):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	after, err := Load(ctx, probe, probeOpts)
	if err != nil {
		return nil, err
	}
	res.Idle.add(after)
	return res, nil
}

// drain is how long isolation waits after the burst before the second
// idle run: more than the default queue_timeout.
const drain = 3 * time.Second
