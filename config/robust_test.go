package config

import (
	"errors"
	"testing"
)

// TestOddInputsGiveErrorsNotPanics feeds shapes no one should write and
// checks each ends in located problems rather than a crash or a silent pass.
func TestOddInputsGiveErrorsNotPanics(t *testing.T) {
	inputs := map[string]string{
		"a scalar document":          "hello",
		"routes as a mapping":        "routes: {name: a}",
		"a route as a list":          "routes: [[a, b]]",
		"a non-scalar key":           "? [a]\n: b\nroutes: [{name: a, accept: [basic]}]",
		"a merge key":                "base: &b {accept: [basic]}\nroutes: [{<<: *b, name: a}]",
		"null everywhere":            "listen:\nstore:\nroutes:\n  - name:\n    accept:\n",
		"nested lists in accept":     "routes: [{name: a, accept: [[basic]]}]",
		"policy as a list":           "routes: [{name: a, accept: [basic], policy: [x]}]",
		"issuers as a scalar":        "issuers: corp\nroutes: [{name: a, accept: [basic]}]",
		"numbers as names":           "routes: [{name: 1, accept: [basic]}, {name: 1, path: /b, accept: [basic]}]",
		"a huge number":              "limits: {max_credential_bytes: 99999999999999999999999}\nroutes: [{name: a, accept: [basic]}]",
		"a document marker and null": "---\n...\n",
		"throttle as a word":         "throttle: off\nroutes: [{name: a, accept: [basic]}]",
		"a counter as a list":        "throttle: {pair: [5, 15m]}\nroutes: [{name: a, accept: [basic]}]",
		"counters all null":          "throttle: {pair: , user: ~, store: }\nredis:\nroutes: [{name: a, accept: [basic]}]\nx: 1",
		"redis as a list":            "throttle: {store: redis}\nredis: [a]\nroutes: [{name: a, accept: [basic]}]",
		"a huge limit":               "throttle: {user: {limit: 99999999999999999999999}}\nroutes: [{name: a, accept: [basic]}]",
		"store type as a mapping":    "store: {type: {postgres: true}}\nroutes: [{name: a, accept: [basic]}]",
		"portal as a list":           "portal: [a]\nroutes: [{name: a, accept: [session]}]",
		"allowed_hosts as a scalar":  "portal: {allowed_hosts: app.example.com}\nroutes: [{name: a, accept: [session]}]",
		"portal path as a mapping":   "portal: {path: {a: b}}\nroutes: [{name: a, path: /.authgate/x, accept: [session]}]",
		"sessions store as a list":   "sessions: {store: [redis]}\nredis: {address: 127.0.0.1:6379}\nroutes: [{name: a, accept: [session]}]",
		"require_2fa as a word":      "routes: [{name: a, accept: [session], policy: {require_2fa: always}}]",
		"two_factor all null":        "two_factor: {issuer: , enroll: ~, recovery_codes: }\nx: 1\nroutes: [{name: a, accept: [session]}]",
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("odd.yaml", []byte(in))
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("Parse = %v, want problems", err)
			}
			for _, e := range errs {
				if e.Line < 1 || e.Fix == "" {
					t.Errorf("problem without a line or a fix: %s", e)
				}
			}
			t.Log("\n" + err.Error())
		})
	}
}
