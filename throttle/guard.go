package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Attempt is what the Guard knows of one authentication attempt, before
// and after its credential is verified.
type Attempt struct {
	Method authgate.Method
	// User is the Basic user name as presented, or the user a 2-step
	// code is typed for; "" for other methods.
	User   string
	Source netip.Addr
	// Fingerprint is a keyed digest of the presented credential (never
	// the credential itself); "" when none was presented.
	Fingerprint string
}

// GuardOptions configure a Guard.
type GuardOptions struct {
	// Rules are the limits the Limiter applies, for trace details.
	Rules Rules
	// Exempt are source networks whose attempts are neither counted nor
	// refused.
	Exempt []netip.Prefix
	// Users looks user accounts up, to honour locks recorded in the store
	// and admin unlocks; nil: failure counters alone decide.
	Users authgate.UserStore
	// Locker records an account lock in the store when the user counter
	// locks; nil: the lock lives in the counters only.
	Locker authgate.AccountLocker
	// Logger receives limiter and store errors; slog.Default() when nil.
	Logger *slog.Logger
	// OnLock is called once per account lock the Guard records; may be
	// nil. Metrics count with it.
	OnLock func()
	// TurnWait is how long a password or code attempt waits while another
	// attempt for the same user is being checked on this gateway, before
	// it is refused as password_check_busy; DefaultTurnWait when zero.
	TurnWait time.Duration
}

// Guard applies failure counters to authentication attempts: Check refuses
// an attempt whose source, credential, user or (user, source) pair is over
// its limit before any secret is verified; Failed counts a refused
// credential and says how long to delay the answer; Succeeded clears the
// user's counters. It turns counter states into catalogued reasons and
// trace checks, and knows nothing of HTTP.
type Guard struct {
	l     Limiter
	opts  GuardOptions
	log   *slog.Logger
	turns turns
}

// NewGuard returns a Guard counting with l.
func NewGuard(l Limiter, opts GuardOptions) *Guard {
	g := &Guard{l: l, opts: opts, log: opts.Logger}
	if g.log == nil {
		g.log = slog.Default()
	}
	if g.opts.TurnWait <= 0 {
		g.opts.TurnWait = DefaultTurnWait
	}
	return g
}

// Outcome is the Guard's verdict before verification: Reason is empty when
// the attempt may proceed.
type Outcome struct {
	Reason     reason.Code
	RetryAfter time.Duration
	Checks     []authgate.Check
	// Release ends the attempt's turn for its user (see Check); call it
	// once the attempt has been counted. Never nil.
	Release func()
}

// counter is one key an attempt counts against, with how to name it.
type counter struct {
	key  Key
	name string      // "user", "pair", ... as in configuration
	code reason.Code // the refusal when this counter blocks
	rank int         // lower wins when several block
}

// counters lists the keys an attempt counts against, which depend on what
// could be guessed:
//
//   - a password (Basic, the sign-in form): its user and (user, source)
//     pair, the credential, the source address and /64;
//   - a 2-step code: user and pair counters of their own — a right
//     password must not clear the count of wrong codes — and the source;
//   - an API key or a token, which no one guesses (256-bit keys, signed
//     tokens): its credential only, so that a stale secret is slowed down
//     without refusing the valid keys and tokens of everyone else behind
//     the same address;
//   - a session cookie: nothing.
func (g *Guard) counters(a Attempt) []counter {
	var cs []counter
	guessable := false
	switch a.Method {
	case authgate.MethodBasic, authgate.MethodTOTP:
		guessable = true
		if a.User == "" {
			break
		}
		user := storedName(a.User)
		if a.Method == authgate.MethodTOTP {
			// ":" is in no user name (RFC 7617 splits on it), so these
			// never meet a password counter.
			user = "2fa:" + user
		}
		cs = append(cs, counter{UserKey(user), "user", reason.AccountLocked, 0})
		if k := PairKey(user, a.Source); !k.IsZero() {
			cs = append(cs, counter{k, "pair", reason.AccountLockedFromSource, 1})
		}
	case authgate.MethodSession:
		return nil
	}
	if a.Method != authgate.MethodTOTP {
		if k := CredentialKey(a.Fingerprint); !k.IsZero() {
			cs = append(cs, counter{k, "credential", reason.TooManyFailuresCredential, 2})
		}
	}
	if !guessable {
		return cs
	}
	if k := AddressKey(a.Source); !k.IsZero() {
		cs = append(cs, counter{k, "address", reason.TooManyFailures, 3})
	}
	if k, ok := NetworkKey(a.Source); ok {
		cs = append(cs, counter{k, "network", reason.TooManyFailures, 4})
	}
	return cs
}

// storedName is the user name as counter keys hold it: a name that looks
// like a secret (a password or key typed into the name field) is replaced
// by its digest, so that it is never stored in Redis.
func storedName(n string) string {
	if authgate.LoggableName(n) == n {
		return n
	}
	sum := sha256.Sum256([]byte(n))
	return "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// exempt reports whether a's source is in an exempt network.
func (g *Guard) exempt(a Attempt) (netip.Prefix, bool) {
	src := a.Source.Unmap()
	for _, p := range g.opts.Exempt {
		if p.Contains(src) {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// Check decides, before any secret is verified, whether attempt a at now
// is refused because one of its counters is over its limit or its account
// is locked in the store. A limiter that cannot answer lets the attempt
// through, with the trace saying so: failing closed would let anyone who
// can slow Redis down lock everyone out. A password or code attempt waits
// for the turn of its user (see turns); the caller calls Release once the
// attempt is counted, by Failed or Succeeded.
func (g *Guard) Check(ctx context.Context, a Attempt, now time.Time) Outcome {
	none := func() {}
	if p, ok := g.exempt(a); ok {
		return Outcome{Release: none, Checks: []authgate.Check{authgate.Checkf("throttle", authgate.Skip, "source %s is in exempt network %s: failures are not counted", a.Source, p)}}
	}
	release := none
	if (a.Method == authgate.MethodBasic || a.Method == authgate.MethodTOTP) && a.User != "" {
		r, ok := g.turns.take(ctx, string(a.Method)+" "+storedName(a.User), g.opts.TurnWait)
		if !ok {
			return Outcome{Reason: reason.PasswordCheckBusy, RetryAfter: time.Second, Release: none, Checks: []authgate.Check{{
				Name: "throttle.turn", Result: authgate.Fail, Reason: reason.PasswordCheckBusy,
				Detail: fmt.Sprintf("other attempts for user %s kept this one waiting longer than %s; they are checked one at a time", quoteUser(a.User), g.opts.TurnWait)}}}
		}
		release = r
	}
	out := g.check(ctx, a, now)
	out.Release = release
	if out.Reason != "" {
		release()
		out.Release = none
	}
	return out
}

// check is Check once the attempt has its turn.
func (g *Guard) check(ctx context.Context, a Attempt, now time.Time) Outcome {
	u, known := g.user(ctx, a)
	if known && u.Locked(now) {
		c := authgate.Check{Name: "throttle.user", Result: authgate.Fail, Reason: reason.AccountLocked,
			Detail: fmt.Sprintf("account locked %s until %s (%s): %s", authgate.Ago(now, u.LockedAt), stamp(u.LockedUntil), authgate.Ago(now, u.LockedUntil), orUnknown(u.LockCause))}
		return Outcome{Reason: reason.AccountLocked, RetryAfter: roundUp(u.LockedUntil.Sub(now)), Checks: []authgate.Check{c}}
	}

	var out Outcome
	var blocked []authgate.Check
	best, bestIdx := -1, -1
	for _, c := range g.counters(a) {
		s, err := g.l.Check(ctx, c.key, now)
		if err != nil {
			out.Checks = append(out.Checks, authgate.Checkf("throttle."+c.name, authgate.Skip, "not checked: %v", err))
			g.logErr("check", c.name, err)
			continue
		}
		if !s.Blocked {
			continue
		}
		if known && (c.name == "user" || c.name == "pair") && !u.UnlockedAt.IsZero() && s.Since.Before(u.UnlockedAt) {
			// An admin unlocked the account after this block began.
			if err := g.l.Reset(ctx, c.key); err != nil {
				g.logErr("reset", c.name, err)
			}
			out.Checks = append(out.Checks, authgate.Checkf("throttle."+c.name, authgate.Info,
				"a block from %s was lifted by the admin unlock of %s", stamp(s.Since), stamp(u.UnlockedAt)))
			continue
		}
		blocked = append(blocked, authgate.Check{Name: "throttle." + c.name, Result: authgate.Info, Detail: g.describe(c, s, a, now)})
		if best < 0 || c.rank < best {
			best, bestIdx = c.rank, len(blocked)-1
			out.Reason = c.code
		}
		out.RetryAfter = max(out.RetryAfter, s.RetryAfter(now))
	}
	if out.Reason == "" {
		out.Checks = append(out.Checks, authgate.Check{Name: "throttle", Result: authgate.Pass, Detail: "no failure counter is over its limit"})
		return out
	}
	// The counter that names the reason is the failing check; others
	// that block too are context.
	blocked[bestIdx].Result, blocked[bestIdx].Reason = authgate.Fail, out.Reason
	out.Checks = append(out.Checks, blocked...)
	return out
}

// describe says why counter c blocks, for the trace.
func (g *Guard) describe(c counter, s Status, a Attempt, now time.Time) string {
	r := g.opts.Rules[c.key.Kind()]
	var who string
	switch c.name {
	case "user":
		who = fmt.Sprintf("user %s, from every source", quoteUser(a.User))
	case "pair":
		who = fmt.Sprintf("user %s from %s", quoteUser(a.User), sourceOf(a.Source))
	case "credential":
		who = "this exact credential (fingerprint " + a.Fingerprint + ")"
	case "address":
		who = "source address " + a.Source.Unmap().String()
	case "network":
		who = "source network " + sourceOf(a.Source)
	}
	what := "over its limit"
	if s.Locked {
		what = fmt.Sprintf("locked %s", authgate.Ago(now, s.Since))
	}
	return fmt.Sprintf("%s: %d failures within %s, %s; accepted again at %s (%s)",
		who, s.Failures, r.Window, what, stamp(s.Until), authgate.Ago(now, s.Until))
}

// Failed counts a refused credential against every counter of a and
// returns how long to delay the answer, with a trace check saying what was
// counted. When the user counter locks, the lock is recorded in the store.
func (g *Guard) Failed(ctx context.Context, a Attempt, now time.Time) (time.Duration, []authgate.Check) {
	if _, ok := g.exempt(a); ok {
		return 0, nil
	}
	cs := g.counters(a)
	if len(cs) == 0 {
		return 0, nil
	}
	var delay time.Duration
	var counted []string
	var checks []authgate.Check
	for _, c := range cs {
		s, err := g.l.Fail(ctx, c.key, now)
		if err != nil {
			g.logErr("fail", c.name, err)
			counted = append(counted, c.name+" not counted ("+err.Error()+")")
			continue
		}
		if s.Limit == 0 {
			continue // this counter is off
		}
		delay = max(delay, s.Delay)
		counted = append(counted, fmt.Sprintf("%s %d/%d", c.name, s.Failures, s.Limit))
		if !s.Counted || !s.Locked {
			continue
		}
		switch c.name {
		case "user":
			checks = append(checks, g.lock(ctx, a, s, now))
		case "pair":
			checks = append(checks, authgate.Checkf("throttle.pair", authgate.Info,
				"this failure locked user %s from %s until %s; other sources are not affected", quoteUser(a.User), sourceOf(a.Source), stamp(s.Until)))
		}
	}
	detail := "failures counted: " + strings.Join(counted, ", ")
	if delay > 0 {
		detail += fmt.Sprintf("; answer delayed %s", delay)
	}
	return delay, append([]authgate.Check{{Name: "throttle.count", Result: authgate.Info, Detail: detail}}, checks...)
}

// lock records the account lock the user counter just set.
func (g *Guard) lock(ctx context.Context, a Attempt, s Status, now time.Time) authgate.Check {
	what := "failed sign-ins"
	if a.Method == authgate.MethodTOTP {
		what = "wrong 2-step codes"
	}
	cause := fmt.Sprintf("%d %s within %s", s.Failures, what, g.opts.Rules[KindUser].Window)
	if per := g.opts.Rules.PerSource(); per > 0 {
		cause += fmt.Sprintf(" from at least %d sources (one source can fail at most %d times in that window)", (s.Failures+per-1)/per, per)
	}
	detail := fmt.Sprintf("this failure locked the whole account until %s: %s", stamp(s.Until), cause)
	if g.opts.Locker != nil {
		// The lock must be recorded even when the client has hung up
		// (attack tools do not wait for slow answers): the request's
		// context would cancel the write.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockWriteTimeout)
		err := g.opts.Locker.LockUser(wctx, a.User, s.Until, cause)
		cancel()
		switch {
		case err == nil:
			detail += "; recorded in the user store"
			if g.opts.OnLock != nil {
				g.opts.OnLock()
			}
		case errors.Is(err, authgate.ErrNotFound):
			detail += "; no such user, so only the counters hold the lock"
		default:
			g.log.Warn("throttle: the account lock could not be recorded in the store; the failure counters still hold it", "user", authgate.LoggableName(a.User), "err", err)
			detail += "; not recorded in the store (" + err.Error() + ")"
		}
	}
	return authgate.Check{Name: "throttle.user", Result: authgate.Info, Detail: detail}
}

// lockWriteTimeout bounds the write of an account lock to the user store.
const lockWriteTimeout = 5 * time.Second

// Succeeded clears the user and pair counters of a verified attempt: a
// successful sign-in ends the user's run of failures. Source and credential
// counters are kept, so that an attacker cannot clear them with an account
// of their own.
func (g *Guard) Succeeded(ctx context.Context, a Attempt) {
	if a.Method != authgate.MethodBasic && a.Method != authgate.MethodTOTP || a.User == "" {
		return
	}
	if _, ok := g.exempt(a); ok {
		return
	}
	for _, c := range g.counters(a) {
		if c.name != "user" && c.name != "pair" {
			continue
		}
		if err := g.l.Reset(ctx, c.key); err != nil {
			g.logErr("reset", c.name, err)
		}
	}
}

// user looks up the account a names, if any.
func (g *Guard) user(ctx context.Context, a Attempt) (authgate.User, bool) {
	if g.opts.Users == nil || a.Method != authgate.MethodBasic && a.Method != authgate.MethodTOTP || a.User == "" {
		return authgate.User{}, false
	}
	u, err := g.opts.Users.User(ctx, a.User)
	return u, err == nil
}

func (g *Guard) logErr(op, counter string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	g.log.Warn("throttle: counter not "+op+"ed; the attempt goes through", "counter", counter, "err", err)
}

func quoteUser(n string) string {
	if l := authgate.LoggableName(n); l != n {
		return l
	}
	return fmt.Sprintf("%q", n)
}

// sourceOf names the source a pair or network counter holds: the address,
// or the /64 of an IPv6 address.
func sourceOf(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "no cause recorded"
	}
	return s
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// roundUp rounds d up to whole seconds, as Retry-After needs.
func roundUp(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}
