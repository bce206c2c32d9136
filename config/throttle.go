package config

import (
	"fmt"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

var throttleSpec = sectionSpec{where: "in throttle", prefix: "throttle.",
	keys: []string{"enabled", "store", "prefix", "exempt_networks", "max_keys",
		CounterPair, CounterUser, CounterAddress, CounterNetwork, CounterCredential},
	elsewhere: map[string]string{
		"limit": inACounter, "window": inACounter, "lock": inACounter,
		"free_failures": inACounter, "delay": inACounter, "max_delay": inACounter,
		"redis":    "at the top level, beside throttle:",
		"password": "under redis:", "password_file": "under redis:", "db": "under redis:",
	},
	example: "throttle: {store: memory, pair: {limit: 5, window: 15m}}"}

const inACounter = "to one counter, e.g. throttle: {pair: {limit: 5, window: 15m}}"

// throttleStores are the values of throttle.store.
var throttleStores = []string{ThrottleMemory, ThrottleRedis}

// throttleSection returns the throttle mapping, with a precise fix for
// the natural "throttle: off".
func (d *decoder) throttleSection(top *section) *section {
	if n := top.node("throttle"); n != nil && n.Kind == yaml.ScalarNode && contains([]string{"off", "false", "no"}, n.Value) {
		d.add(n.Line, "write throttle: {enabled: false} to turn throttling off", "throttle must be a mapping of keys, not %s", describe(n))
		return d.section(nil, "throttle", throttleSpec)
	}
	return d.section(top.vals["throttle"], "throttle", throttleSpec)
}

// throttle reads the throttle section. The cross-checks with redis: are in
// checkRedisUse.
func (d *decoder) throttle(s *section) Throttle {
	t := Throttle{
		Enabled: s.boolean("enabled", DefaultThrottleEnabled),
		Store:   DefaultThrottleStore,
		Prefix:  DefaultThrottlePrefix,
		MaxKeys: s.integer("max_keys", DefaultThrottleMaxKeys, 1000, 100_000_000, "1048576"),
		Rules:   map[string]ThrottleRule{},
	}
	if v, n := s.str("store", ThrottleMemory); n != nil {
		if contains(throttleStores, v) {
			t.Store = v
		} else {
			d.add(n.Line, oneOf(v, throttleStores), "unknown throttle.store %q", v)
		}
	}
	if v, n := s.str("prefix", DefaultThrottlePrefix); n != nil && !d.report(n.Line, checkKeyPrefix("throttle.prefix", v, DefaultThrottlePrefix, "myapp:throttle:")) {
		t.Prefix = v
	}
	if items, n := s.strings("exempt_networks", "[192.0.2.0/24, 2001:db8::1]"); n != nil {
		t.ExemptNetworks = d.prefixes("throttle.exempt_networks", items)
	}

	defaults := DefaultThrottleRules()
	counters := map[string]counterRead{}
	for _, counter := range ThrottleCounters {
		c := d.throttleRule(s, counter, defaults[counter])
		counters[counter] = c
		if c.on {
			t.Rules[counter] = c.rule
		}
	}
	d.checkPairBelowUser(s, counters[CounterPair], counters[CounterUser])
	return t
}

// checkKeyPrefix checks a prefix that starts every Redis key of one part
// (throttle.prefix, sessions.prefix); def is its default and example one
// a user might write instead.
func checkKeyPrefix(key, s, def, example string) problem {
	if s == "" {
		return problem{key + " is empty", "leave it out for " + def + ", or write one that sets authgate's keys apart, e.g. " + example}
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return problem{fmt.Sprintf("%s %q contains whitespace", key, s),
			"write it without spaces, e.g. " + suggestKeyPrefix(s, def)}
	}
	return problem{}
}

// suggestKeyPrefix joins the words of a prefix with dashes.
func suggestKeyPrefix(s, def string) string {
	if words := strings.Fields(s); len(words) > 0 {
		return strings.Join(words, "-")
	}
	return def
}
