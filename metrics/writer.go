package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/authgate/signinlog"
)

// WriterStats is what the sign-in log writer reports.
type WriterStats interface {
	Stats() signinlog.WriterStats
}

// WatchWriter exports the sign-in log writer's counters, read at each
// scrape.
func (m *Metrics) WatchWriter(w WriterStats) {
	m.Registry.MustRegister(writerCollector{w})
}

var (
	descWritten  = prometheus.NewDesc("authgate_events_written_total", "Sign-in events written to the store directly.", nil, nil)
	descSpooled  = prometheus.NewDesc("authgate_events_spooled_total", "Sign-in events written to the on-disk spool because the store failed.", nil, nil)
	descReplayed = prometheus.NewDesc("authgate_events_replayed_total", "Spooled sign-in events since written to the store.", nil, nil)
	descDropped  = prometheus.NewDesc("authgate_events_dropped_total", "Sign-in events lost because the spool was full or failed, by reason code.", []string{"reason"}, nil)
	descStoreErr = prometheus.NewDesc("authgate_event_store_errors_total", "Failed calls to the sign-in log store.", nil, nil)
	descSpoolErr = prometheus.NewDesc("authgate_event_spool_errors_total", "Failed writes to the sign-in log spool.", nil, nil)
	descDown     = prometheus.NewDesc("authgate_event_store_down", "1 while the sign-in log store is failing and events go to the spool.", nil, nil)
	descQueue    = prometheus.NewDesc("authgate_event_queue_length", "Sign-in events waiting in memory to be written.", nil, nil)
	descSpoolB   = prometheus.NewDesc("authgate_event_spool_bytes", "Bytes in the sign-in log spool.", nil, nil)
)

type writerCollector struct{ w WriterStats }

func (c writerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWritten, descSpooled, descReplayed, descDropped, descStoreErr, descSpoolErr, descDown, descQueue, descSpoolB} {
		ch <- d
	}
}

func (c writerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.w.Stats()
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(descWritten, s.Written)
	counter(descSpooled, s.Spooled)
	counter(descReplayed, s.Replayed)
	counter(descStoreErr, s.StoreErrors)
	counter(descSpoolErr, s.SpoolErrors)
	for r, n := range s.Dropped {
		label := string(r)
		if label == "" {
			label = "(allowed)"
		}
		ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(n), label)
	}
	down := 0.0
	if s.StoreDown {
		down = 1
	}
	gauge(descDown, down)
	gauge(descQueue, float64(s.QueueLen))
	gauge(descSpoolB, float64(s.SpoolBytes))
}
