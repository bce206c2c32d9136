package signinlog

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/authgate/authgate"
)

// The spool keeps the events the store could not take, on disk, until the
// replay loop writes them to the store. It is a directory of append-only
// segment files named by a sequence number (00000000000000000001.seg, ...),
// replayed oldest first. A segment is a sequence of frames, one per batch:
//
//	uint32 big-endian  length of the payload
//	uint32 big-endian  CRC-32C of the payload
//	payload            one JSON-encoded authgate.Decision per line
//
// Each frame is written with one write and fsynced before the batch counts
// as spooled. A frame cut short by a crash, or whose checksum does not
// match, ends its segment: the frames before it are replayed, nothing after.
//
// Beside the segments the directory holds:
//
//	lock          flock'ed by the Writer using the directory
//	replay.pos    how far the oldest segment was replayed ("NAME OFFSET")
//	dropped.json  drop counts per reason not yet given to Store.RecordDropped
type spool struct {
	dir    string
	max    int64 // byte limit over all segments
	segMax int64 // a segment is sealed once it reaches this size

	mu     sync.Mutex
	segs   []segment // oldest first; the last is active when active != nil
	active *os.File
	bytes  int64
	next   uint64 // sequence number of the next segment
}

// segment is one spool file.
type segment struct {
	seq  uint64
	size int64
}

const (
	segSuffix   = ".seg"
	frameHeader = 8
	posFile     = "replay.pos"
	droppedFile = "dropped.json"
	lockFile    = "lock"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// openSpool creates dir if needed and indexes the segments a previous run
// left in it. New frames always go to a new segment.
func openSpool(dir string, limit, segMax int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &spool{dir: dir, max: limit, segMax: segMax, next: 1}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, segSuffix) || !e.Type().IsRegular() {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, segSuffix), 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("spool: %w", err)
		}
		s.segs = append(s.segs, segment{seq: seq, size: info.Size()})
		s.bytes += info.Size()
		s.next = max(s.next, seq+1)
	}
	sort.Slice(s.segs, func(i, j int) bool { return s.segs[i].seq < s.segs[j].seq })
	return s, nil
}

func (s *spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, segSuffix))
}

// empty reports whether no segment is waiting for replay.
func (s *spool) empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.segs) == 0
}

// usage returns the bytes and the number of segments on disk.
func (s *spool) usage() (int64, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes, len(s.segs)
}

// encodeFrame returns the frame of the longest prefix of events that fits in
// room bytes, and how many events that is (0: none fits).
func encodeFrame(events []*authgate.Decision, room int64) ([]byte, int, error) {
	buf := make([]byte, frameHeader, frameHeader+1024*len(events))
	n := 0
	for _, d := range events {
		line, err := json.Marshal(d)
		if err != nil {
			return nil, 0, err
		}
		if int64(len(buf)+len(line)+1) > room {
			break
		}
		buf = append(buf, line...)
		buf = append(buf, '\n')
		n++
	}
	if n == 0 {
		return nil, 0, nil
	}
	payload := buf[frameHeader:]
	binary.BigEndian.PutUint32(buf[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[4:8], crc32.Checksum(payload, crcTable))
	return buf, n, nil
}

// append writes the longest prefix of events that fits under the size limit
// as one fsynced frame and returns how many it wrote; the caller drops the
// rest. On a write error nothing of the batch is kept (the partial frame is
// cut off) and append returns 0 and the error.
func (s *spool) append(events []*authgate.Decision) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	frame, n, err := encodeFrame(events, s.max-s.bytes)
	if err != nil || n == 0 {
		return 0, err
	}
	if s.active == nil || s.segs[len(s.segs)-1].size >= s.segMax {
		if err := s.rotateLocked(); err != nil {
			return 0, err
		}
	}
	last := &s.segs[len(s.segs)-1]
	if _, err := s.active.Write(frame); err != nil {
		_ = s.active.Truncate(last.size)
		return 0, fmt.Errorf("spool: %w", err)
	}
	if err := s.active.Sync(); err != nil {
		// After a failed fsync the page cache state is unknown; cut the
		// frame and seal the segment so nothing depends on it.
		_ = s.active.Truncate(last.size)
		_ = s.active.Close()
		s.active = nil
		return 0, fmt.Errorf("spool: %w", err)
	}
	last.size += int64(len(frame))
	s.bytes += int64(len(frame))
	return n, nil
}

// rotateLocked seals the active segment and starts a new one.
func (s *spool) rotateLocked() error {
	if s.active != nil {
		_ = s.active.Close()
		s.active = nil
	}
	seq := s.next
	f, err := os.OpenFile(s.path(seq), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	// The new name must survive a crash along with the frames in it.
	if err := syncDir(s.dir); err != nil {
		_ = f.Close()
		_ = os.Remove(s.path(seq))
		return fmt.Errorf("spool: %w", err)
	}
	s.next++
	s.active = f
	s.segs = append(s.segs, segment{seq: seq})
	return nil
}

// oldest returns the oldest segment for replay, sealing it first if it is
// the active one, and false when the spool is empty.
func (s *spool) oldest() (segment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.segs) == 0 {
		return segment{}, false
	}
	if s.active != nil && len(s.segs) == 1 {
		_ = s.active.Close()
		s.active = nil
	}
	return s.segs[0], true
}

// remove deletes the oldest segment, seq, once it has been replayed.
func (s *spool) remove(seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.segs) == 0 || s.segs[0].seq != seq {
		return fmt.Errorf("spool: segment %d is not the oldest", seq)
	}
	if err := os.Remove(s.path(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	s.bytes -= s.segs[0].size
	s.segs = s.segs[1:]
	return nil
}

// close closes the active segment; the segments stay for the next run.
func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		return nil
	}
	err := s.active.Close()
	s.active = nil
	return err
}

// frameReader reads the frames of a sealed segment.
type frameReader struct {
	r   *bufio.Reader
	off int64 // offset of the next frame
}

// errTorn means the rest of a segment is unreadable: a frame cut short by a
// crash, or one whose checksum does not match.
var errTorn = errors.New("torn or corrupt spool frame")

// next returns the events of the next frame and the offset after it;
// io.EOF at a clean end, errTorn at a damaged one.
func (fr *frameReader) next() ([]*authgate.Decision, error) {
	var h [frameHeader]byte
	if _, err := io.ReadFull(fr.r, h[:]); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, errTorn
	}
	n := binary.BigEndian.Uint32(h[0:4])
	if n > 1<<30 {
		return nil, errTorn
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(fr.r, payload); err != nil {
		return nil, errTorn
	}
	if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(h[4:8]) {
		return nil, errTorn
	}
	var events []*authgate.Decision
	for line := range strings.SplitSeq(string(payload), "\n") {
		if line == "" {
			continue
		}
		d := new(authgate.Decision)
		if err := json.Unmarshal([]byte(line), d); err != nil {
			return nil, errTorn
		}
		events = append(events, d)
	}
	fr.off += frameHeader + int64(n)
	return events, nil
}

// readPos returns how far segment seq was replayed by an earlier run.
func (s *spool) readPos(seq uint64) int64 {
	b, err := os.ReadFile(filepath.Join(s.dir, posFile))
	if err != nil {
		return 0
	}
	var name string
	var off int64
	if _, err := fmt.Sscan(string(b), &name, &off); err != nil || name != filepath.Base(s.path(seq)) {
		return 0
	}
	return off
}

// writePos records that segment seq was replayed up to off. It is renamed
// into place but not fsynced: after a power loss an older position means
// some events are replayed twice, never that any are skipped.
func (s *spool) writePos(seq uint64, off int64) error {
	return writeFileAtomic(filepath.Join(s.dir, posFile),
		fmt.Appendf(nil, "%s %d\n", filepath.Base(s.path(seq)), off), false)
}

// writeFileAtomic replaces name with data through a temporary file and a
// rename, so readers see the old or the new content, never a mix.
func writeFileAtomic(name string, data []byte, fsync bool) error {
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
