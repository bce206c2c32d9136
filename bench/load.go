package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// The load generator: a fixed number of keep-alive connections, each driven
// by one goroutine in a closed loop (send, read the whole answer, send the
// next), or paced to a fixed total rate for latency probes. Every answer
// whose status is not one the scenario expects counts as an error. Requests
// during the warm-up are sent but not measured.

// Target is the request a scenario repeats.
type Target struct {
	Method string
	URL    string
	Header http.Header
	// Expect lists the statuses that count as success; anything else, and
	// every transport failure, is an error.
	Expect []int
}

// LoadOptions shape one run of the load generator.
type LoadOptions struct {
	// Conns is the number of connections, each with one request in flight.
	Conns int
	// Warmup is sent before measuring starts; Duration is measured.
	Warmup, Duration time.Duration
	// Rate paces the run to this many requests per second in all; 0 sends
	// as fast as answers come back. A paced request's latency is taken
	// from when it was due, not when it was sent, so a stall is not hidden
	// by the requests it delayed (coordinated omission).
	Rate float64
	// ServerCPU, when set, returns the CPU time the process under test has
	// used so far; Load reads it when the measured window opens and when
	// it closes, and reports the difference (LoadResult.ServerCPU).
	ServerCPU func() (time.Duration, bool)
}

// LoadResult is what one run measured.
type LoadResult struct {
	Requests uint64         // answered inside the measured window, errors included
	Errors   uint64         // unexpected statuses and transport failures
	Statuses map[int]uint64 // every status seen in the window; 0 is a transport failure
	// FirstError describes the first error, to say what went wrong.
	FirstError string
	Window     time.Duration
	Latency    Histogram
	// ServerCPU is the CPU time (user and system) the process under test
	// used inside the measured window; 0 when unknown.
	ServerCPU time.Duration
}

// CPUPerRequest is the server's CPU time per answered request, or 0.
func (r *LoadResult) CPUPerRequest() time.Duration {
	if r.Requests == 0 {
		return 0
	}
	return r.ServerCPU / time.Duration(r.Requests)
}

// RPS returns the measured requests per second, errors included.
func (r *LoadResult) RPS() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Window.Seconds()
}

// add adds the counts of another run of the same target to r.
func (r *LoadResult) add(o *LoadResult) {
	r.Requests += o.Requests
	r.Errors += o.Errors
	for status, n := range o.Statuses {
		if r.Statuses == nil {
			r.Statuses = map[int]uint64{}
		}
		r.Statuses[status] += n
	}
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
	r.Window += o.Window
	r.ServerCPU += o.ServerCPU
	r.Latency.Merge(&o.Latency)
}

// newLoadTransport returns a client transport that keeps exactly conns
// connections to the target alive.
func newLoadTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// Load sends t with the shape o until the warm-up and the measured window
// have passed or ctx ends, whichever is first. It fails only when t cannot
// be made into a request.
func Load(ctx context.Context, t Target, o LoadOptions) (*LoadResult, error) {
	if o.Conns < 1 {
		o.Conns = 1
	}
	method := t.Method
	if method == "" {
		method = http.MethodGet
	}
	if _, err := http.NewRequest(method, t.URL, nil); err != nil {
		return nil, fmt.Errorf("target %s: %w", t.URL, err)
	}
	tr := newLoadTransport(o.Conns)
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	begin := time.Now()
	measureFrom := begin.Add(o.Warmup)
	end := measureFrom.Add(o.Duration)
	workers := make([]*worker, o.Conns)
	var wg sync.WaitGroup
	for i := range workers {
		req, _ := http.NewRequestWithContext(ctx, method, t.URL, nil)
		req.Header = t.Header.Clone()
		if req.Header == nil {
			req.Header = http.Header{}
		}
		w := &worker{client: client, req: req, expect: t.Expect, measureFrom: measureFrom, end: end, statuses: map[int]uint64{}}
		if o.Rate > 0 {
			// Each worker owns every Conns-th slot of one schedule, so the
			// workers together keep the total rate.
			w.interval = time.Duration(float64(o.Conns) / o.Rate * float64(time.Second))
			w.next = begin.Add(w.interval * time.Duration(i) / time.Duration(o.Conns))
		}
		workers[i] = w
		wg.Add(1)
		go func() { defer wg.Done(); w.run(ctx) }()
	}
	cpu := make(chan time.Duration, 1)
	go func() { cpu <- serverCPU(ctx, o.ServerCPU, measureFrom, end) }()
	wg.Wait()

	res := &LoadResult{Statuses: map[int]uint64{}, Window: o.Duration, ServerCPU: <-cpu}
	if now := time.Now(); now.Before(end) { // ctx ended early
		res.Window = max(0, now.Sub(measureFrom))
	}
	for _, w := range workers {
		res.Requests += w.requests
		res.Errors += w.errors
		for s, n := range w.statuses {
			res.Statuses[s] += n
		}
		if res.FirstError == "" {
			res.FirstError = w.firstError
		}
		res.Latency.Merge(&w.latency)
	}
	return res, nil
}

// serverCPU returns the CPU time read reports used between from and to, or
// 0 when read is nil, fails, or ctx ends first.
func serverCPU(ctx context.Context, read func() (time.Duration, bool), from, to time.Time) time.Duration {
	if read == nil {
		return 0
	}
	sample := func(at time.Time) (time.Duration, bool) {
		select {
		case <-time.After(time.Until(at)):
			return read()
		case <-ctx.Done():
			return 0, false
		}
	}
	start, ok := sample(from)
	if !ok {
		return 0
	}
	stop, ok := sample(to)
	if !ok || stop < start {
		return 0
	}
	return stop - start
}

// worker drives one connection.
type worker struct {
	client      *http.Client
	req         *http.Request
	expect      []int
	measureFrom time.Time
	end         time.Time
	interval    time.Duration // 0: closed loop
	next        time.Time     // when the next paced request is due

	requests, errors uint64
	statuses         map[int]uint64
	firstError       string
	latency          Histogram
}

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		start := time.Now()
		if w.interval > 0 {
			if w.next.After(start) {
				select {
				case <-time.After(w.next.Sub(start)):
				case <-ctx.Done():
					return
				}
			}
			start = w.next
			w.next = w.next.Add(w.interval)
		}
		if !start.Before(w.end) {
			return
		}
		status, err := w.once()
		done := time.Now()
		if ctx.Err() != nil {
			return // cut short by the caller, not a failure of the target
		}
		if start.Before(w.measureFrom) || done.After(w.end) {
			continue
		}
		w.requests++
		w.statuses[status]++
		w.latency.Record(done.Sub(start))
		switch {
		case err != nil:
			w.fail(err.Error())
		case !slices.Contains(w.expect, status):
			w.fail(fmt.Sprintf("status %d, expected %v", status, w.expect))
		}
	}
}

// once sends the request and reads the whole answer, so the connection can
// carry the next one. A transport failure has status 0.
func (w *worker) once() (int, error) {
	resp, err := w.client.Do(w.req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

func (w *worker) fail(msg string) {
	w.errors++
	if w.firstError == "" {
		w.firstError = msg
	}
}
