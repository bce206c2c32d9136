package main

import (
	"math/bits"
	"time"
)

// A latency histogram with log-linear buckets, in the manner of HdrHistogram
// but much smaller: values below 2^subBits nanoseconds are exact, and above
// that every power of two is split into 2^subBits equal buckets, so a
// recorded value is known to within 1/64 (about 1.6 %). It covers every
// duration an int64 can hold in a fixed array, so recording never allocates,
// and each load-generator worker keeps its own histogram: no locks on the
// request path, one Merge at the end.

const (
	subBits    = 6
	subBuckets = 1 << subBits // 64
	// numBuckets covers exponents 0..63-subBits, each with subBuckets slots.
	numBuckets = (64 - subBits + 1) * subBuckets
)

// Histogram counts latencies. The zero value is empty and ready to use; it
// is not safe for concurrent use.
type Histogram struct {
	counts [numBuckets]uint64
	total  uint64
	min    time.Duration
	max    time.Duration
	sum    time.Duration
}

// bucketOf returns the index of the bucket that holds v nanoseconds.
func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	// shift keeps the top subBits+1 bits of v; the leading one selects the
	// power of two, the rest the sub-bucket.
	shift := bits.Len64(v) - subBits - 1
	return (shift+1)*subBuckets + int(v>>shift) - subBuckets
}

// bucketRange returns the smallest and largest value bucket i holds.
func bucketRange(i int) (lo, hi uint64) {
	if i < subBuckets {
		return uint64(i), uint64(i)
	}
	shift := i/subBuckets - 1
	mant := uint64(i%subBuckets + subBuckets)
	lo = mant << shift
	return lo, lo + (1 << shift) - 1
}

// Record adds one latency; negative ones count as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.total == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.total++
	h.sum += d
}

// Merge adds every count of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
	h.sum += o.sum
}

// Count returns the number of recorded latencies.
func (h *Histogram) Count() uint64 { return h.total }

// Mean returns the average latency, or 0 when nothing was recorded.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return h.sum / time.Duration(h.total)
}

// Max returns the largest recorded latency.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the latency below which a fraction q (0..1) of the
// recorded ones fall: the midpoint of the bucket holding the
// ceil(q·count)-th smallest value, clamped to the exact minimum and
// maximum, which q ≤ 0 and q ≥ 1 return. It returns 0 when nothing was
// recorded.
func (h *Histogram) Quantile(q float64) time.Duration {
	switch {
	case h.total == 0:
		return 0
	case q <= 0:
		return h.min
	case q >= 1:
		return h.max
	}
	rank := uint64(q*float64(h.total) + 0.999999)
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			lo, hi := bucketRange(i)
			v := time.Duration(lo + (hi-lo)/2)
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}
