package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// throttleRuleSpec is the mapping of one counter; counterSpec fills in its
// name.
var throttleRuleSpec = sectionSpec{
	keys: []string{"limit", "window", "lock", "free_failures", "delay", "max_delay"},
	elsewhere: map[string]string{
		"enabled": "directly under throttle: (to turn one counter off, write it as off, e.g. pair: off)",
		"store":   "directly under throttle:", "prefix": "directly under throttle:",
		"exempt_networks": "directly under throttle:", "max_keys": "directly under throttle:",
	},
}

// counterSpec returns the spec of counter's mapping.
func counterSpec(counter string) sectionSpec {
	spec := throttleRuleSpec
	spec.where = "in throttle." + counter
	spec.prefix = "throttle." + counter + "."
	spec.example = counterExample(counter) + " or " + counter + ": off"
	return spec
}

// counterExample writes counter's default rule the way the file would.
func counterExample(counter string) string {
	r := DefaultThrottleRules()[counter]
	return fmt.Sprintf("%s: {limit: %d, window: %s}", counter, r.Limit, formatDuration(r.Window))
}

// counterRead is one counter as read from the file.
type counterRead struct {
	rule  ThrottleRule
	sec   *section // for the lines of its keys
	on    bool     // false when the file says off
	clean bool     // no problem was found in it
}

// throttleRule reads one counter: absent (its default rule), off (no rule)
// or a mapping whose missing keys take the default rule's values.
func (d *decoder) throttleRule(s *section, counter string, def ThrottleRule) counterRead {
	spec := counterSpec(counter)
	n := s.node(counter)
	if n != nil && n.Kind == yaml.ScalarNode {
		if n.Value == "off" {
			return counterRead{sec: d.section(nil, "", spec), clean: true}
		}
		d.add(n.Line, "write "+counter+": off to turn this counter off, or a mapping like "+counterExample(counter)+" to change it",
			"throttle.%s must be off or a mapping of keys, not %s", counter, describe(n))
		return counterRead{rule: def, sec: d.section(nil, "", spec), on: true} // keep the default rule
	}
	before := len(d.errs)
	cs := d.section(n, "throttle."+counter, spec)
	if n != nil && n.Kind != yaml.MappingNode {
		return counterRead{rule: def, sec: cs, on: true} // reported by section; keep the default rule
	}
	r := ThrottleRule{
		Limit:        cs.integer("limit", def.Limit, 1, 1_000_000, fmt.Sprint(def.Limit)),
		Window:       cs.duration("window", def.Window, time.Second, 30*day),
		Lock:         cs.duration("lock", def.Lock, 0, 30*day),
		FreeFailures: cs.integer("free_failures", def.FreeFailures, 0, 1_000_000, fmt.Sprint(def.FreeFailures)),
		Delay:        cs.duration("delay", def.Delay, 0, time.Minute),
		MaxDelay:     cs.duration("max_delay", def.MaxDelay, 0, 5*time.Minute),
	}
	if !cs.has("max_delay") {
		r.MaxDelay = defaultMaxDelay(def, r.Delay)
	}
	// A bad value was replaced by its default: relating it to others
	// would mislead.
	clean := len(d.errs) == before
	if clean {
		d.checkRule(cs, counter, r)
	}
	return counterRead{rule: r, sec: cs, on: true, clean: clean}
}

// defaultMaxDelay is a counter's max_delay when the file leaves it out: the
// default rule's, or DefaultThrottleMaxDelay when that has none, and never
// shorter than delay.
func defaultMaxDelay(def ThrottleRule, delay time.Duration) time.Duration {
	if delay == 0 {
		return 0
	}
	m := def.MaxDelay
	if m == 0 {
		m = DefaultThrottleMaxDelay
	}
	return max(m, delay)
}

// checkRule relates the keys of one counter to each other.
func (d *decoder) checkRule(cs *section, counter string, r ThrottleRule) {
	key := "throttle." + counter + "."
	if r.FreeFailures > r.Limit {
		if cs.has("free_failures") {
			d.add(cs.keyLine("free_failures"),
				fmt.Sprintf("use a value from 0 to %d: once limit failures are counted attempts are refused, so no further failure could be free", r.Limit),
				"%sfree_failures is %d, above %slimit %d%s", key, r.FreeFailures, key, r.Limit, defaultNote(cs, "limit"))
		} else {
			d.add(cs.keyLine("limit"),
				fmt.Sprintf("add free_failures: %d or less to throttle.%s, or raise limit to %d or more", r.Limit, counter, r.FreeFailures),
				"%slimit %d is below %sfree_failures %d (its default)", key, r.Limit, key, r.FreeFailures)
		}
	}
	if r.Delay > 0 && r.MaxDelay < r.Delay {
		d.add(cs.keyLine("max_delay"),
			fmt.Sprintf("make max_delay at least %s, leave it out, or set delay: 0 to turn delays off", formatDuration(r.Delay)),
			"%smax_delay %s is shorter than %sdelay %s%s", key, formatDuration(r.MaxDelay), key, formatDuration(r.Delay), defaultNote(cs, "delay"))
	}
}

// defaultNote marks a value the file did not set, for messages relating it
// to one it did.
func defaultNote(s *section, key string) string {
	if s.has(key) {
		return ""
	}
	return " (its default)"
}

// checkPairBelowUser reports a user limit that one source can reach on its
// own: the pair counter lets a source add at most pair.limit failures per
// pair.lock (per pair.window without a lock), so within user.window one
// source can add pair.limit × ceil(user.window / that period). If that is
// not below user.limit, a flood from a single address locks the account for
// everyone, where locking (user, source) was the point.
func (d *decoder) checkPairBelowUser(s *section, p, u counterRead) {
	if !p.on || !u.on || !p.clean || !u.clean {
		return
	}
	pair, user, ps, us := p.rule, u.rule, p.sec, u.sec
	period, periodKey := pair.Lock, "lock"
	if period <= 0 {
		period, periodKey = pair.Window, "window"
	}
	periods := int64((user.Window + period - 1) / period)
	perSource := int64(pair.Limit) * periods
	if int64(user.Limit) > perSource {
		return
	}
	line := firstLine(us.keyLine("limit"), ps.keyLine("limit"), s.keyLine(CounterUser), s.keyLine(CounterPair), s.line)
	fix := fmt.Sprintf("raise throttle.user.limit above %d (e.g. %d), or lengthen throttle.pair.%s, or shorten throttle.user.window",
		perSource, suggestUserLimit(perSource), periodKey)
	if perSource >= 1_000_000 {
		fix = fmt.Sprintf("lower throttle.pair.limit, or lengthen throttle.pair.%s", periodKey)
	}
	d.add(line, fix+"; the pair counter must lock one source out of an account before the user counter locks the account for every source",
		"throttle.user.limit %d%s is not greater than the %d failures a single source can add within throttle.user.window %s (throttle.pair.limit %d%s × %d periods of throttle.pair.%s %s), so one address alone could lock the whole account",
		user.Limit, defaultNote(us, "limit"), perSource, formatDuration(user.Window), pair.Limit, defaultNote(ps, "limit"), periods, periodKey, formatDuration(period))
}

// suggestUserLimit proposes a user limit that needs at least two sources'
// worth of failures.
func suggestUserLimit(perSource int64) int64 {
	return min(perSource+perSource/2+1, 1_000_000)
}

// firstLine returns the first non-zero line, or 1.
func firstLine(lines ...int) int {
	for _, l := range lines {
		if l > 0 {
			return l
		}
	}
	return 1
}
