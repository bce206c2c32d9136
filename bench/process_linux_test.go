package main

import (
	"os"
	"testing"
	"time"
)

func TestProcessCPUCountsThisProcesssWork(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	x := 0
	for time.Since(start) < 300*time.Millisecond {
		x++
	}
	after, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// A shared machine may not give the loop a whole core, but surely a
	// third of one; and a single goroutine cannot use more than its wall
	// time plus the runtime's own work and one tick of rounding.
	if used := after - before; used < 100*time.Millisecond || used > time.Since(start)+300*time.Millisecond {
		t.Errorf("spinning for %s used %s of CPU by /proc (loop ran %d times)", time.Since(start), used, x)
	}
	if _, err := processCPU(1 << 30); err == nil {
		t.Error("processCPU of a process that does not exist: no error")
	}
}
