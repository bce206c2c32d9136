package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder walks the YAML node tree and collects every problem it meets
// instead of stopping at the first. Walking nodes by hand, rather than
// decoding into structs, is what lets every message name the key, its line
// and an example of a correct value.
type decoder struct {
	file string // as given, for messages
	dir  string // absolute directory relative paths resolve against
	errs Errors

	// Recorded while reading, checked once everything is read.
	headers    []headerUse
	issuerRefs []issuerRef
	routePaths []routePath
	// acceptUnknown reports whether some route's accept named an unknown
	// method; which routes accept session is then uncertain, and checks
	// that depend on it are skipped.
	acceptUnknown bool
}

// add records a problem.
func (d *decoder) add(line int, fix, format string, args ...any) {
	d.errs = append(d.errs, newError(d.file, line, fix, format, args...))
}

// section is one YAML mapping: its keys checked against a fixed list, its
// values looked up by key.
type section struct {
	d      *decoder
	prefix string // prepended to key names in messages, e.g. "passwords."
	line   int    // where the mapping starts, or 0 when absent
	vals   map[string]*yaml.Node
	keys   map[string]int // line of each key
}

// sectionSpec describes the keys a mapping may hold.
type sectionSpec struct {
	// where completes `unknown key "x" ...`, e.g. "in route".
	where string
	// prefix is prepended to key names in messages.
	prefix string
	// keys are the valid keys, in the order the docs list them.
	keys []string
	// elsewhere maps keys that belong in another section to where they go,
	// so a misplaced key gets a precise fix.
	elsewhere map[string]string
	// example shows the mapping's shape, for when something else is there.
	example string
}

// deref follows aliases, and treats an explicit null like an absent key.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	return n
}

// describe names what a node holds, for "must be X, not Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping of keys"
	default:
		return strconv.Quote(n.Value)
	}
}

// section reads mapping n (which may be nil for an absent key) as described
// by spec, reporting unknown and duplicate keys. label names the mapping in
// a type error.
func (d *decoder) section(n *yaml.Node, label string, spec sectionSpec) *section {
	s := &section{d: d, prefix: spec.prefix, vals: map[string]*yaml.Node{}, keys: map[string]int{}}
	n = deref(n)
	if n == nil {
		return s
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, "write it like "+spec.example, "%s must be a mapping of keys, not %s", label, describe(n))
		return s
	}
	s.line = n.Line
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.add(k.Line, "keys are plain words like "+spec.keys[0], "a key %s must be a plain word, not %s", spec.where, describe(k))
			continue
		}
		if k.Value == "<<" {
			d.add(k.Line, "write the keys out instead of merging them", "YAML merge keys (<<) are not supported")
			continue
		}
		if line, dup := first[k.Value]; dup {
			d.add(k.Line, "keep only one of them", "key %q appears twice %s (first on line %d)", spec.prefix+k.Value, spec.where, line)
			continue
		}
		first[k.Value] = k.Line
		if !contains(spec.keys, k.Value) {
			d.add(k.Line, unknownKeyFix(k.Value, spec), "unknown key %q %s", k.Value, spec.where)
			continue
		}
		s.vals[k.Value] = v
		s.keys[k.Value] = k.Line
	}
	return s
}

// unknownKeyFix suggests what an unknown key should have been.
func unknownKeyFix(key string, spec sectionSpec) string {
	valid := "(valid keys: " + strings.Join(spec.keys, ", ") + ")"
	if where, ok := spec.elsewhere[key]; ok {
		return fmt.Sprintf("%q belongs %s %s", key, where, valid)
	}
	if best := closest(key, spec.keys); best != "" {
		return fmt.Sprintf("did you mean %q? %s", best, valid)
	}
	return "remove it " + valid
}

// node returns the value of key, or nil if it is absent or null.
func (s *section) node(key string) *yaml.Node { return deref(s.vals[key]) }

// keyLine returns the line of key, or 0 if it is absent.
func (s *section) keyLine(key string) int { return s.keys[key] }

// has reports whether key is present with a non-null value.
func (s *section) has(key string) bool { return s.node(key) != nil }

// typeError reports that key holds the wrong kind of value.
func (s *section) typeError(n *yaml.Node, key, want, example string) {
	s.d.add(n.Line, fmt.Sprintf("write it like %s: %s", key, example), "%s must be %s, not %s", s.prefix+key, want, describe(n))
}

// str returns the string value of key, and its node (nil when absent).
func (s *section) str(key, example string) (string, *yaml.Node) {
	n := s.node(key)
	if n == nil {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		s.typeError(n, key, "a single value", example)
		return "", nil
	}
	return n.Value, n
}

// boolean returns the value of key, or def when it is absent or invalid.
func (s *section) boolean(key string, def bool) bool {
	n := s.node(key)
	if n == nil {
		return def
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		s.typeError(n, key, "true or false", "true")
		return def
	}
	return b
}

// integer returns the value of key, checked to lie in [lo, hi], or def
// when it is absent or invalid.
func (s *section) integer(key string, def, lo, hi int, example string) int {
	n := s.node(key)
	if n == nil {
		return def
	}
	var v int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		s.typeError(n, key, "a whole number", example)
		return def
	}
	if !s.inRange(n, key, v, int64(lo), int64(hi), strconv.Itoa(lo), strconv.Itoa(hi)) {
		return def
	}
	return int(v)
}

// inRange reports whether v lies in [lo, hi], reporting it when not.
func (s *section) inRange(n *yaml.Node, key string, v, lo, hi int64, los, his string) bool {
	fix := fmt.Sprintf("use a value from %s to %s", los, his)
	if hi == math.MaxInt64 {
		fix = "use " + los + " or more"
	}
	switch {
	case v < lo:
		s.d.add(n.Line, fix, "%s is %s, below the minimum of %s", s.prefix+key, n.Value, los)
	case v > hi:
		s.d.add(n.Line, fix, "%s is %s, above the maximum of %s", s.prefix+key, n.Value, his)
	default:
		return true
	}
	return false
}

// duration returns the value of key, checked to lie in [lo, hi], or def
// when it is absent or invalid.
func (s *section) duration(key string, def, lo, hi time.Duration) time.Duration {
	n := s.node(key)
	if n == nil {
		return def
	}
	if n.Kind != yaml.ScalarNode {
		s.typeError(n, key, "a duration", formatDuration(def))
		return def
	}
	if n.Tag == "!!int" && n.Value != "0" {
		s.d.add(n.Line, fmt.Sprintf("add a unit: %ss, %sm, %sh or %sd", n.Value, n.Value, n.Value, n.Value), "%s is %s, a number without a unit", s.prefix+key, n.Value)
		return def
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		s.d.add(n.Line, "write durations like 30s, 5m, 2h or 90d", "%s is not a duration: %q", s.prefix+key, n.Value)
		return def
	}
	if !s.inRange(n, key, int64(v), int64(lo), int64(hi), formatDuration(lo), formatDuration(hi)) {
		return def
	}
	return v
}

// scalar is one string from a list, with its line.
type scalar struct {
	value string
	line  int
}

// strings returns the items of list key, and the list's node (nil when
// absent). Items that are not single values are reported and skipped.
func (s *section) strings(key, example string) ([]scalar, *yaml.Node) {
	n := s.node(key)
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		if n.Kind == yaml.ScalarNode {
			example = "[" + n.Value + "]"
		}
		s.typeError(n, key, "a list", example)
		return nil, nil
	}
	out := make([]scalar, 0, len(n.Content))
	for _, item := range n.Content {
		item = deref(item)
		if item == nil {
			continue
		}
		if item.Kind != yaml.ScalarNode {
			s.d.add(item.Line, fmt.Sprintf("write it like %s: %s", key, example), "each item of %s must be a single value, not %s", s.prefix+key, describe(item))
			continue
		}
		out = append(out, scalar{item.Value, item.Line})
	}
	return out, n
}

// list returns the items of list key, each expected to be a mapping that
// the caller reads with section.
func (s *section) list(key, example string) ([]*yaml.Node, *yaml.Node) {
	n := s.node(key)
	if n == nil {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		s.typeError(n, key, "a list", example)
		return nil, nil
	}
	return n.Content, n
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
