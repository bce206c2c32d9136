// Package metrics counts decisions for Prometheus: by route, method,
// outcome and reason, with a latency histogram, plus the sign-in log
// writer's counters. Every label value comes from a closed set — the
// configured route names, the credential methods, the reason catalogue —
// never from what a client sent, so the number of series stays bounded.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// noRoute labels decisions taken before a route matched.
const noRoute = "(none)"

// Metrics holds the gateway's collectors in a registry of its own.
type Metrics struct {
	Registry  *prometheus.Registry
	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	routes    map[string]bool
	next      authgate.EventSink
}

// New registers the decision metrics for the given route names. Decisions
// are passed on to next (the sign-in log) after they are counted.
func New(routes []string, next authgate.EventSink) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authgate_decisions_total",
			Help: "Authentication decisions by route, credential method, outcome (allow or deny) and reason code.",
		}, []string{"route", "method", "outcome", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "authgate_decision_duration_seconds",
			Help:    "Time to take a decision, hashing and key fetches included.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"outcome"}),
		routes: map[string]bool{},
		next:   next,
	}
	for _, r := range routes {
		m.routes[r] = true
	}
	m.Registry.MustRegister(m.decisions, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Record counts d and passes it on.
func (m *Metrics) Record(d *authgate.Decision) {
	route := d.Route
	if !m.routes[route] {
		route = noRoute
	}
	method := string(d.Method)
	if !d.Method.Known() {
		method = "none"
	}
	code := string(d.Reason)
	if d.Reason != "" && !reason.Known(d.Reason) {
		code = string(reason.InternalError)
	}
	outcome := d.Outcome()
	m.decisions.WithLabelValues(route, method, outcome, code).Inc()
	m.latency.WithLabelValues(outcome).Observe(d.Latency.Seconds())
	if m.next != nil {
		m.next.Record(d)
	}
}

var _ authgate.EventSink = (*Metrics)(nil)
