// Package config turns authgate's YAML configuration file into a validated
// Config with every default filled in, every path made absolute and every
// value parsed into its Go type (netip.Prefix, *url.URL, time.Duration,
// authgate.Method).
//
// Validation is meant for a person reading a terminal: Load and Parse report
// every problem they find at once, as a config.Errors sorted by line, each
// naming the file, the line, what is wrong and how to fix it.
package config
