package signinlog_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/signinlog"
	"github.com/authgate/authgate/sqlite"
)

// The durability tests run against the real stores: SQLite here, PostgreSQL
// in writer_postgres_test.go.

// testEvent returns event i. All test events share one time, so the
// stores' newest-first order (time, then insertion) is the reverse of the
// order in which they reached the store.
func testEvent(i int) *authgate.Decision {
	d := &authgate.Decision{
		RequestID: fmt.Sprintf("req-%07d", i),
		Time:      time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Route:     "api", Method: authgate.MethodBearer, Status: 401,
		Claimed: "alice", Reason: reason.TokenExpired,
		Checks: []authgate.Check{{Name: "jwt.exp", Result: authgate.Fail, Detail: "expired 312 s ago", Reason: reason.TokenExpired}},
	}
	if i%3 == 0 {
		d.Allowed, d.Status, d.Reason, d.Checks = true, 200, "", []authgate.Check{{Name: "jwt.exp", Result: authgate.Pass}}
	}
	return d
}

// storedSeqs returns the sequence numbers of the events in s in the order
// they reached it.
func storedSeqs(t *testing.T, s signinlog.Store) []int {
	t.Helper()
	var seqs []int
	cursor := ""
	for {
		events, next, err := s.Query(context.Background(), signinlog.Filter{}, signinlog.Page{Limit: 1000, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range events {
			n, err := strconv.Atoi(strings.TrimPrefix(d.RequestID, "req-"))
			if err != nil {
				t.Fatalf("unexpected request id %q", d.RequestID)
			}
			seqs = append(seqs, n)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for i, j := 0, len(seqs)-1; i < j; i, j = i+1, j-1 {
		seqs[i], seqs[j] = seqs[j], seqs[i]
	}
	return seqs
}

// checkInOrder fails unless seqs is 0, 1, ..., n-1.
func checkInOrder(t *testing.T, seqs []int, n int) {
	t.Helper()
	if len(seqs) != n {
		t.Errorf("%d events in the store, want %d", len(seqs), n)
	}
	for i, s := range seqs {
		if s != i {
			t.Errorf("event %d in the store is req-%07d: out of order, missing or twice", i, s)
			return
		}
	}
}

func openSQLiteEvents(t *testing.T, path string) *sqlite.EventStore {
	t.Helper()
	s, err := sqlite.OpenEvents(path, sqlite.EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestCloseWritesEveryRecordedEventIntoSQLite(t *testing.T) {
	dir := t.TempDir()
	store := openSQLiteEvents(t, filepath.Join(dir, "signinlog.db"))
	w, err := signinlog.NewWriter(store, signinlog.WriterOptions{SpoolDir: filepath.Join(dir, "spool"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	for i := range n {
		w.Record(testEvent(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	checkInOrder(t, storedSeqs(t, store), n)
	// Recorded faster than SQLite takes them (under the race detector), the
	// backlog may have gone through the spool; either way it is all there.
	if st := w.Stats(); st.Written+st.Replayed != n || st.SpoolBytes != 0 {
		t.Errorf("Stats = %+v, want all %d written or replayed", st, n)
	}
}

// downAfter is a real store whose writes start failing at a given moment,
// for the kill test's child (the seam: a disk that filled up).
type downAfter struct {
	signinlog.Store
	at time.Time
}

var errFull = errors.New("disk full (simulated)")

func (s downAfter) Write(ctx context.Context, events []*authgate.Decision) error {
	if time.Now().After(s.at) {
		return errFull
	}
	return s.Store.Write(ctx, events)
}

const childEnv = "AUTHGATE_WRITER_KILL_CHILD"

// TestKillChild is the process TestKillNineLosesAtMostTheLastBatchInterval
// kills: it records events into a real SQLite store, printing each sequence number once Record has returned. After
// storeFor its store fails, so later events go to the spool.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(childEnv)
	if dir == "" {
		t.Skip("the child of TestKillNineLosesAtMostTheLastBatchInterval; runs only when it starts it")
	}
	store, err := sqlite.OpenEvents(filepath.Join(dir, "signinlog.db"), sqlite.EventOptions{})
	if err != nil {
		t.Fatal(err)
	}
	storeFor, _ := time.ParseDuration(os.Getenv(childEnv + "_STORE_FOR"))
	w, err := signinlog.NewWriter(downAfter{store, time.Now().Add(storeFor)}, signinlog.WriterOptions{
		SpoolDir: filepath.Join(dir, "spool"), BatchInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	// About 1000 events a second: below what SQLite takes even under the
	// race detector, so the loss is bounded by BatchInterval, not backlog.
	for i := 0; ; i++ {
		w.Record(testEvent(i))
		fmt.Println(i)
		time.Sleep(time.Millisecond)
	}
}

func TestKillNineLosesAtMostTheLastBatchInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a child process")
	}
	const batchInterval = 100 * time.Millisecond
	// The margin covers one SQLite commit and a child starved of CPU by
	// the race detector and the packages tested beside this one.
	const margin = 900 * time.Millisecond
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childEnv+"_STORE_FOR=1s")
	cmd.Stderr = testWriter{t}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	// The time each event was known recorded: when its line arrived, which
	// is after Record returned.
	var seen []time.Time
	lines := bufio.NewScanner(stdout)
	var started atomic.Bool
	killed := make(chan time.Time, 1)
	go func() {
		time.Sleep(2 * time.Second) // 1 s into the store, ~1 s into the spool
		for !started.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		killed <- time.Now()
		cmd.Process.Signal(syscall.SIGKILL)
	}()
	for lines.Scan() {
		now := time.Now()
		n, err := strconv.Atoi(lines.Text())
		if err != nil {
			continue // test framework output
		}
		if n != len(seen) {
			t.Fatalf("child printed %d after %d", n, len(seen)-1)
		}
		seen = append(seen, now)
		started.Store(true)
	}
	cmd.Wait()
	killedAt := <-killed
	if len(seen) == 0 {
		t.Fatal("the child printed nothing")
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "spool", "*.seg"))
	if len(segs) == 0 {
		t.Fatal("the child left no spool segments: the test did not exercise the spool")
	}

	// Restart on the same spool: the leftovers are replayed.
	store := openSQLiteEvents(t, filepath.Join(dir, "signinlog.db"))
	before := len(storedSeqs(t, store))
	w, err := signinlog.NewWriter(store, signinlog.WriterOptions{SpoolDir: filepath.Join(dir, "spool"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "spool", "*.seg")); len(segs) != 0 {
		t.Errorf("segments left after the restart: %v", segs)
	}
	seqs := storedSeqs(t, store)
	t.Logf("child recorded %d events; %d were in SQLite at the kill, %d after replaying the spool",
		len(seen), before, len(seqs))

	// Every event recorded before the loss window is there, once, in order.
	mustHave := 0
	for mustHave < len(seen) && seen[mustHave].Before(killedAt.Add(-batchInterval-margin)) {
		mustHave++
	}
	if len(seqs) < mustHave {
		t.Errorf("only %d events stored, want at least the %d recorded more than %v before the kill",
			len(seqs), mustHave, batchInterval+margin)
	}
	for i, s := range seqs {
		if s != i {
			t.Fatalf("stored event %d is req-%07d: out of order, missing or twice", i, s)
		}
	}
	if len(seqs) < len(seen) {
		t.Logf("lost: the %d events recorded in the last %v before the kill", len(seen)-len(seqs),
			killedAt.Sub(seen[len(seqs)]).Round(time.Millisecond))
	}
}

func TestDropCountsReachSQLiteAndSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	store := openSQLiteEvents(t, filepath.Join(dir, "signinlog.db"))
	spool := filepath.Join(dir, "spool")
	down := &switchable{Store: store}
	down.down.Store(true)
	opts := signinlog.WriterOptions{SpoolDir: spool, SpoolMaxBytes: 16 << 10, Logger: testLogger(t)}
	w, err := signinlog.NewWriter(down, opts)
	if err != nil {
		t.Fatal(err)
	}
	const n = 600
	for i := range n {
		w.Record(testEvent(i))
	}
	w.Close(context.Background())
	st := w.Stats()
	var dropped int64
	for _, c := range st.Dropped {
		dropped += c
	}
	if dropped == 0 || st.Spooled+dropped != n {
		t.Fatalf("spooled %d, dropped %v: want some dropped, %d in all", st.Spooled, st.Dropped, n)
	}

	// The store comes back; a new Writer replays the spool and records the
	// counts the previous one saved.
	w2, err := signinlog.NewWriter(store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := store.Dropped(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for code, c := range got {
		total += c
		if c != st.Dropped[code] {
			t.Errorf("dropped %s: %d in the store, %d counted", code, c, st.Dropped[code])
		}
	}
	if total != dropped {
		t.Errorf("%d drops in the store, want %d", total, dropped)
	}
	checkInOrder(t, storedSeqs(t, store), int(st.Spooled))
}

// switchable is a real store with an outage switch.
type switchable struct {
	signinlog.Store
	down atomic.Bool
}

func (s *switchable) Write(ctx context.Context, events []*authgate.Decision) error {
	if s.down.Load() {
		return errFull
	}
	return s.Store.Write(ctx, events)
}

func (s *switchable) RecordDropped(ctx context.Context, counts map[reason.Code]int64) error {
	if s.down.Load() {
		return errFull
	}
	return s.Store.RecordDropped(ctx, counts)
}

var _ io.Writer = testWriter{}

// TestAnEventTheStoreRefusesIsDroppedNotRetriedForever puts one event the
// store cannot hold (a time before 1678, beyond Unix nanoseconds) among
// good ones: the others are stored, that one is dropped and counted, and
// the store is not reported down.
func TestAnEventTheStoreRefusesIsDroppedNotRetriedForever(t *testing.T) {
	dir := t.TempDir()
	store := openSQLiteEvents(t, filepath.Join(dir, "signinlog.db"))
	w, err := signinlog.NewWriter(store, signinlog.WriterOptions{SpoolDir: filepath.Join(dir, "spool"), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		d := testEvent(i)
		if i == 77 {
			d.Time = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
			d.Reason = reason.TokenMalformed
		}
		w.Record(d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if got := len(storedSeqs(t, store)); got != n-1 {
		t.Errorf("%d events stored, want %d: one refused event must not keep the others out", got, n-1)
	}
	if st.Dropped[reason.TokenMalformed] != 1 || st.Refused != 1 || st.SpoolBytes != 0 || st.StoreDown {
		t.Errorf("Stats = %+v, want the refused event dropped and counted under its reason, and an empty spool", st)
	}
}
