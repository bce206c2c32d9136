package signinlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Writer is the durable sign-in log sink: an authgate.EventSink that writes
// decisions into a Store in batches, off the request path, and keeps them
// in an on-disk spool while the store is slow or down.
//
// Record hands the decision to a bounded in-memory queue and returns. One
// goroutine collects the queue into batches and writes each with one
// Store.Write, every BatchInterval or as soon as BatchSize events are
// waiting. When a write fails, times out (WriteTimeout), or the queue
// grows three quarters full while it runs (the store is not keeping up),
// the batch is appended to the spool instead, and so is every later batch
// until a replay goroutine, retrying the store with backoff, has written
// the whole spool (oldest first) into the store. Events therefore reach the
// store in the order they were recorded.
//
// What is durable, and when:
//
//   - Close (the SIGTERM path) writes every recorded event into the store,
//     or into the spool when the store is unavailable; the next Writer on
//     the same SpoolDir replays the spool when it starts.
//   - A spooled batch is fsynced (one fsync per batch) before it counts as
//     spooled: it survives kill -9 and power loss.
//   - A batch written to the store is as durable as the store's commit.
//   - Events still in memory — queued, or in the batch being collected or
//     written — are lost on kill -9. In normal operation that is at most
//     the events recorded in the last BatchInterval plus the duration of
//     one store write; while the store is slow, up to the queue (QueueSize
//     events) whose backlog the store has not taken yet.
//   - Delivery is at least once: a write whose commit succeeded but whose
//     acknowledgement was lost (a timeout at the wrong moment), or a crash
//     between a replayed batch's commit and the record of that progress
//     (replay.pos, written after every replayed batch), writes some events
//     twice. None is skipped.
//   - When the spool reaches SpoolMaxBytes, further events are dropped and
//     counted per reason code. The counts are logged (at most every 10 s),
//     kept in SpoolDir/dropped.json (fsynced) until Store.RecordDropped has
//     taken them, so they survive restarts and show in `authgate log --stats`.
//
// Record blocks only when the queue is full, which needs both the store and
// the spool's disk to be slower than the request rate; Stats reports how
// often and how long it waited.
type Writer struct {
	store Store
	opts  WriterOptions
	log   *slog.Logger
	spool *spool
	lock  *os.File

	queue     chan *authgate.Decision
	highWater int
	// full wakes the collector once a batch's worth is queued (fullAt
	// events); otherwise it wakes only every BatchInterval. Woken by each
	// event instead, it cost the request path a goroutine wake-up (often
	// a futex call) per decision.
	full   chan struct{}
	fullAt int

	inflight atomic.Int64 // Record calls between their closed check and their send
	closed   atomic.Bool
	drained  atomic.Bool // the last replay reached the store and emptied the spool

	ctx         context.Context // store calls; canceled when Close's context ends
	cancel      context.CancelFunc
	writeCancel atomic.Pointer[context.CancelFunc] // of the direct write in progress

	kick       chan struct{} // wakes the replay loop
	stopReplay chan struct{}
	collected  chan struct{} // closed when the collector has drained the queue
	replayDone chan struct{}

	closeOnce sync.Once
	closeErr  error

	written, spooled, replayed        atomic.Int64
	storeErrors, spoolErrors          atomic.Int64
	blocked, blockedNanos, maxBlocked atomic.Int64
	droppedAfterClose                 atomic.Int64

	mu             sync.Mutex // guards what follows
	down           bool       // a failure streak: batches go to the spool
	downSince      time.Time
	streakReplayed int64
	dropped        map[reason.Code]int64 // since start
	refused        atomic.Int64          // of those, events the store refused (ErrRejected)
	pending        map[reason.Code]int64 // not yet in Store.RecordDropped; mirrors dropped.json
	unlogged       map[reason.Code]int64 // since the last log line about drops
	unloggedCause  string
	lastDropLog    time.Time
	lastBlockLog   time.Time
	blockedLogged  int64
}

// WriterOptions configure a Writer. Zero values take the defaults.
type WriterOptions struct {
	// BatchInterval is how long events may wait to be written together;
	// DefaultBatchInterval when zero. It bounds what kill -9 loses.
	BatchInterval time.Duration
	// BatchSize is the most events in one store write; DefaultBatchSize
	// when zero. Each store write adds a posting row per distinct value
	// (and 64 for request ids) and a transaction, so larger batches cost
	// less per event: 4 000 rather than 1 000 saved 0.85 µs of a
	// forward-auth gateway's CPU per event at 45 000 requests a second.
	BatchSize int
	// SpoolDir holds the spool (data_dir/spool); required. One Writer at a
	// time may use it: NewWriter fails if another process holds it.
	SpoolDir string
	// SpoolMaxBytes bounds the spool on disk; DefaultSpoolMaxBytes when zero.
	SpoolMaxBytes int64
	// Logger receives the store's failures and recoveries and the drop
	// counts; slog.Default() when nil.
	Logger *slog.Logger
	// Now returns the current time (for log rate limits and outage
	// durations); time.Now when nil.
	Now func() time.Time
	// QueueSize is how many events the in-memory queue holds before Record
	// waits; DefaultQueueSize when zero.
	QueueSize int
	// WriteTimeout bounds one store call; after it the batch is spooled.
	// DefaultWriteTimeout when zero.
	WriteTimeout time.Duration
}

// Writer defaults.
const (
	DefaultBatchInterval = 100 * time.Millisecond
	DefaultBatchSize     = 4000
	DefaultSpoolMaxBytes = 256 << 20
	DefaultQueueSize     = 16384
	DefaultWriteTimeout  = 5 * time.Second
)

// Replay backoff and log rate limit.
const (
	retryMin      = 100 * time.Millisecond
	retryMax      = 2 * time.Second
	logEvery      = 10 * time.Second
	maxSegmentLen = 8 << 20
)

// WriterStats is a snapshot of a Writer's counters, for metrics.
type WriterStats struct {
	Written  int64 // events written to the store directly
	Spooled  int64 // events appended to the spool
	Replayed int64 // spooled events since written to the store
	// Dropped counts the events lost since start — the spool was full or
	// could not be written, or the store refused their content — per
	// reason code ("" for allowed).
	Dropped map[reason.Code]int64
	// Refused counts the events of Dropped the store refused.
	Refused int64
	// DroppedAfterClose counts events recorded after Close began.
	DroppedAfterClose int64
	StoreErrors       int64 // failed store calls: writes, replays, RecordDropped
	SpoolErrors       int64 // failed spool writes
	StoreDown         bool  // a failure streak is in progress
	QueueLen          int
	QueueCap          int
	SpoolBytes        int64
	SpoolSegments     int
	Blocked           int64         // Record calls that waited for room in a full queue
	BlockedTime       time.Duration // their total wait
	MaxBlocked        time.Duration // the longest single wait
}

// NewWriter starts a Writer on store. It takes SpoolDir's lock, reads the
// drop counts not yet recorded, and starts replaying segments a previous
// run left (its crash, or a store that was down at its exit) before any
// new event reaches the store. It fails when SpoolDir is unset, cannot be
// created, or is in use by another Writer.
func NewWriter(store Store, opts WriterOptions) (*Writer, error) {
	if opts.SpoolDir == "" {
		return nil, errors.New("signinlog: WriterOptions.SpoolDir is required")
	}
	if opts.BatchInterval <= 0 {
		opts.BatchInterval = DefaultBatchInterval
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.SpoolMaxBytes <= 0 {
		opts.SpoolMaxBytes = DefaultSpoolMaxBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	// Space is freed a whole segment at a time, so segments are a small
	// fraction of the limit.
	segMax := min(max(opts.SpoolMaxBytes/8, 1), maxSegmentLen)
	if err := os.MkdirAll(opts.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockSpool(opts.SpoolDir)
	if err != nil {
		return nil, err
	}
	sp, err := openSpool(opts.SpoolDir, opts.SpoolMaxBytes, segMax)
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	pending, err := loadDropped(opts.SpoolDir)
	if err != nil {
		// Counts, not events: losing them must not stop the gateway.
		opts.Logger.Error("sign-in log: cannot read the saved drop counts; starting from zero", "err", err)
		pending = map[reason.Code]int64{}
	}
	w := &Writer{
		store:      store,
		opts:       opts,
		log:        opts.Logger,
		spool:      sp,
		lock:       lock,
		queue:      make(chan *authgate.Decision, opts.QueueSize),
		highWater:  max(opts.QueueSize*3/4, 1),
		full:       make(chan struct{}, 1),
		fullAt:     max(min(opts.BatchSize, opts.QueueSize/2), 1),
		kick:       make(chan struct{}, 1),
		stopReplay: make(chan struct{}),
		collected:  make(chan struct{}),
		replayDone: make(chan struct{}),
		dropped:    map[reason.Code]int64{},
		pending:    pending,
		unlogged:   map[reason.Code]int64{},
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	if bytes, n := sp.usage(); n > 0 {
		w.down, w.downSince = true, opts.Now()
		w.log.Info("sign-in log: replaying events spooled by an earlier run",
			"spool_dir", opts.SpoolDir, "segments", n, "spool_bytes", bytes)
	}
	go w.collect()
	go w.replayLoop()
	if !sp.empty() || len(pending) > 0 {
		w.wake()
	}
	return w, nil
}

// Record queues d for the store. It returns at once unless the queue is
// full, and then waits for room rather than lose d. After Close has begun,
// d is counted in DroppedAfterClose and discarded.
func (w *Writer) Record(d *authgate.Decision) {
	if d == nil {
		return
	}
	w.inflight.Add(1)
	if w.closed.Load() {
		w.inflight.Add(-1)
		w.droppedAfterClose.Add(1)
		return
	}
	select {
	case w.queue <- d:
	default:
		start := time.Now()
		w.queue <- d
		waited := int64(time.Since(start))
		w.blocked.Add(1)
		w.blockedNanos.Add(waited)
		for m := w.maxBlocked.Load(); waited > m && !w.maxBlocked.CompareAndSwap(m, waited); m = w.maxBlocked.Load() {
		}
	}
	if len(w.queue) >= w.fullAt {
		select {
		case w.full <- struct{}{}:
		default:
		}
	}
	if len(w.queue) >= w.highWater {
		// The store is not keeping up: abort the write in progress so its
		// batch, and the backlog, go to the spool.
		if c := w.writeCancel.Load(); c != nil {
			(*c)()
		}
	}
	w.inflight.Add(-1)
}

// Close stops accepting events and returns once every recorded event is in
// the store or, when the store is unavailable, in the spool. It also tries
// once to replay the spool and record pending drop counts. When ctx ends
// first, store calls in progress are abandoned and their batches spooled.
// Close does not close the store. It returns an error when events were
// dropped while it drained the queue (spool full or unwritable) or the
// spool could not be closed; calling it again returns the same error.
func (w *Writer) Close(ctx context.Context) error {
	w.closeOnce.Do(func() { w.closeErr = w.close(ctx) })
	return w.closeErr
}

func (w *Writer) close(ctx context.Context) error {
	stop := context.AfterFunc(ctx, w.cancel)
	defer stop()
	droppedBefore, refusedBefore := w.droppedTotal()-w.refused.Load(), w.refused.Load()

	w.closed.Store(true)
	for w.inflight.Load() > 0 { // a Record that passed its check before Close
		time.Sleep(50 * time.Microsecond)
	}
	close(w.queue)
	select {
	case w.full <- struct{}{}: // the collector sees the queue closed now, not at its next tick
	default:
	}
	<-w.collected
	close(w.stopReplay)
	<-w.replayDone

	var errs []error
	if n := w.droppedTotal() - w.refused.Load() - droppedBefore; n > 0 {
		errs = append(errs, fmt.Errorf("signinlog: %d events dropped while closing: spool full or unwritable", n))
	}
	if n := w.refused.Load() - refusedBefore; n > 0 {
		w.log.Warn("sign-in log: events the store refused were dropped while closing", "events", n)
	}
	w.mu.Lock()
	pending := len(w.pending)
	w.mu.Unlock()
	if (!w.spool.empty() || pending > 0) && w.ctx.Err() == nil {
		err := w.replayAll(nil)
		w.drained.Store(err == nil)
		if err != nil {
			w.storeErrors.Add(1)
		}
	}
	if w.drained.Load() && w.spool.empty() {
		w.recovered()
	}
	if bytes, n := w.spool.usage(); n > 0 {
		w.log.Warn("sign-in log: store unavailable at shutdown; spooled events will be replayed at the next start",
			"spool_dir", w.opts.SpoolDir, "segments", n, "spool_bytes", bytes)
	}
	if err := w.spool.close(); err != nil {
		errs = append(errs, err)
	}
	if err := w.lock.Close(); err != nil {
		errs = append(errs, err)
	}
	w.cancel()
	return errors.Join(errs...)
}

// Stats returns the Writer's counters.
func (w *Writer) Stats() WriterStats {
	bytes, segs := w.spool.usage()
	w.mu.Lock()
	dropped := maps.Clone(w.dropped)
	down := w.down
	w.mu.Unlock()
	return WriterStats{
		Written:           w.written.Load(),
		Spooled:           w.spooled.Load(),
		Replayed:          w.replayed.Load(),
		Dropped:           dropped,
		DroppedAfterClose: w.droppedAfterClose.Load(),
		Refused:           w.refused.Load(),
		StoreErrors:       w.storeErrors.Load(),
		SpoolErrors:       w.spoolErrors.Load(),
		StoreDown:         down,
		QueueLen:          len(w.queue),
		QueueCap:          cap(w.queue),
		SpoolBytes:        bytes,
		SpoolSegments:     segs,
		Blocked:           w.blocked.Load(),
		BlockedTime:       time.Duration(w.blockedNanos.Load()),
		MaxBlocked:        time.Duration(w.maxBlocked.Load()),
	}
}

// collect batches the queue until it is closed and drained.
func (w *Writer) collect() {
	defer close(w.collected)
	tick := time.NewTicker(w.opts.BatchInterval)
	defer tick.Stop()
	batch := make([]*authgate.Decision, 0, w.opts.BatchSize)
	for {
		ticked := false
		select {
		case <-w.full:
		case <-tick.C:
			ticked = true
		}
		// Take what is queued now (not what arrives meanwhile, so that
		// under a sustained flood the ticks still come round), a store
		// write per full batch. Once Close has begun, take everything, to
		// see the queue closed: Close's wake-up may have found one
		// already pending and been dropped.
		open := true
	drain:
		for n := max(len(w.queue), 1); n > 0 || w.closed.Load(); n-- {
			select {
			case d, ok := <-w.queue:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, d)
				if len(batch) >= w.opts.BatchSize {
					w.flush(batch)
					batch = make([]*authgate.Decision, 0, w.opts.BatchSize)
				}
			default:
				break drain
			}
		}
		if !open {
			w.flush(batch)
			w.logDrops(true)
			return
		}
		if ticked {
			if len(batch) > 0 {
				w.flush(batch)
				batch = make([]*authgate.Decision, 0, w.opts.BatchSize)
			}
			if w.drained.Load() && w.spool.empty() {
				w.recovered()
			}
			w.logDrops(false)
			w.logBlocked()
		}
	}
}

// flush writes one batch to the store, or to the spool while the spool holds
// older events or the store fails.
func (w *Writer) flush(batch []*authgate.Decision) {
	if len(batch) == 0 {
		return
	}
	// Only this goroutine adds to the spool, so once it is empty it stays
	// empty until flush spools again: a direct write never overtakes a
	// spooled event.
	if !w.spool.empty() {
		w.toSpool(batch)
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.opts.WriteTimeout)
	w.writeCancel.Store(&cancel)
	n, err := w.write(ctx, batch)
	w.writeCancel.Store(nil)
	aborted := ctx.Err() == context.Canceled && w.ctx.Err() == nil
	cancel()
	if err == nil {
		w.written.Add(int64(n))
		w.recovered()
		return
	}
	w.storeErrors.Add(1)
	if aborted {
		err = fmt.Errorf("store not keeping up: write aborted when the queue filled while it ran: %w", err)
	}
	w.failing(err)
	w.toSpool(batch)
}

// write stores batch and returns how many events it stored. A batch the
// store rejects for its content (ErrRejected) is split in halves until the
// events it refuses are alone; those are dropped and counted, the others
// stored. Retrying a rejected event would only stop the log: one forged
// value must not keep every later event out of the store.
func (w *Writer) write(ctx context.Context, batch []*authgate.Decision) (int, error) {
	err := w.store.Write(ctx, batch)
	switch {
	case err == nil:
		return len(batch), nil
	case !errors.Is(err, ErrRejected):
		return 0, err
	case len(batch) == 1:
		w.log.Warn("sign-in log: the store refused an event's content; it is dropped", "request_id", batch[0].RequestID, "err", err)
		w.refused.Add(1)
		w.drop(batch, "refused by the store: "+err.Error())
		return 0, nil
	}
	half := len(batch) / 2
	a, err := w.write(ctx, batch[:half])
	if err != nil {
		return a, err
	}
	b, err := w.write(ctx, batch[half:])
	return a + b, err
}

// failing starts a failure streak, logging it once.
func (w *Writer) failing(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.down {
		return
	}
	w.down, w.downSince, w.streakReplayed = true, w.opts.Now(), 0
	w.drained.Store(false)
	w.log.Warn("sign-in log store failing; spooling events until it recovers",
		"err", err, "spool_dir", w.opts.SpoolDir)
}

// recovered ends a failure streak: after a direct write succeeded, or once
// the replay loop has written the whole spool (drained) and nothing was
// spooled since. Only the collector (and Close after it) calls it, so a
// streak cannot end between a failed write and the spooling of its batch.
func (w *Writer) recovered() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.down {
		return
	}
	w.down = false
	w.log.Info("sign-in log store recovered; spooled events replayed",
		"replayed", w.streakReplayed, "outage", w.opts.Now().Sub(w.downSince).Round(time.Millisecond))
}

// toSpool appends batch to the spool and drops what does not fit.
func (w *Writer) toSpool(batch []*authgate.Decision) {
	n, err := w.spool.append(batch)
	if n > 0 {
		w.spooled.Add(int64(n))
		w.wake()
	}
	switch {
	case err != nil:
		w.spoolErrors.Add(1)
		w.drop(batch[n:], "spool write failed: "+err.Error())
	case n < len(batch):
		w.drop(batch[n:], "spool full")
	}
}

// wake makes the replay loop look at the spool and the drop counts.
func (w *Writer) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// drop counts events that could not be kept, saves the counts for
// RecordDropped and logs them (rate limited).
func (w *Writer) drop(events []*authgate.Decision, cause string) {
	if len(events) == 0 {
		return
	}
	w.mu.Lock()
	for _, d := range events {
		w.dropped[d.Reason]++
		w.pending[d.Reason]++
		w.unlogged[d.Reason]++
	}
	w.unloggedCause = cause
	if err := saveDropped(w.opts.SpoolDir, w.pending); err != nil {
		w.log.Error("sign-in log: cannot save drop counts", "err", err)
	}
	w.mu.Unlock()
	w.logDrops(false)
	w.wake()
}

// logDrops logs the drops since the last such line, at most every logEvery
// unless now is set.
func (w *Writer) logDrops(now bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.unlogged) == 0 {
		return
	}
	t := w.opts.Now()
	if !now && !w.lastDropLog.IsZero() && t.Sub(w.lastDropLog) < logEvery {
		return
	}
	var n int64
	by := make([]any, 0, 2*len(w.unlogged))
	for code, c := range w.unlogged {
		n += c
		name := string(code)
		if name == "" {
			name = "allowed"
		}
		by = append(by, slog.Int64(name, c))
	}
	bytes, _ := w.spool.usage()
	w.log.Error("sign-in log events dropped",
		"dropped", n, slog.Group("by_reason", by...), "cause", w.unloggedCause,
		"spool_bytes", bytes, "spool_max_bytes", w.opts.SpoolMaxBytes)
	w.unlogged = map[reason.Code]int64{}
	w.lastDropLog = t
}

// logBlocked says, at most every logEvery, that Record had to wait.
func (w *Writer) logBlocked() {
	b := w.blocked.Load()
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.opts.Now()
	if b == w.blockedLogged || (!w.lastBlockLog.IsZero() && t.Sub(w.lastBlockLog) < logEvery) {
		return
	}
	w.log.Warn("sign-in log queue full: requests waited to record their events (store and spool both slow)",
		"waits", b-w.blockedLogged, "max_wait", time.Duration(w.maxBlocked.Load()))
	w.blockedLogged, w.lastBlockLog = b, t
}

func (w *Writer) droppedTotal() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var n int64
	for _, c := range w.dropped {
		n += c
	}
	return n
}

var _ authgate.EventSink = (*Writer)(nil)
