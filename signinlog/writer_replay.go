package signinlog

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// errStopped ends a replay that Close interrupted; Close finishes it.
var errStopped = errors.New("replay stopped")

// replayLoop writes the spool into the store whenever it is woken, and
// retries with exponential backoff (retryMin to retryMax, jittered) while
// the store fails. While it waits to retry it ignores wake-ups, so a down
// store is probed at the backoff's pace, not once per spooled batch.
func (w *Writer) replayLoop() {
	defer close(w.replayDone)
	backoff := retryMin
	var retry <-chan time.Time
	for {
		kick := w.kick
		if retry != nil {
			kick = nil
		}
		select {
		case <-w.stopReplay:
			return
		case <-kick:
		case <-retry:
		}
		retry = nil
		err := w.replayAll(w.stopReplay)
		w.drained.Store(err == nil)
		switch {
		case errors.Is(err, errStopped):
			return
		case err != nil:
			w.storeErrors.Add(1)
			w.log.Debug("sign-in log: replay failed; retrying", "err", err, "in", backoff)
			retry = time.After(backoff/2 + rand.N(backoff))
			backoff = min(2*backoff, retryMax)
		default:
			backoff = retryMin
		}
	}
}

// replayAll writes every spooled segment into the store, oldest first, then
// gives the pending drop counts to Store.RecordDropped. It returns the first
// store error, or errStopped when stop is closed between two writes.
func (w *Writer) replayAll(stop <-chan struct{}) error {
	for {
		seg, ok := w.spool.oldest()
		if !ok {
			break
		}
		if err := w.replaySegment(seg, stop); err != nil {
			return err
		}
	}
	return w.recordDropped()
}

// replaySegment writes one sealed segment's frames into the store, in
// batches of up to BatchSize events, from where an earlier replay stopped,
// then deletes it.
func (w *Writer) replaySegment(seg segment, stop <-chan struct{}) error {
	f, err := os.Open(w.spool.path(seg.seq))
	if errors.Is(err, os.ErrNotExist) {
		return w.spool.remove(seg.seq)
	} else if err != nil {
		return err
	}
	defer f.Close()
	off := w.spool.readPos(seg.seq)
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	fr := &frameReader{r: bufio.NewReaderSize(f, 1<<20), off: off}
	var batch []*authgate.Decision
	write := func(end int64) error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case <-stop:
			return errStopped
		default:
		}
		ctx, cancel := context.WithTimeout(w.ctx, w.opts.WriteTimeout)
		n, err := w.write(ctx, batch)
		cancel()
		if err != nil {
			return err
		}
		w.replayed.Add(int64(n))
		w.mu.Lock()
		w.streakReplayed += int64(n)
		w.mu.Unlock()
		batch = nil
		if err := w.spool.writePos(seg.seq, end); err != nil {
			w.log.Warn("sign-in log: cannot save replay position; a restart may replay some events twice", "err", err)
		}
		return nil
	}
	for {
		start := fr.off
		events, err := fr.next()
		if errors.Is(err, errTorn) {
			w.log.Warn("sign-in log: spool segment ends in a damaged frame (a crash while spooling); skipping the rest",
				"segment", f.Name(), "offset", start, "bytes_skipped", seg.size-start)
			break
		} else if err != nil {
			break
		}
		if len(batch) > 0 && len(batch)+len(events) > w.opts.BatchSize {
			if err := write(start); err != nil {
				return err
			}
		}
		batch = append(batch, events...)
	}
	if err := write(fr.off); err != nil {
		return err
	}
	// The position goes first: a stale one naming a reused segment number
	// would skip events.
	if err := os.Remove(filepath.Join(w.spool.dir, posFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return w.spool.remove(seg.seq)
}

// recordDropped gives the pending drop counts to the store and forgets
// them once it has them.
func (w *Writer) recordDropped() error {
	w.mu.Lock()
	counts := maps.Clone(w.pending)
	w.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.opts.WriteTimeout)
	defer cancel()
	if err := w.store.RecordDropped(ctx, counts); err != nil {
		return fmt.Errorf("record dropped counts: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var n int64
	for code, c := range counts {
		n += c
		if w.pending[code] -= c; w.pending[code] <= 0 {
			delete(w.pending, code)
		}
	}
	if err := saveDropped(w.opts.SpoolDir, w.pending); err != nil {
		w.log.Error("sign-in log: cannot save drop counts; they may be recorded twice", "err", err)
	}
	w.log.Info("sign-in log: dropped-event counts recorded in the store", "dropped", n)
	return nil
}

// loadDropped reads the drop counts a previous run could not record.
func loadDropped(dir string) (map[reason.Code]int64, error) {
	counts := map[reason.Code]int64{}
	b, err := os.ReadFile(filepath.Join(dir, droppedFile))
	if errors.Is(err, os.ErrNotExist) {
		return counts, nil
	} else if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := json.Unmarshal(b, &counts); err != nil {
		return nil, fmt.Errorf("spool: %s: %w", droppedFile, err)
	}
	return counts, nil
}

// saveDropped replaces dropped.json with counts (fsynced: they exist
// nowhere else), or removes it when there are none.
func saveDropped(dir string, counts map[reason.Code]int64) error {
	name := filepath.Join(dir, droppedFile)
	if len(counts) == 0 {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.Marshal(counts)
	if err != nil {
		return err
	}
	return writeFileAtomic(name, b, true)
}
