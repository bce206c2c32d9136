package signinlog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/internal/syncbuf"
	"github.com/authgate/authgate/reason"
	"github.com/google/go-cmp/cmp"
)

// memStore is a Store at the seam: a slice with a switch that makes every
// call fail, and an optional delay in Write. The batching, ordering and
// spool logic is tested against it; the durability tests use the real
// stores (writer_sqlite_test.go, writer_postgres_test.go).
type memStore struct {
	mu      sync.Mutex
	events  []*authgate.Decision
	batches []int
	dropped map[reason.Code]int64
	writes  int

	down      atomic.Bool
	delay     atomic.Int64 // nanoseconds each Write waits (or until its ctx ends)
	failAfter atomic.Int64 // >0: fail every Write after this many successful ones
}

var errDown = errors.New("store down")

func newMemStore() *memStore { return &memStore{dropped: map[reason.Code]int64{}} }

func (s *memStore) Write(ctx context.Context, events []*authgate.Decision) error {
	// Waits while delay (re-read, so a test can release writes in
	// progress) has not elapsed.
	for start := time.Now(); time.Since(start) < time.Duration(s.delay.Load()); {
		select {
		case <-time.After(time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.down.Load() {
		return errDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.failAfter.Load(); n > 0 && int64(s.writes) >= n {
		return errDown
	}
	s.writes++
	s.events = append(s.events, events...)
	s.batches = append(s.batches, len(events))
	return nil
}

func (s *memStore) RecordDropped(_ context.Context, counts map[reason.Code]int64) error {
	if s.down.Load() {
		return errDown
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, n := range counts {
		s.dropped[c] += n
	}
	return nil
}

func (s *memStore) Dropped(context.Context) (map[reason.Code]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[reason.Code]int64{}
	for c, n := range s.dropped {
		out[c] = n
	}
	return out, nil
}

func (s *memStore) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, len(s.events))
	for i, d := range s.events {
		ids[i] = d.RequestID
	}
	return ids
}

func (s *memStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

func (s *memStore) Query(context.Context, Filter, Page) ([]*authgate.Decision, string, error) {
	return nil, "", nil
}
func (s *memStore) Get(context.Context, string) ([]*authgate.Decision, error) { return nil, nil }
func (s *memStore) Stats(context.Context, Filter, GroupBy) ([]Count, error)   { return nil, nil }
func (s *memStore) SkewStats(context.Context, string, time.Time) (int, time.Duration, error) {
	return 0, 0, nil
}
func (s *memStore) Purge(context.Context, time.Time) (int64, error) { return 0, nil }
func (s *memStore) Close() error                                    { return nil }

var _ Store = (*memStore)(nil)

// event returns the i-th test event: a denial whose reason cycles through
// three codes, every fourth one allowed.
func event(i int) *authgate.Decision {
	d := &authgate.Decision{
		RequestID: fmt.Sprintf("req-%06d", i),
		Time:      time.Unix(1700000000, 0).Add(time.Duration(i) * time.Millisecond).UTC(),
		Route:     "api", Method: authgate.MethodBearer, Status: 401,
		Checks: []authgate.Check{{Name: "jwt.exp", Result: authgate.Fail, Detail: "expired 312 s ago"}},
	}
	switch i % 4 {
	case 0:
		d.Allowed, d.Status, d.Checks[0].Result = true, 200, authgate.Pass
	case 1:
		d.Reason = reason.TokenExpired
	case 2:
		d.Reason = reason.AudienceMismatch
	case 3:
		d.Reason = reason.TokenSignatureInvalid
	}
	return d
}

func wantIDs(from, to int) []string {
	var ids []string
	for i := from; i < to; i++ {
		ids = append(ids, fmt.Sprintf("req-%06d", i))
	}
	return ids
}

// syncBuffer is a log destination the writer's goroutines may share.
type syncBuffer struct{ syncbuf.Buffer }

func (b *syncBuffer) count(msg string) int { return strings.Count(b.String(), msg) }

func newTestWriter(t *testing.T, store Store, opts WriterOptions) (*Writer, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.SpoolDir == "" {
		opts.SpoolDir = filepath.Join(t.TempDir(), "spool")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if opts.BatchInterval == 0 {
		opts.BatchInterval = 10 * time.Millisecond
	}
	w, err := NewWriter(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	return w, logs
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWriterWritesEveryEventInOrderInBatchesOfAtMostBatchSize(t *testing.T) {
	s := newMemStore()
	w, _ := newTestWriter(t, s, WriterOptions{BatchSize: 100, BatchInterval: time.Hour})
	for i := range 1050 {
		w.Record(event(i))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantIDs(0, 1050), s.ids()); diff != "" {
		t.Errorf("events in the store (-want +got):\n%s", diff)
	}
	for _, n := range s.batches {
		if n > 100 {
			t.Errorf("a batch of %d events, want at most BatchSize 100", n)
		}
	}
	if st := w.Stats(); st.Written != 1050 || st.Spooled != 0 {
		t.Errorf("Stats = %+v, want 1050 written, none spooled", st)
	}
}

func TestWriterWritesAPartialBatchAfterBatchInterval(t *testing.T) {
	s := newMemStore()
	w, _ := newTestWriter(t, s, WriterOptions{BatchInterval: 20 * time.Millisecond})
	for i := range 3 {
		w.Record(event(i))
	}
	waitFor(t, "3 events in the store without Close", func() bool { return s.len() == 3 })
	if w.Stats().Written != 3 {
		t.Errorf("Written = %d, want 3", w.Stats().Written)
	}
}

func TestStoreDownSpoolsEventsThenReplaysThemInOrderWhenItIsBack(t *testing.T) {
	s := newMemStore()
	s.down.Store(true)
	w, logs := newTestWriter(t, s, WriterOptions{BatchSize: 50})
	for i := range 500 {
		w.Record(event(i))
		if i%50 == 0 {
			time.Sleep(time.Millisecond) // several batches, several failures
		}
	}
	waitFor(t, "500 spooled events", func() bool { return w.Stats().Spooled == 500 })
	st := w.Stats()
	if !st.StoreDown || st.SpoolBytes == 0 || st.StoreErrors == 0 || s.len() != 0 {
		t.Fatalf("while the store is down: Stats = %+v, store has %d events", st, s.len())
	}
	if n := logs.count("sign-in log store failing"); n != 1 {
		t.Errorf("%d log lines say the store is failing, want 1 per failure streak:\n%s", n, logs)
	}

	s.down.Store(false)
	for i := 500; i < 600; i++ { // recorded during the replay: still after it
		w.Record(event(i))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantIDs(0, 600), s.ids()); diff != "" {
		t.Errorf("events in the store (-want +got):\n%s", diff)
	}
	if segs := segments(t, w.opts.SpoolDir); len(segs) != 0 {
		t.Errorf("replayed segments left behind: %v", segs)
	}
	if st := w.Stats(); st.Replayed < 500 || st.StoreDown || st.SpoolBytes != 0 {
		t.Errorf("after recovery: Stats = %+v", st)
	}
	if !strings.Contains(logs.String(), "sign-in log store recovered") {
		t.Errorf("no recovery log line:\n%s", logs)
	}
}

func TestCloseWithTheStoreDownKeepsEventsInTheSpoolForTheNextWriter(t *testing.T) {
	s := newMemStore()
	s.down.Store(true)
	dir := filepath.Join(t.TempDir(), "spool")
	w, logs := newTestWriter(t, s, WriterOptions{SpoolDir: dir})
	for i := range 200 {
		w.Record(event(i))
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatalf("Close with the store down: %v (events are in the spool, not lost)", err)
	}
	if st := w.Stats(); st.Spooled != 200 {
		t.Fatalf("Spooled = %d, want 200", st.Spooled)
	}
	if len(segments(t, dir)) == 0 || !strings.Contains(logs.String(), "replayed at the next start") {
		t.Fatalf("no spool left for the next start:\n%s", logs)
	}

	s.down.Store(false)
	w2, _ := newTestWriter(t, s, WriterOptions{SpoolDir: dir})
	for i := 200; i < 250; i++ {
		w2.Record(event(i))
	}
	if err := w2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantIDs(0, 250), s.ids()); diff != "" {
		t.Errorf("the old run's events come first (-want +got):\n%s", diff)
	}
	if segs := segments(t, dir); len(segs) != 0 {
		t.Errorf("segments left: %v", segs)
	}
}

func TestAFullSpoolDropsEventsCountsThemPerReasonAndRecordsTheCountsOnceTheStoreIsBack(t *testing.T) {
	s := newMemStore()
	s.down.Store(true)
	dir := filepath.Join(t.TempDir(), "spool")
	w, logs := newTestWriter(t, s, WriterOptions{SpoolDir: dir, SpoolMaxBytes: 8 << 10})
	const n = 400
	for i := range n {
		w.Record(event(i))
	}
	if err := w.Close(context.Background()); err == nil {
		t.Errorf("Close returned nil, want an error saying events were dropped while closing")
	}
	st := w.Stats()
	var dropped int64
	for _, c := range st.Dropped {
		dropped += c
	}
	if dropped == 0 || st.Spooled+dropped != n {
		t.Fatalf("spooled %d + dropped %d (%v), want some dropped and %d in all", st.Spooled, dropped, st.Dropped, n)
	}
	if st.SpoolBytes > 8<<10 {
		t.Errorf("SpoolBytes = %d, over SpoolMaxBytes", st.SpoolBytes)
	}
	if !strings.Contains(logs.String(), "sign-in log events dropped") {
		t.Errorf("no log line counts the drops:\n%s", logs)
	}
	// The spool keeps the oldest events; the newest are dropped.
	want := map[reason.Code]int64{}
	for i := int(st.Spooled); i < n; i++ {
		want[event(i).Reason]++
	}
	if diff := cmp.Diff(want, st.Dropped); diff != "" {
		t.Errorf("dropped per reason (-want +got):\n%s", diff)
	}

	// A restart with the store still down keeps the counts (dropped.json).
	w2, _ := newTestWriter(t, s, WriterOptions{SpoolDir: dir, SpoolMaxBytes: 8 << 10})
	if err := w2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Dropped(context.Background()); len(got) != 0 {
		t.Fatalf("counts recorded while the store was down: %v", got)
	}

	s.down.Store(false)
	w3, _ := newTestWriter(t, s, WriterOptions{SpoolDir: dir, SpoolMaxBytes: 8 << 10})
	waitFor(t, "drop counts in the store", func() bool {
		got, _ := s.Dropped(context.Background())
		return len(got) == len(want)
	})
	if err := w3.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Dropped(context.Background())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RecordDropped counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantIDs(0, int(st.Spooled)), s.ids()); diff != "" {
		t.Errorf("the spooled events replayed (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, droppedFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after RecordDropped: %v", droppedFile, err)
	}
}

func TestReplayResumesWhereItStoppedWithoutWritingEventsTwice(t *testing.T) {
	s := newMemStore()
	s.down.Store(true)
	dir := filepath.Join(t.TempDir(), "spool")
	w, _ := newTestWriter(t, s, WriterOptions{SpoolDir: dir, BatchSize: 10})
	for i := range 100 {
		w.Record(event(i))
	}
	w.Close(context.Background())

	// The store takes three replayed batches, then fails again.
	s.down.Store(false)
	s.failAfter.Store(3)
	w2, _ := newTestWriter(t, s, WriterOptions{SpoolDir: dir, BatchSize: 10})
	waitFor(t, "three replayed batches", func() bool { return s.len() == 30 })
	w2.Close(context.Background())

	s.failAfter.Store(0)
	w3, _ := newTestWriter(t, s, WriterOptions{SpoolDir: dir, BatchSize: 10})
	w3.Close(context.Background())
	if diff := cmp.Diff(wantIDs(0, 100), s.ids()); diff != "" {
		t.Errorf("events in the store (-want +got):\n%s", diff)
	}
}

func TestATornFrameAtTheEndOfASegmentIsSkippedAndTheFramesBeforeItReplayed(t *testing.T) {
	dir := t.TempDir()
	sp, err := openSpool(dir, 1<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if n, err := sp.append([]*authgate.Decision{event(2 * i), event(2*i + 1)}); n != 2 || err != nil {
			t.Fatalf("append = %d, %v", n, err)
		}
	}
	sp.close()
	// A crash in the middle of the fourth frame's write.
	frame, _, _ := encodeFrame([]*authgate.Decision{event(6)}, 1<<20)
	f, err := os.OpenFile(sp.path(1), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(frame[:len(frame)-5])
	f.Close()

	s := newMemStore()
	logs := &syncBuffer{}
	w, err := NewWriter(s, WriterOptions{SpoolDir: dir, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	w.Close(context.Background())
	if diff := cmp.Diff(wantIDs(0, 6), s.ids()); diff != "" {
		t.Errorf("replayed (-want +got):\n%s", diff)
	}
	if !strings.Contains(logs.String(), "damaged frame") {
		t.Errorf("the skipped bytes are not logged:\n%s", logs)
	}
}

func TestSpooledEventsComeBackAsRecorded(t *testing.T) {
	d := decision("req-1")
	d.Time = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
	d.Principal = &authgate.Principal{Subject: "alice", Method: authgate.MethodBearer, Scopes: []string{"read"}}
	d.ClockSkew = 95 * time.Second
	d.Latency = 1234 * time.Microsecond
	d.Source = netip.MustParseAddr("2001:db8::7")
	frame, n, err := encodeFrame([]*authgate.Decision{d}, 1<<20)
	if err != nil || n != 1 {
		t.Fatal(n, err)
	}
	fr := &frameReader{r: bufioReader(frame)}
	got, err := fr.next()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*authgate.Decision{d}, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestASecondWriterOnTheSameSpoolDirIsRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	newTestWriter(t, newMemStore(), WriterOptions{SpoolDir: dir})
	if _, err := NewWriter(newMemStore(), WriterOptions{SpoolDir: dir}); err == nil {
		t.Fatal("a second Writer on the same spool dir started")
	}
}

func TestEventsRecordedAfterCloseAreCounted(t *testing.T) {
	w, _ := newTestWriter(t, newMemStore(), WriterOptions{})
	w.Close(context.Background())
	w.Record(event(1))
	if got := w.Stats().DroppedAfterClose; got != 1 {
		t.Errorf("DroppedAfterClose = %d, want 1", got)
	}
}

func TestRecordStaysFastWhileTheStoreIsSlowBecauseBatchesGoToTheSpool(t *testing.T) {
	s := newMemStore()
	s.delay.Store(int64(time.Hour)) // every write hangs until its context ends
	w, logs := newTestWriter(t, s, WriterOptions{QueueSize: 256, BatchSize: 50, WriteTimeout: 10 * time.Second})
	const writers, each = 4, 2000
	var wg sync.WaitGroup
	var worst atomic.Int64
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				start := time.Now()
				w.Record(event(g*each + i))
				if d := int64(time.Since(start)); d > worst.Load() {
					worst.Store(d)
				}
			}
		}()
	}
	wg.Wait()
	st := w.Stats()
	t.Logf("slowest Record: %v; Record waited %d times, %v in all; spooled %d", time.Duration(worst.Load()), st.Blocked, st.BlockedTime, st.Spooled)
	// Not a performance assertion: without the queue-pressure abort every
	// request would wait for the 10 s WriteTimeout of the hanging write.
	if time.Duration(worst.Load()) >= 10*time.Second {
		t.Errorf("a Record waited %v, as long as the hanging store write", time.Duration(worst.Load()))
	}
	if !strings.Contains(logs.String(), "store not keeping up") {
		t.Errorf("no log line says the store write was aborted:\n%s", logs)
	}
	s.delay.Store(0)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.len(); got != writers*each {
		t.Errorf("%d events in the store, want %d", got, writers*each)
	}
}

func BenchmarkRecord(b *testing.B) {
	s := newMemStore()
	w, err := NewWriter(discardStore{s}, WriterOptions{SpoolDir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	d := event(1)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Record(d)
		}
	})
	b.StopTimer()
	w.Close(context.Background())
}

// discardStore takes writes and keeps nothing, so the benchmark measures
// Record and the collector, not the slice growing.
type discardStore struct{ *memStore }

func (discardStore) Write(context.Context, []*authgate.Decision) error { return nil }

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// The collector sleeps between ticks unless a batch's worth is queued: a
// full batch is written at once, without waiting for BatchInterval, and a
// smaller one waits for the tick.
func TestWriterWritesAFullBatchWithoutWaitingForTheInterval(t *testing.T) {
	s := newMemStore()
	w, _ := newTestWriter(t, s, WriterOptions{BatchSize: 100, BatchInterval: time.Hour})
	for i := range 150 {
		w.Record(event(i))
	}
	waitFor(t, "the first 100 events in the store without Close or a tick", func() bool { return s.len() >= 100 })
	time.Sleep(50 * time.Millisecond)
	if n := s.len(); n != 100 {
		t.Errorf("%d events in the store before the tick, want the one full batch of 100", n)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantIDs(0, 150), s.ids()); diff != "" {
		t.Errorf("events in the store after Close (-want +got):\n%s", diff)
	}
}
