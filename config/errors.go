package config

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Error is one problem in a configuration file: where it is, what is wrong
// and what to write instead.
type Error struct {
	// File is the configuration file's name as given to Load or Parse.
	File string
	// Line is the 1-based line the problem is on, or 0 when it concerns the
	// file as a whole (for example when it cannot be read).
	Line int
	// Msg says what is wrong, e.g. `unknown key "upstreem" in route`.
	Msg string
	// Fix says how to put it right; it may be empty when Msg says it all.
	Fix string
}

// Error formats the problem as "FILE:LINE: what is wrong — how to fix it".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" — ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Errors is every problem found in one configuration file, sorted by line.
// Load and Parse return it as their error whenever the file is not valid.
type Errors []*Error

// Error prints one problem per line, in line order.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sortByLine orders problems by line, keeping the order in which problems on
// the same line were found.
func (es Errors) sortByLine() {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}

var syntaxLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxError turns a YAML parser error ("yaml: line 3: mapping values are
// not allowed in this context") into an Error with a hint for the usual
// causes: tabs, bad indentation, unquoted colons, unclosed brackets.
func syntaxError(file string, data []byte, err error) *Error {
	e := &Error{File: file, Line: 1, Msg: "YAML syntax error: " + err.Error()}
	m := syntaxLine.FindStringSubmatch(err.Error())
	if m == nil {
		e.Fix = "check the file is YAML"
		return e
	}
	msg := m[2]
	if m[1] != "" {
		e.Line, _ = strconv.Atoi(m[1])
	}
	// Errors from the parser, unlike the scanner's, count lines from 0 and
	// point at the start of the block or bracket that was left unfinished.
	block := strings.HasPrefix(msg, "did not find expected")
	if block && m[1] != "" {
		e.Line++
	}
	e.Msg = "YAML syntax error: " + msg
	switch {
	case strings.Contains(lineText(data, e.Line), "\t") || strings.Contains(msg, "tab character"):
		e.Fix = "indent with spaces: YAML does not allow tabs"
	case strings.Contains(msg, "mapping values are not allowed"):
		e.Fix = `quote a value that contains ": ", e.g. realm: "a: b"; otherwise check the indentation`
	case strings.Contains(msg, "','"):
		e.Msg = "YAML syntax error: the [ or { opened on this line is not closed (" + msg + ")"
		e.Fix = "close it with ] or }, and separate items with commas"
	case strings.Contains(msg, "expected node content"):
		e.Msg = "YAML syntax error: " + msg + " at or just above this line"
		e.Fix = "quote values that start with a character YAML reserves (: * & ! % @ ` |), e.g. [\"::1\"]; otherwise check the indentation"
	case block:
		e.Msg = "YAML syntax error: " + msg + " in the block at or just above this line"
		e.Fix = "check the indentation of the lines below it: keys of one block start in the same column, and so do the - of one list"
	case strings.Contains(msg, "end of stream"):
		e.Fix = "a quote or bracket opened above is never closed"
	default:
		e.Fix = "check the indentation and quoting on this line and the one before"
	}
	return e
}

// lineText returns the 1-based line n of data, or "" if there is none.
func lineText(data []byte, n int) string {
	if n < 1 {
		return ""
	}
	lines := strings.Split(string(data), "\n")
	if n > len(lines) {
		return ""
	}
	return lines[n-1]
}

// newError is a shorthand used by the decoder.
func newError(file string, line int, fix, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...), Fix: fix}
}
