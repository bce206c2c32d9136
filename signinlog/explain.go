package signinlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// Context is what else an admin should know about a decision, gathered
// from the stores around it.
type Context struct {
	Now time.Time
	// Key is the presented API key's record, when the key id is known.
	Key *authgate.APIKey
	// KeyUsesSinceRotation counts events with that key since it was
	// rotated out.
	KeyUsesSinceRotation int64
	// User is the claimed user's record, when it exists.
	User *authgate.User
	// IssuerSkewN and IssuerSkewMean summarise the clock skew of the same
	// issuer's tokens over the hour before the decision.
	IssuerSkewN    int
	IssuerSkewMean time.Duration
	// SameSecret counts events in the 24 hours before the decision that
	// presented the same secret (by fingerprint).
	SameSecret int64
}

// Gather collects the Context of d. Missing records are not errors;
// a store that cannot answer is.
func Gather(ctx context.Context, d *authgate.Decision, events Store, users authgate.UserStore, keys authgate.KeyStore, now time.Time) (Context, error) {
	c := Context{Now: now}
	if d.Method == authgate.MethodAPIKey && d.Claimed != "" && keys != nil {
		if k, err := keys.APIKey(ctx, d.Claimed); err == nil {
			c.Key = &k
			if !k.RotatedAt.IsZero() {
				n, err := count(ctx, events, Filter{KeyID: k.ID, Since: k.RotatedAt})
				if err != nil {
					return c, err
				}
				c.KeyUsesSinceRotation = n
			}
		} else if !errors.Is(err, authgate.ErrNotFound) {
			return c, err
		}
	}
	if d.Method == authgate.MethodBasic && d.Claimed != "" && users != nil {
		if u, err := users.User(ctx, d.Claimed); err == nil {
			c.User = &u
		} else if !errors.Is(err, authgate.ErrNotFound) {
			return c, err
		}
	}
	if d.Token != nil && d.Token.Issuer != "" {
		n, mean, err := events.SkewStats(ctx, d.Token.Issuer, d.Time.Add(-time.Hour))
		if err != nil {
			return c, err
		}
		c.IssuerSkewN, c.IssuerSkewMean = n, mean
	}
	if d.Fingerprint != "" {
		n, err := count(ctx, events, Filter{Fingerprint: d.Fingerprint, Since: d.Time.Add(-24 * time.Hour), Until: d.Time.Add(time.Nanosecond)})
		if err != nil {
			return c, err
		}
		c.SameSecret = n
	}
	return c, nil
}

func count(ctx context.Context, s Store, f Filter) (int64, error) {
	groups, err := s.Stats(ctx, f, ByReason)
	var n int64
	for _, g := range groups {
		n += g.Count
	}
	return n, err
}

// Explain writes d in words: what was presented, each check with its
// values, the one that decided, how to fix it, and the context worth
// knowing. It never has a secret to print: decisions hold none.
func Explain(w io.Writer, d *authgate.Decision, c Context) error {
	var b strings.Builder
	outcome := "allowed"
	if !d.Allowed {
		outcome = fmt.Sprintf("refused: %s (HTTP %d)", d.Reason, d.Status)
	}
	fmt.Fprintf(&b, "Request %s — %s\n", d.RequestID, outcome)
	fmt.Fprintf(&b, "  %s · route %s · %s %s%s · from %s", stamp(d.Time), orNone(d.Route), orNone(pr(d.HTTPMethod)), pr(d.Host), pr(d.Path), addr(d))
	if d.UserAgent != "" {
		fmt.Fprintf(&b, " (%s)", pr(d.UserAgent))
	}
	fmt.Fprintf(&b, " · decided in %s\n", d.Latency.Round(time.Microsecond))

	b.WriteString("\nPresented\n")
	b.WriteString("  " + presented(d) + "\n")
	if t := d.Token; t != nil {
		fmt.Fprintf(&b, "  token: alg %s, kid %s, iss %s, sub %s, aud %s\n", orNone(pr(t.Algorithm)), orNone(pr(t.KeyID)), orNone(pr(t.Issuer)), orNone(pr(t.Subject)), orNone(pr(strings.Join(t.Audience, " "))))
		fmt.Fprintf(&b, "         issued %s, not before %s, expires %s\n", stampOr(t.IssuedAt), stampOr(t.NotBefore), stampOr(t.Expires))
	}
	if d.Principal != nil {
		fmt.Fprintf(&b, "  proved: %s (%s", pr(d.Principal.Subject), d.Principal.Method)
		if len(d.Principal.Scopes) > 0 {
			fmt.Fprintf(&b, ", scopes %s", pr(strings.Join(d.Principal.Scopes, " ")))
		}
		b.WriteString(")\n")
	}

	b.WriteString("\nChecks, in order\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, ch := range d.Checks {
		mark := map[authgate.Result]string{authgate.Pass: "pass", authgate.Fail: "FAIL", authgate.Skip: "skip", authgate.Info: "info"}[ch.Result]
		line := fmt.Sprintf("  %s\t%s\t%s", mark, ch.Name, pr(ch.Detail))
		if ch.Reason != "" {
			line += "  ← " + string(ch.Reason)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()

	if !d.Allowed {
		r := reason.Lookup(d.Reason)
		fmt.Fprintf(&b, "\nWhy\n  %s\n  Fix: %s\n", r.Message, r.Hint)
		if d.Shown != "" && d.Shown != d.Reason {
			fmt.Fprintf(&b, "  The caller was shown %s: the route's detail level hides %s.\n", d.Shown, d.Reason)
		}
		if d.RetryAfter > 0 {
			fmt.Fprintf(&b, "  The caller was told to retry after %s.\n", d.RetryAfter.Round(time.Second))
		}
		if d.Delay > 0 {
			fmt.Fprintf(&b, "  The answer was delayed %s to slow down repeated failures.\n", d.Delay)
		}
	}
	if notes := worthKnowing(d, c); len(notes) > 0 {
		b.WriteString("\nWorth knowing\n")
		for _, n := range notes {
			b.WriteString("  - " + n + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// pr makes a client-supplied value safe to print.
var pr = authgate.Printable

// worthKnowing lists the context that changes what an admin does next.
func worthKnowing(d *authgate.Decision, c Context) []string {
	var out []string
	if k := c.Key; k != nil {
		switch {
		case k.Successor != "":
			out = append(out, fmt.Sprintf("Key %s was rotated out %s and replaced by key %s; it was presented %d time(s) since. Whoever holds it needs the new key.",
				k.ID, authgate.Ago(c.Now, k.RotatedAt), k.Successor, c.KeyUsesSinceRotation))
		case !k.RevokedAt.IsZero():
			out = append(out, fmt.Sprintf("Key %s (owner %s) was revoked %s.", k.ID, k.Owner, authgate.Ago(c.Now, k.RevokedAt)))
		case !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(d.Time):
			out = append(out, fmt.Sprintf("Key %s (owner %s) expired %s.", k.ID, k.Owner, authgate.Ago(c.Now, k.ExpiresAt)))
		}
		if !k.DisabledAt.IsZero() {
			out = append(out, fmt.Sprintf("Key %s (owner %s) is disabled since %s; `authgate keys enable %s` allows it again.", k.ID, k.Owner, authgate.Ago(c.Now, k.DisabledAt), k.ID))
		}
	}
	if u := c.User; u != nil {
		out = append(out, accountNotes(d, u, c.Now)...)
	}
	if u := c.User; u != nil && d.Reason == reason.PasswordPrevious {
		for _, p := range u.Previous {
			if p.ReplacedAt.Before(d.Time) {
				out = append(out, fmt.Sprintf("The presented password was %s's password until %s: an app or a saved-password store still uses it.", u.Name, authgate.Ago(c.Now, p.ReplacedAt)))
				break
			}
		}
	}
	if c.IssuerSkewN >= 3 && absDur(c.IssuerSkewMean) >= 30*time.Second && d.Token != nil {
		dir := "in the future"
		if c.IssuerSkewMean < 0 {
			dir = "late"
		}
		out = append(out, fmt.Sprintf("Tokens from %s arrived on average %d s %s over the hour before (%d with a time problem): check that issuer's clock, and this gateway's.",
			pr(d.Token.Issuer), int(absDur(c.IssuerSkewMean).Seconds()), dir, c.IssuerSkewN))
	}
	if c.SameSecret > 1 && !d.Allowed {
		out = append(out, fmt.Sprintf("The same secret (fingerprint %s) was presented %d times in the 24 hours before this request.", d.Fingerprint, c.SameSecret))
	}
	return out
}

// accountNotes says what the claimed user's state means for d.
func accountNotes(d *authgate.Decision, u *authgate.User, now time.Time) []string {
	var out []string
	if u.Disabled() {
		out = append(out, fmt.Sprintf("User %s is disabled since %s; `authgate users enable %s` allows it again.", pr(u.Name), authgate.Ago(now, u.DisabledAt), pr(u.Name)))
	}
	if u.Locked(now) {
		out = append(out, fmt.Sprintf("User %s is locked until %s (%s): %s. `authgate users unlock %s` ends the lock on every gateway.",
			pr(u.Name), stamp(u.LockedUntil), authgate.Ago(now, u.LockedUntil), pr(u.LockCause), pr(u.Name)))
	}
	switch d.Reason {
	case reason.AccountLocked, reason.AccountLockedFromSource, reason.TooManyFailures:
		if u.UnlockedAt.After(d.Time) {
			out = append(out, fmt.Sprintf("An admin unlocked %s %s, after this request.", pr(u.Name), authgate.Ago(now, u.UnlockedAt)))
		}
	}
	if u.MustChangePassword && d.Reason != reason.PasswordChangeRequired {
		out = append(out, fmt.Sprintf("User %s must change its password before it is accepted again (`authgate users set-password %s`).", pr(u.Name), pr(u.Name)))
	}
	return out
}

func presented(d *authgate.Decision) string {
	if d.Method == "" {
		return "no usable credential"
	}
	s := string(d.Method)
	if d.Claimed != "" {
		s += " claiming " + pr(d.Claimed)
	}
	if d.Fingerprint != "" {
		s += " (secret fingerprint " + d.Fingerprint + ")"
	}
	return s
}

func addr(d *authgate.Decision) string {
	if !d.Source.IsValid() {
		return "unknown address"
	}
	return d.Source.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func stampOr(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	return stamp(t)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
