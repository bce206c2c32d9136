package metrics

import "github.com/prometheus/client_golang/prometheus"

// ThrottleStats is what the failure counters report at each scrape.
type ThrottleStats struct {
	// Degraded is true while the shared (Redis) counters do not answer
	// and each gateway counts on its own.
	Degraded     bool
	Degradations uint64 // times the counters fell back to per-node
	AccountLocks uint64 // account locks recorded in the user store
	Keys         int    // counters held in memory (this node)
	Evicted      uint64 // counters evicted from memory while still counting
}

// WatchThrottle exports the failure counters' state, read at each scrape
// by calling stats.
func (m *Metrics) WatchThrottle(stats func() ThrottleStats) {
	m.Registry.MustRegister(throttleCollector{stats})
}

var (
	descThrottleDegraded = prometheus.NewDesc("authgate_throttle_degraded", "1 while the shared failure counters (Redis) do not answer and this gateway counts failures on its own.", nil, nil)
	descThrottleDegrades = prometheus.NewDesc("authgate_throttle_degradations_total", "Times the failure counters fell back from Redis to per-node counting.", nil, nil)
	descAccountLocks     = prometheus.NewDesc("authgate_account_locks_total", "Accounts locked after failures from several sources, as recorded in the user store.", nil, nil)
	descThrottleKeys     = prometheus.NewDesc("authgate_throttle_memory_keys", "Failure counters held in this gateway's memory.", nil, nil)
	descThrottleEvicted  = prometheus.NewDesc("authgate_throttle_memory_evicted_total", "Failure counters dropped from memory while still counting because throttle.max_keys was reached.", nil, nil)
)

type throttleCollector struct{ stats func() ThrottleStats }

func (c throttleCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descThrottleDegraded, descThrottleDegrades, descAccountLocks, descThrottleKeys, descThrottleEvicted} {
		ch <- d
	}
}

func (c throttleCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	degraded := 0.0
	if s.Degraded {
		degraded = 1
	}
	ch <- prometheus.MustNewConstMetric(descThrottleDegraded, prometheus.GaugeValue, degraded)
	ch <- prometheus.MustNewConstMetric(descThrottleDegrades, prometheus.CounterValue, float64(s.Degradations))
	ch <- prometheus.MustNewConstMetric(descAccountLocks, prometheus.CounterValue, float64(s.AccountLocks))
	ch <- prometheus.MustNewConstMetric(descThrottleKeys, prometheus.GaugeValue, float64(s.Keys))
	ch <- prometheus.MustNewConstMetric(descThrottleEvicted, prometheus.CounterValue, float64(s.Evicted))
}
