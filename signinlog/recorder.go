// Package signinlog records every decision the gateway takes. The
// Recorder keeps the latest decisions in memory and writes one structured
// log line for each; the Writer stores them durably through a Store
// (sqlite.EventStore or postgres.EventStore) in batches, off the request
// path, spooling to disk while the store is down. Filters, Explain and
// Gather turn stored decisions into answers for admins. Decisions carry no
// secrets, so nothing written here holds one.
package signinlog

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Recorder is an authgate.EventSink.
type Recorder struct {
	out         *bufio.Writer // nil without Output; flushed lineDelay after its first pending line
	text        *slog.Logger  // writes lines to out in the text format; nil for JSON
	level       slog.Leveler  // of JSON lines
	line        []byte        // a JSON line being built
	fallback    *slog.Logger  // JSON lines appendJSONLine cannot write
	refusedOnly bool
	summary     bool
	ch          chan item
	done        chan struct{}

	mu   sync.Mutex
	ring []*authgate.Decision
	next int
	full bool

	// closing guards ch: Record holds it for reading, Close for writing,
	// so a request that outlives the shutdown timeout cannot send on a
	// closed channel.
	closing sync.RWMutex
	closed  bool
	late    atomic.Int64 // decisions recorded after Close
}

// RecorderOptions configure a Recorder.
type RecorderOptions struct {
	// Output receives one log line per decision; nil keeps decisions in
	// memory only. Lines are buffered and written by the recorder's own
	// goroutine, so share Output with other loggers only through a writer
	// that serialises writes.
	Output io.Writer
	// Text writes lines in slog's text format instead of JSON.
	Text bool
	// Level is the least level of line written: decisions are logged at
	// info, or warn for refusals with a 5xx status. Info when nil.
	Level slog.Leveler
	// Keep is how many recent decisions stay in memory.
	Keep int
	// RefusedOnly writes lines for refused decisions only; all are kept
	// in memory either way.
	RefusedOnly bool
	// Summary writes the failing check instead of the whole trace, for a
	// gateway whose durable sign-in log holds the trace.
	Summary bool
}

// New starts a recorder.
func New(opts RecorderOptions) *Recorder {
	r := &Recorder{
		ch:          make(chan item, 8192),
		done:        make(chan struct{}),
		ring:        make([]*authgate.Decision, max(opts.Keep, 1)),
		refusedOnly: opts.RefusedOnly,
		summary:     opts.Summary,
	}
	if opts.Output != nil {
		r.out = bufio.NewWriterSize(opts.Output, 64<<10)
		if r.level = opts.Level; r.level == nil {
			r.level = slog.LevelInfo
		}
		ho := &slog.HandlerOptions{Level: r.level}
		if opts.Text {
			r.text = slog.New(slog.NewTextHandler(r.out, ho))
		} else {
			r.fallback = slog.New(slog.NewJSONHandler(r.out, ho))
		}
	}
	go r.run()
	return r
}

// Record queues d. It blocks only when the queue of 8192 decisions is full,
// so that no decision is silently lost.
func (r *Recorder) Record(d *authgate.Decision) {
	r.closing.RLock()
	defer r.closing.RUnlock()
	if r.closed {
		r.late.Add(1)
		return
	}
	r.ch <- item{d: d}
}

// Late counts decisions recorded after Close, which were not kept.
func (r *Recorder) Late() int64 { return r.late.Load() }

// item is a queued decision, or a flush marker.
type item struct {
	d       *authgate.Decision
	flushed chan struct{}
}

// Flush returns once every decision recorded before it was written.
func (r *Recorder) Flush() {
	r.closing.RLock()
	if r.closed {
		r.closing.RUnlock()
		return
	}
	c := make(chan struct{})
	r.ch <- item{flushed: c}
	r.closing.RUnlock()
	<-c
}

// Close writes every queued decision and stops. Decisions recorded later
// are counted (Late) and dropped.
func (r *Recorder) Close() {
	r.closing.Lock()
	if !r.closed {
		r.closed = true
		close(r.ch)
	}
	r.closing.Unlock()
	<-r.done
}

func (r *Recorder) run() {
	defer close(r.done)
	// Lines wait in the buffer for at most lineDelay: one write for a
	// burst of lines rather than one per line, which under load cost a
	// system call per refusal.
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	pending := false
	for {
		select {
		case it, ok := <-r.ch:
			if !ok {
				r.flush()
				return
			}
			if it.flushed != nil {
				r.flush()
				pending = false
				close(it.flushed)
				continue
			}
			d := it.d
			r.mu.Lock()
			r.ring[r.next] = d
			r.next = (r.next + 1) % len(r.ring)
			r.full = r.full || r.next == 0
			r.mu.Unlock()
			if r.out != nil && !(r.refusedOnly && d.Allowed) {
				r.log(d)
				if !pending {
					pending = true
					timer.Reset(lineDelay)
				}
			}
		case <-timer.C:
			r.flush()
			pending = false
		}
	}
}

// lineDelay is the longest a decision's log line waits in the recorder's
// buffer before it is written.
const lineDelay = 10 * time.Millisecond

func (r *Recorder) flush() {
	if r.out != nil {
		r.out.Flush()
	}
}

// Lookup returns the most recent kept decision with request id id.
func (r *Recorder) Lookup(id string) (*authgate.Decision, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 1; i <= len(r.ring); i++ {
		d := r.ring[(r.next-i+len(r.ring))%len(r.ring)]
		if d == nil {
			break
		}
		if d.RequestID == id {
			return d, true
		}
	}
	return nil, false
}

// Recent returns up to n kept decisions, newest first.
func (r *Recorder) Recent(n int) []*authgate.Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*authgate.Decision
	for i := 1; i <= len(r.ring) && len(out) < n; i++ {
		d := r.ring[(r.next-i+len(r.ring))%len(r.ring)]
		if d == nil {
			break
		}
		out = append(out, d)
	}
	return out
}

// checksAttr is the trace attribute: the whole trace, or in summary mode
// only the check that names the reason (the durable log keeps the rest).
func checksAttr(d *authgate.Decision, summary bool) slog.Attr {
	if !summary {
		return slog.Any("checks", trace(d.Checks))
	}
	if c, ok := failedCheck(d); ok {
		return slog.String("failed_check", c.Name+": "+c.Detail)
	}
	return slog.Attr{}
}

// failedCheck is the last check that names a reason.
func failedCheck(d *authgate.Decision) (authgate.Check, bool) {
	for i := len(d.Checks) - 1; i >= 0; i-- {
		if c := d.Checks[i]; c.Reason != "" {
			return c, true
		}
	}
	return authgate.Check{}, false
}

// log writes one decision as one structured line.
func (r *Recorder) log(d *authgate.Decision) {
	level := lineLevel(d)
	if r.text != nil {
		r.text.LogAttrs(context.Background(), level, "decision", lineAttrs(d, r.summary)...)
		return
	}
	if level < r.level.Level() {
		return
	}
	// The JSON line is written without slog's handler, which cost a
	// refusal several microseconds (TestJSONLineMatchesSlog keeps the two
	// identical).
	var ok bool
	if r.line, ok = appendJSONLine(r.line[:0], d, level, time.Now(), r.summary); ok {
		r.out.Write(r.line)
		return
	}
	r.fallback.LogAttrs(context.Background(), level, "decision", lineAttrs(d, r.summary)...)
}

// lineLevel is the level of d's line: warn for a refusal with a 5xx
// status (the gateway could not decide), info for the others.
func lineLevel(d *authgate.Decision) slog.Level {
	if !d.Allowed && reason.Lookup(d.Reason).Status >= 500 {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// lineAttrs are the attributes of d's line, in order.
func lineAttrs(d *authgate.Decision, summary bool) []slog.Attr {
	attrs := make([]slog.Attr, 0, 16)
	attrs = append(attrs,
		slog.String("request_id", d.RequestID),
		slog.String("outcome", d.Outcome()),
		slog.String("route", d.Route),
		slog.String("method", string(d.Method)),
	)
	if !d.Allowed {
		attrs = append(attrs, slog.String("reason", string(d.Reason)), slog.Int("status", reason.Lookup(d.Reason).Status))
	}
	if d.Claimed != "" {
		attrs = append(attrs, slog.String("claimed", d.Claimed))
	}
	if d.Principal != nil {
		attrs = append(attrs, slog.String("subject", d.Principal.Subject))
	}
	if d.Fingerprint != "" {
		attrs = append(attrs, slog.String("fingerprint", d.Fingerprint))
	}
	if d.ClockSkew != 0 {
		attrs = append(attrs, slog.Float64("clock_skew_s", d.ClockSkew.Seconds()))
	}
	if d.Token != nil {
		attrs = append(attrs, tokenAttr(d.Token))
	}
	return append(attrs,
		slog.String("source", d.Source.String()),
		slog.String("http_method", d.HTTPMethod),
		slog.String("host", d.Host),
		slog.String("path", d.Path),
		slog.String("user_agent", d.UserAgent),
		slog.Float64("latency_ms", latencyMillis(d)),
		checksAttr(d, summary),
	)
}

// latencyMillis is d's latency in milliseconds, as lines carry it.
func latencyMillis(d *authgate.Decision) float64 {
	return float64(d.Latency) / float64(time.Millisecond)
}

var _ authgate.EventSink = (*Recorder)(nil)
