package main

import (
	"bytes"
	"log/slog"
	"runtime"
	"strings"
	"testing"
)

func TestTuneProcsAddsAPPerLowPriorityHash(t *testing.T) {
	t.Cleanup(func() { runtime.GOMAXPROCS(cpuProcs) })
	var log bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&log, nil))

	tuneProcs(0, logger)
	if got := runtime.GOMAXPROCS(0); got != cpuProcs {
		t.Errorf("without low-priority hashing GOMAXPROCS = %d, want %d", got, cpuProcs)
	}
	if log.Len() != 0 {
		t.Errorf("without low-priority hashing it logged %q", log.String())
	}

	// Twice, as two gateways started by one process would: the Ps are
	// added to the CPUs once, not to each other.
	tuneProcs(2, logger)
	tuneProcs(2, logger)
	if got, want := runtime.GOMAXPROCS(0), cpuProcs+2; got != want {
		t.Errorf("with 2 hashing threads GOMAXPROCS = %d, want %d", got, want)
	}
	if !strings.Contains(log.String(), "hashing passwords at low priority") || !strings.Contains(log.String(), "hash_threads=2") {
		t.Errorf("log does not say why GOMAXPROCS grew:\n%s", log.String())
	}
}

func TestTuneProcsLeavesAnOperatorsGOMAXPROCS(t *testing.T) {
	t.Cleanup(func() { runtime.GOMAXPROCS(cpuProcs) })
	t.Setenv("GOMAXPROCS", "1")
	runtime.GOMAXPROCS(1)
	var log bytes.Buffer
	tuneProcs(2, slog.New(slog.NewTextHandler(&log, nil)))
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("GOMAXPROCS = %d, want the environment's 1", got)
	}
	if !strings.Contains(log.String(), "GOMAXPROCS is set in the environment") {
		t.Errorf("log does not say GOMAXPROCS was left alone:\n%s", log.String())
	}
}
