// Package hashproc checks password hashes in a child process: the same
// executable, started again with Arg as its only argument, answering
// passhash.Verify calls over a pair of pipes.
//
// A hash of the default cost allocates 7 MiB and runs for tens of
// milliseconds. In the gateway's own process, a burst of wrong passwords
// made the Go runtime collect its garbage several times a second, and
// every collection stopped all requests until each running hash, on a
// thread of the lowest priority that the kernel was slow to schedule,
// reached a safe point: a millisecond or more each time. In a child
// process the hashes' garbage and threads are the child's own: the
// gateway's collector never waits for them, and the child, started from a
// thread of the lowest priority, runs entirely at that priority.
//
// Passwords cross the pipes, which only the two processes hold; nothing
// is written anywhere else. The child exits when its input closes.
package hashproc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"

	"github.com/authgate/authgate/passhash"
)

// Arg is the only argument of a child process: an executable that imports
// this package serves hash checks on its standard input and output when
// started with it, before its own main runs.
const Arg = "-authgate-hash-process"

func init() {
	if len(os.Args) == 2 && os.Args[1] == Arg {
		err := serve(os.Stdin, os.Stdout, passhash.Verify)
		if err != nil {
			fmt.Fprintln(os.Stderr, "authgate hash process:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// maxField bounds a request's encoded hash and password, which the
// gateway bounds far lower: a longer one is a broken stream.
const maxField = 1 << 16

// A request is: uint32 id, uint32 length and bytes of the encoded hash,
// uint32 length and bytes of the password. An answer is: uint32 id, a
// status byte (answerMismatch, answerMatch, answerError), uint32 length
// and bytes of the error's text (empty unless answerError). All integers
// are big-endian.
const (
	answerMismatch = 0
	answerMatch    = 1
	answerError    = 2
)

// serve answers the requests read from in on out, each on a goroutine of
// its own, until in ends.
func serve(in io.Reader, out io.Writer, verify func(encoded, password string) (bool, error)) error {
	r := bufio.NewReader(in)
	var mu sync.Mutex
	w := bufio.NewWriter(out)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		id, encoded, password, err := readRequest(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		wg.Go(func() {
			ok, err := verify(encoded, password)
			b := binary.BigEndian.AppendUint32(make([]byte, 0, 64), id)
			switch {
			case err != nil:
				b = append(b, answerError)
				b = binary.BigEndian.AppendUint32(b, uint32(len(err.Error())))
				b = append(b, err.Error()...)
			case ok:
				b = append(b, answerMatch, 0, 0, 0, 0)
			default:
				b = append(b, answerMismatch, 0, 0, 0, 0)
			}
			mu.Lock()
			defer mu.Unlock()
			w.Write(b)
			w.Flush()
		})
	}
}

func readRequest(r *bufio.Reader) (id uint32, encoded, password string, err error) {
	var h [4]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return 0, "", "", err // io.EOF: the gateway closed the stream
	}
	id = binary.BigEndian.Uint32(h[:])
	if encoded, err = readField(r); err == nil {
		password, err = readField(r)
	}
	return id, encoded, password, err
}

func readField(r *bufio.Reader) (string, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", noEOF(err)
	}
	n := binary.BigEndian.Uint32(h[:])
	if n > maxField {
		return "", fmt.Errorf("a field of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", noEOF(err)
	}
	return string(b), nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ErrUnavailable is the error of a check the process could not answer: it
// could not start, it exited, it did not answer in time (and was killed),
// or the Process was closed. The caller checks in its own process instead.
var ErrUnavailable = errors.New("hash process unavailable")

// ErrTooLong is the error of a check with a hash or password too long to
// send; the caller checks it in its own process.
var ErrTooLong = errors.New("too long for the hash process")

// Process is a running child process. Its methods are safe for concurrent
// use.
type Process struct {
	timeout time.Duration
	cmd     *exec.Cmd
	in      io.WriteCloser
	done    chan struct{} // closed once the child's output ended

	mu      sync.Mutex // guards w, next, pending, err
	w       *bufio.Writer
	next    uint32
	pending map[uint32]chan answer
	err     error // set once the process is unusable
}

type answer struct {
	ok  bool
	err error
}

// Start starts a child process from executable, which must import this
// package (Executable). The child inherits the calling thread's scheduling
// priority. A check it has not answered within timeout fails, and the
// child is killed: one that stopped answering (stopped, frozen, or never
// given the CPU) must not hold the gateway's checks for ever.
func Start(executable string, timeout time.Duration) (*Process, error) {
	cmd := exec.Command(executable, Arg)
	cmd.Env = []string{} // nothing of the gateway's environment
	cmd.Stderr = os.Stderr
	detach(cmd)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the hash process: %w", err)
	}
	p := &Process{timeout: timeout, cmd: cmd, in: in, w: bufio.NewWriter(in), done: make(chan struct{}), pending: map[uint32]chan answer{}}
	go p.read(out)
	return p, nil
}

// read delivers answers until the child's output ends, then fails every
// pending check and reaps the child.
func (p *Process) read(out io.Reader) {
	r := bufio.NewReader(out)
	err := func() error {
		var h [9]byte
		for {
			if _, err := io.ReadFull(r, h[:]); err != nil {
				return err
			}
			id, status, n := binary.BigEndian.Uint32(h[:4]), h[4], binary.BigEndian.Uint32(h[5:])
			if n > maxField {
				return fmt.Errorf("an answer of %d bytes", n)
			}
			msg := make([]byte, n)
			if _, err := io.ReadFull(r, msg); err != nil {
				return err
			}
			a := answer{ok: status == answerMatch}
			if status == answerError {
				a.err = errors.New(string(msg))
			}
			p.mu.Lock()
			ch := p.pending[id]
			delete(p.pending, id)
			p.mu.Unlock()
			if ch != nil {
				ch <- a
			}
		}
	}()
	p.fail(fmt.Errorf("%w: %v", ErrUnavailable, err))
	p.cmd.Wait()
	close(p.done)
}

// fail marks the process unusable and answers every pending check.
func (p *Process) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
	for id, ch := range p.pending {
		delete(p.pending, id)
		ch <- answer{err: p.err}
	}
}

// Verify is passhash.Verify, computed in the child process. It fails with
// an error wrapping ErrUnavailable when the process cannot answer, and
// with ErrTooLong for inputs it does not send.
func (p *Process) Verify(encoded, password string) (bool, error) {
	if len(encoded) > maxField || len(password) > maxField {
		return false, ErrTooLong
	}
	ch := make(chan answer, 1)
	p.mu.Lock()
	if p.err != nil {
		p.mu.Unlock()
		return false, p.err
	}
	id := p.next
	p.next++
	p.pending[id] = ch
	b := p.w
	b.Write(binary.BigEndian.AppendUint32(nil, id))
	for _, f := range []string{encoded, password} {
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(f))))
		b.WriteString(f)
	}
	err := b.Flush()
	p.mu.Unlock()
	if err != nil {
		p.fail(fmt.Errorf("%w: %v", ErrUnavailable, err))
	}
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	select {
	case a := <-ch:
		return a.ok, a.err
	case <-t.C:
	}
	// Killed first: a check blocked writing to a child that stopped
	// reading holds p.mu until the pipe breaks.
	p.cmd.Process.Kill()
	p.fail(fmt.Errorf("%w: no answer within %v", ErrUnavailable, p.timeout))
	a := <-ch // fail answered it, unless the answer came first
	return a.ok, a.err
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Close ends the child process: its input closes, it answers the checks
// it has and exits. Close waits for that, and kills the child if it has
// not exited within closeGrace; checks started after Close fail.
func (p *Process) Close() error {
	p.in.Close() // first: it also ends a write blocked on a child that stopped reading
	p.mu.Lock()
	if p.err == nil {
		p.err = fmt.Errorf("%w: closed", ErrUnavailable)
	}
	p.mu.Unlock()
	select {
	case <-p.done:
	case <-time.After(closeGrace):
		p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

// closeGrace is how long Close waits for the child to exit by itself.
var closeGrace = 5 * time.Second

// Executable is the file to start a child process from: this process's
// own executable.
func Executable() (string, error) {
	if runtime.GOOS == "linux" {
		return "/proc/self/exe", nil // the running file, even if replaced on disk since
	}
	return os.Executable()
}
