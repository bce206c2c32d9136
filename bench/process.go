package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Every server under test runs in a child process of its own, so none of
// them shares a Go runtime (scheduler, garbage collector) with the load
// generator or with each other. A child's output goes to a file in the
// run's temporary folder, never to a pipe nobody drains.

// child is a running server process.
type child struct {
	name   string
	cmd    *exec.Cmd
	URL    string // base URL it serves, e.g. http://127.0.0.1:41234
	Log    string // file holding its stderr
	exited chan struct{}
	err    error // why it exited, valid once exited is closed
}

// startSelf runs this program again in one of its server modes (see
// serveMode). The mode prints its URL as its first line on stdout.
func startSelf(name, logPath string, args ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find this program to start %s: %w", name, err)
	}
	cmd := exec.Command(exe, args...)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c, err := launch(name, cmd, logPath)
	if err != nil {
		return nil, err
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		lines <- strings.TrimSpace(line)
		io.Copy(io.Discard, r) // keep draining whatever else it says
	}()
	select {
	case c.URL = <-lines:
		if !strings.HasPrefix(c.URL, "http://") {
			c.stop()
			return nil, fmt.Errorf("%s printed %q instead of its URL; see %s", name, c.URL, logPath)
		}
		return c, nil
	case <-time.After(20 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s did not start within 20 s; see %s", name, logPath)
	}
}

// listeningLine matches the line authgate logs once it listens, in either
// log format.
var listeningLine = regexp.MustCompile(`authgate listening.*?"?url"?[=:]"?(http://[^"\s]+)`)

// startGateway runs the authgate binary with `serve --config cfg`, its
// stderr (the decision log) going to logPath, and waits until its health
// endpoint answers. The configuration listens on port 0, so the URL is read
// from the "authgate listening" log line.
func startGateway(binary, cfg, logPath string) (*child, error) {
	cmd := exec.Command(binary, "serve", "--config", cfg)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	c, err := launch("authgate", cmd, logPath)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.exited:
			return nil, fmt.Errorf("authgate exited before listening (%v); its log %s says:\n%s", c.err, logPath, tail(logPath, 20))
		case <-time.After(50 * time.Millisecond):
		}
		if m := listeningLine.FindStringSubmatch(tail(logPath, 50)); m != nil {
			c.URL = m[1]
			if err := waitHealthy(c.URL+"/.authgate/health", time.Until(deadline)); err != nil {
				c.stop()
				return nil, err
			}
			return c, nil
		}
	}
	c.stop()
	return nil, fmt.Errorf("authgate did not log that it listens within 20 s; see %s", logPath)
}

func launch(name string, cmd *exec.Cmd, logPath string) (*child, error) {
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, Log: logPath, exited: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.exited) }()
	return c, nil
}

// Pid returns the child's process id.
func (c *child) Pid() int { return c.cmd.Process.Pid }

// CPU reads the CPU time the child has used so far (LoadOptions.ServerCPU).
func (c *child) CPU() (time.Duration, bool) {
	d, err := processCPU(c.Pid())
	return d, err == nil
}

// stop asks the child to shut down (SIGTERM, which authgate and every mode
// here handle cleanly) and kills it if it has not exited in 10 s. It
// returns the exit error of a child that did not stop cleanly.
func (c *child) stop() error {
	select {
	case <-c.exited:
		return c.err
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		var ee *exec.ExitError
		if errors.As(c.err, &ee) && ee.ExitCode() == -1 {
			return nil // ended by our signal before installing a handler
		}
		return c.err
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("%s did not stop within 10 s of SIGTERM and was killed", c.name)
	}
}

// tail returns up to the last n lines of the file at path.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitHealthy polls url until it answers 200 or within is over.
func waitHealthy(url string, within time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 in time: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
