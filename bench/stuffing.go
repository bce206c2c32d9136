package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Credential stuffing (-run stuffing): a bounded attack on a gateway of its
// own with the real throttling defaults, while a legitimate client keeps
// signing in as its own user from its own address. The attack sends wrong
// passwords spread evenly over many user names and source addresses (sent
// as X-Forwarded-For by the loopback proxy the gateway trusts) from the
// connections of a stuffing tool. The throttle's delays hold those
// connections, which is their point; since the gateway never delays a
// success, a tuned tool stops waiting for a slow answer after Patience
// and moves on, and whatever it does the attack starts nothing new after
// MaxTime, so the run ends in bounded time. What the attacker saw is read
// from the answers (the route is verbose, so X-Authgate-Reason is
// precise); what happened to every attempt, answered or not, from the
// sign-in log and the user store once the gateway has stopped.

// StuffingOptions shape the credential-stuffing run.
type StuffingOptions struct {
	Attempts int           // wrong passwords the attack sends in all
	Users    int           // user names they are spread over, evenly
	Sources  int           // source addresses they come from, evenly
	Conns    int           // attack connections, each with one attempt in flight
	MaxTime  time.Duration // the attack starts no attempt after this
	// Patience is how long the tool waits for an answer before it drops
	// the attempt and sends the next; 0 waits for every answer.
	Patience time.Duration
	// LegitRate is the legitimate client's sign-ins per second, in all,
	// over 2 connections; Idle is how long it is measured alone first.
	LegitRate float64
	Idle      time.Duration
	// TargetLegit puts the legitimate user's name among the attacked ones.
	TargetLegit bool
	// MemoryKiB and Iterations are the argon2id cost of the run's hashes.
	MemoryKiB, Iterations int
}

// answer is what the attacker saw: a status and X-Authgate-Reason; status
// 0 is a transport failure.
type answer struct {
	Status int
	Reason string
}

// The answers that are not a status.
var (
	abandoned   = answer{Status: -1} // written, then no longer waited for
	undelivered = answer{Status: -2} // never written in full: the gateway cannot have seen it
)

// attackResult is the attack as the attacker saw it. Sent counts the
// attempts written in full, which the gateway must account for.
type attackResult struct {
	Sent    uint64
	Answers map[answer]uint64
	Latency Histogram
	Wall    time.Duration
}

// runAttack sends plan to url from o.Conns connections until every attempt
// is sent or o.MaxTime has passed, and waits for the answers in flight.
func runAttack(ctx context.Context, url string, plan []attempt, o StuffingOptions) *attackResult {
	client := &http.Client{Transport: newLoadTransport(o.Conns), Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	start := time.Now()
	stop := start.Add(o.MaxTime)
	var next atomic.Int64
	var mu sync.Mutex
	res := &attackResult{Answers: map[answer]uint64{}}
	var wg sync.WaitGroup
	for range o.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sent uint64
			seen := map[answer]uint64{}
			var lat Histogram
			for ctx.Err() == nil && time.Now().Before(stop) {
				i := int(next.Add(1)) - 1
				if i >= len(plan) {
					break
				}
				t := time.Now()
				a := send(ctx, client, url, plan[i], o.Patience)
				seen[a]++
				if a != undelivered {
					sent++
					lat.Record(time.Since(t))
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.Sent += sent
			for a, n := range seen {
				res.Answers[a] += n
			}
			res.Latency.Merge(&lat)
		}()
	}
	wg.Wait()
	res.Wall = time.Since(start)
	return res
}

// send makes one attempt and reads the whole answer, waiting at most
// patience when it is positive.
func send(ctx context.Context, client *http.Client, url string, a attempt, patience time.Duration) answer {
	if patience > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, patience, errImpatient)
		defer cancel()
	}
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) }})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return undelivered
	}
	req.SetBasicAuth(a.user, a.password)
	req.Header.Set("X-Forwarded-For", a.source.String())
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	switch {
	case err == nil:
		return answer{resp.StatusCode, resp.Header.Get("X-Authgate-Reason")}
	case !wrote.Load():
		return undelivered
	case context.Cause(ctx) == errImpatient:
		return abandoned
	}
	return answer{} // written, then the connection failed
}

var errImpatient = errors.New("the stuffing tool stopped waiting")

// StuffingResult is everything the stuffing run measured.
type StuffingResult struct {
	Options StuffingOptions
	Idle    *LoadResult // the legitimate client alone
	Busy    *LoadResult // the legitimate client during the attack
	Attack  *attackResult
	Log     *stuffingOutcome // the sign-in log and the user store afterwards
}

// measureStuffing prepares the stuffing gateway in dir/stuffing in front of
// upstreamURL, measures the legitimate client alone, then during the
// attack, and reads the outcome once the gateway has stopped (which writes
// out its sign-in log). Progress goes to log.
func measureStuffing(ctx context.Context, binary, dir, upstreamURL string, o StuffingOptions, log io.Writer) (*StuffingResult, error) {
	began := time.Now()
	sf, err := prepareStuffing(ctx, binary, filepath.Join(dir, "stuffing"), upstreamURL, o)
	if err != nil {
		return nil, err
	}
	gw, err := startGateway(binary, sf.ConfigPath, filepath.Join(sf.Dir, "authgate.log"))
	if err != nil {
		return nil, err
	}
	defer gw.stop()
	res := &StuffingResult{Options: o}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(legitUser+":"+sf.LegitPassword))
	legit := Target{URL: gw.URL + "/app/home", Header: http.Header{"Authorization": {basic}, "X-Forwarded-For": {legitSource.String()}}, Expect: []int{http.StatusOK}}
	fmt.Fprintf(log, "stuffing: %d users (argon2id m=%d KiB, t=%d), gateway %s (log %s); legitimate client alone for %s ...\n", o.Users+1, o.MemoryKiB, o.Iterations, gw.URL, gw.Log, o.Idle)
	if res.Idle, err = Load(ctx, legit, LoadOptions{Conns: 2, Rate: o.LegitRate, Warmup: time.Second, Duration: o.Idle}); err != nil {
		return nil, err
	}

	fmt.Fprintf(log, "stuffing: %d wrong passwords, %d users, %d sources, %d connections, at most %s ...\n", o.Attempts, o.Users, o.Sources, o.Conns, o.MaxTime)
	legitCtx, stopLegit := context.WithCancel(ctx)
	var legitErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		res.Busy, legitErr = Load(legitCtx, legit, LoadOptions{Conns: 2, Rate: o.LegitRate, Duration: o.MaxTime + time.Minute})
	}()
	res.Attack = runAttack(ctx, gw.URL+"/app/login", stuffingPlan(o), o)
	stopLegit()
	<-done
	if legitErr != nil {
		return nil, legitErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "stuffing: %d attempts in %.1f s; letting the gateway drain, then stopping it to read its sign-in log ...\n", res.Attack.Sent, res.Attack.Wall.Seconds())
	settling := time.Now()
	if err := sf.settle(ctx, began, int64(res.Attack.Sent)); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "stuffing: drained in %.1f s\n", time.Since(settling).Seconds())
	if err := gw.stop(); err != nil {
		return nil, fmt.Errorf("the stuffing gateway did not stop cleanly, so its sign-in log may be incomplete: %w", err)
	}
	res.Log, err = sf.outcome(ctx, began)
	return res, err
}
