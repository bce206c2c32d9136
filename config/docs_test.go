package config

import (
	"os"
	"strings"
	"testing"
)

// TestEveryKeyIsDocumented keeps docs/configuration.md in step with the
// loader: each key any section accepts must appear there as `key`.
func TestEveryKeyIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	specs := []sectionSpec{topSpec, storeSpec, usersSpec, passwordsSpec, argon2Spec, apiKeysSpec, identitySpec, limitsSpec, logSpec, adminSpec, throttleSpec, throttleRuleSpec, portalSpec, sessionsSpec, twoFactorSpec, redisSpec, issuerSpec, routeSpec, policySpec}
	for _, s := range specs {
		for _, k := range s.keys {
			if !strings.Contains(string(doc), "`"+k+"`") {
				t.Errorf("key %s%s is not documented in docs/configuration.md", s.prefix, k)
			}
		}
	}
}
