package config

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

var sessionsSpec = sectionSpec{where: "in sessions", prefix: "sessions.",
	keys: []string{"store", "prefix", "idle_timeout", "absolute_timeout", "max_sessions"},
	elsewhere: map[string]string{
		"address": "under redis:", "password": "under redis:", "password_file": "under redis:", "db": "under redis:",
		"timeout":     "under redis: (the bound on one round trip); sessions end after idle_timeout or absolute_timeout",
		"cookie_name": "under portal:", "secure_cookies": "under portal:",
	},
	example: "sessions: {store: redis, idle_timeout: 30m, absolute_timeout: 12h}"}

var twoFactorSpec = sectionSpec{where: "in two_factor", prefix: "two_factor.",
	keys: []string{"issuer", "enroll", "recovery_codes"},
	elsewhere: map[string]string{
		"require_2fa": "to a route's policy:, e.g. policy: {require_2fa: true}",
	},
	example: "two_factor: {issuer: Example Corp, enroll: optional}"}

const maxTwoFactorIssuerLength = 64

// The values of sessions.store and two_factor.enroll.
var (
	sessionStores = []string{SessionsMemory, SessionsRedis}
	enrollValues  = []string{EnrollOptional, EnrollRequired}
)

// sessions reads the sessions section. The cross-checks with redis: are in
// checkRedisUse.
func (d *decoder) sessions(s *section) Sessions {
	ss := Sessions{
		Store:       DefaultSessionsStore,
		Prefix:      DefaultSessionsPrefix,
		MaxSessions: s.integer("max_sessions", DefaultMaxSessions, 1000, 100_000_000, "1048576"),
	}
	if v, n := s.str("store", SessionsMemory); n != nil {
		if contains(sessionStores, v) {
			ss.Store = v
		} else {
			d.add(n.Line, oneOf(v, sessionStores), "unknown sessions.store %q", v)
		}
	}
	if v, n := s.str("prefix", DefaultSessionsPrefix); n != nil && !d.report(n.Line, checkKeyPrefix("sessions.prefix", v, DefaultSessionsPrefix, "myapp:session:")) {
		ss.Prefix = v
	}
	before := len(d.errs)
	ss.IdleTimeout = s.duration("idle_timeout", DefaultIdleTimeout, time.Minute, 30*day)
	ss.AbsoluteTimeout = s.duration("absolute_timeout", DefaultAbsoluteTimeout, 5*time.Minute, 90*day)
	if len(d.errs) == before && ss.AbsoluteTimeout < ss.IdleTimeout {
		d.checkTimeouts(s, ss)
	}
	return ss
}

// checkTimeouts reports an absolute_timeout shorter than idle_timeout,
// against the key the file sets, since the other may be a default.
func (d *decoder) checkTimeouts(s *section, ss Sessions) {
	idle, abs := formatDuration(ss.IdleTimeout), formatDuration(ss.AbsoluteTimeout)
	switch {
	case s.has("absolute_timeout") && s.has("idle_timeout"):
		d.add(s.keyLine("absolute_timeout"), fmt.Sprintf("raise absolute_timeout to %s or more, or lower idle_timeout (line %d) to %s or less", idle, s.keyLine("idle_timeout"), abs),
			"sessions.absolute_timeout %s is shorter than sessions.idle_timeout %s, so sessions would end before they could ever be idle that long", abs, idle)
	case s.has("idle_timeout"):
		d.add(s.keyLine("idle_timeout"), fmt.Sprintf("lower idle_timeout to %s or less, or set absolute_timeout: %s or more", abs, idle),
			"sessions.idle_timeout %s is longer than sessions.absolute_timeout, %s by default, so sessions would end before they could ever be idle that long", idle, abs)
	default:
		d.add(s.keyLine("absolute_timeout"), fmt.Sprintf("raise absolute_timeout to %s or more, or set idle_timeout: %s or less", idle, abs),
			"sessions.absolute_timeout %s is shorter than sessions.idle_timeout, %s by default, so sessions would end before they could ever be idle that long", abs, idle)
	}
}

// twoFactor reads the two_factor section. Issuer defaults to realm; that
// default is checked only when a route accepts session (checkPortalUse).
func (d *decoder) twoFactor(s *section, realm string) TwoFactor {
	t := TwoFactor{
		Issuer:        realm,
		Enroll:        DefaultEnroll,
		RecoveryCodes: s.integer("recovery_codes", DefaultRecoveryCodes, 0, 20, "10"),
	}
	if v, n := s.str("issuer", "Example Corp"); n != nil && !d.report(n.Line, checkTwoFactorIssuer("two_factor.issuer", v)) {
		t.Issuer = v
	}
	if v, n := s.str("enroll", EnrollOptional); n != nil {
		if contains(enrollValues, v) {
			t.Enroll = v
		} else {
			fix := oneOf(v, enrollValues)
			if n.Tag == "!!bool" {
				fix = "write required (every sign-in through the portal enrolls an authenticator app) or optional (only routes with policy.require_2fa ask for one)"
			}
			d.add(n.Line, fix, "unknown two_factor.enroll %q", v)
		}
	}
	return t
}

// checkTwoFactorIssuer checks the name authenticator apps show beside an
// account; key names where it comes from (two_factor.issuer or realm).
func checkTwoFactorIssuer(key, s string) problem {
	if p := checkLabel(key, s, maxTwoFactorIssuerLength); !p.ok() {
		return p
	}
	if strings.Contains(s, ":") {
		return problem{fmt.Sprintf("%s %q contains \":\", which authenticator apps take for the end of the issuer (issuer:account)", key, s),
			"write it without the colon, e.g. issuer: " + issuerSuggestion(s)}
	}
	return problem{}
}

// issuerSuggestion makes s fit for two_factor.issuer: no colon, at most
// maxTwoFactorIssuerLength characters, cut between words where it can be.
func issuerSuggestion(s string) string {
	words := strings.Fields(strings.ReplaceAll(s, ":", " "))
	out := ""
	for _, w := range words {
		next := strings.TrimSpace(out + " " + w)
		if utf8.RuneCountInString(next) > maxTwoFactorIssuerLength {
			break
		}
		out = next
	}
	if out == "" && len(words) > 0 { // a first word too long by itself
		r := []rune(words[0])
		out = string(r[:min(len(r), maxTwoFactorIssuerLength)])
	}
	return out
}
