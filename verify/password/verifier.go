// Package password verifies HTTP Basic credentials (RFC 7617) against an
// authgate.UserStore. Besides "wrong password" it recognises the common
// slips behind a 401 — a previous password still saved somewhere, stray
// whitespace, Caps Lock — while keeping the number of hash computations
// independent of whether the user exists, so timing reveals nothing.
package password

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/verify/apikey"
)

// Options configure a Verifier. Zero values select the documented defaults.
type Options struct {
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// KeepPrevious is how long a replaced password is still recognised as
	// "previous"; older previous hashes are ignored. Default 90 days.
	KeepPrevious time.Duration
	// DetectSlips makes a failed check look for whitespace, Caps Lock and
	// previous-password slips. It costs extra hashing on failures only: at
	// most 2 + PreviousChecked more hash computations per failed attempt,
	// so 3 + PreviousChecked in all.
	DetectSlips bool
	// PreviousChecked is how many previous hashes (newest first) a failed
	// attempt is compared with. Default 1; negative for none.
	PreviousChecked int
	// MaxConcurrent bounds concurrent hashing. Default max(1, GOMAXPROCS/2).
	MaxConcurrent int
	// NormalPriority computes hashes on the requesting goroutine's thread
	// at the process's priority, instead of on threads of the lowest
	// priority (atLowPriority), where the platform has them.
	NormalPriority bool
	// Process, when set, computes hash checks in a child process started
	// from this executable (hashproc), at the lowest priority unless
	// NormalPriority; checks fall back to this process while it cannot
	// run. Only processes that import hashproc can be given.
	Process string
	// QueueTimeout is how long an attempt waits for a hashing slot before
	// it is answered with password_check_busy. Default 2 s.
	QueueTimeout time.Duration
	// CacheKey keys the HMAC that names verified credentials in memory;
	// random when nil, which is right unless several processes share it.
	CacheKey []byte
	// Argon2 are the parameters of the dummy hash used for unknown users
	// and padding; DefaultArgon2 when zero. Match the users' hashes.
	Argon2 passhash.Argon2Params
	// MaxAge is how long a password is valid after it was set; a correct
	// older one is refused with password_expired. Zero: never expires.
	MaxAge time.Duration
	// Upgrade, when set, stores a user's hash made again with Argon2 after
	// the password matched a hash of another format or with other
	// parameters (passhash.Outdated). It runs in the background, through
	// a hashing slot like any check; the answer does not wait for it.
	Upgrade Upgrader
	// Logger gets a line per upgrade; none when nil.
	Logger *slog.Logger
}

// Verifier checks Basic credentials. It is safe for concurrent use.
type Verifier struct {
	users authgate.UserStore
	opts  Options
	dummy string
	sem   chan struct{}
	cache *cache
	// verifyHash is passhash.Verify; tests wrap it to count computations.
	// It runs through hash, which picks the thread.
	verifyHash hashFunc
	floor      floor
	waiting    atomic.Int32 // checks queued for a hashing slot
	// sleep is pad; tests record the padding instead of waiting.
	sleep func(context.Context, time.Duration)
	// makeHash is passhash.Hash, for upgrades; upgrading holds the names
	// whose hash is being made again, and upgrades counts those running.
	makeHash  func(password string, p passhash.Argon2Params) (string, error)
	upgrading sync.Map
	upgradeMu sync.Mutex // guards closed and adding to upgrades
	closed    bool
	upgrades  sync.WaitGroup
	// stopUpgrades cancels upgradeCtx, which running upgrades work in.
	upgradeCtx   context.Context
	stopUpgrades context.CancelFunc
	// proc is the hash process of Options.Process (proc.go).
	proc procState
}

// New returns a Verifier that looks users up in users. It computes the
// dummy hash for opts.Argon2 once, so the first call may take a moment.
func New(users authgate.UserStore, opts Options) *Verifier {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KeepPrevious <= 0 {
		opts.KeepPrevious = 90 * 24 * time.Hour
	}
	switch {
	case opts.PreviousChecked == 0:
		opts.PreviousChecked = 1
	case opts.PreviousChecked < 0:
		opts.PreviousChecked = 0
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if opts.QueueTimeout <= 0 {
		opts.QueueTimeout = 2 * time.Second
	}
	if opts.CacheKey == nil {
		opts.CacheKey = make([]byte, 32)
		rand.Read(opts.CacheKey)
	}
	if opts.Argon2 == (passhash.Argon2Params{}) {
		opts.Argon2 = passhash.DefaultArgon2
	}
	if opts.Logger == nil {
		opts.Logger = discard
	}
	upgradeCtx, stopUpgrades := context.WithCancel(context.Background())
	v := &Verifier{
		upgradeCtx:   upgradeCtx,
		stopUpgrades: stopUpgrades,
		users:        users,
		opts:         opts,
		dummy:        passhash.Dummy(opts.Argon2),
		sem:          make(chan struct{}, opts.MaxConcurrent),
		cache:        newCache(opts.CacheKey, defaultCacheSize),
		verifyHash:   passhash.Verify,
		sleep:        pad,
		makeHash:     passhash.Hash,
	}
	v.proc.retry, v.proc.wait = procRetry, procWait
	return v
}

// LowPriorityThreads is how many hashes the verifier may compute at once
// on threads of the lowest priority: Options.MaxConcurrent, or 0 when it
// hashes at normal priority. A process gives its Go runtime that many Ps
// more than its CPUs (runtime.GOMAXPROCS), so that running hashes never
// hold the Ps that requests need.
func (v *Verifier) LowPriorityThreads() int {
	if v.opts.NormalPriority || !lowPriorityThreads {
		return 0
	}
	return cap(v.sem)
}

// Method returns authgate.MethodBasic.
func (v *Verifier) Method() authgate.Method { return authgate.MethodBasic }

// Verify checks c.Username and c.Secret. Bad credentials are a verdict with
// a reason; the error is an *authgate.UnavailableError when the store does
// not answer (store_unavailable) or no hashing slot frees up in time
// (password_check_busy).
func (v *Verifier) Verify(ctx context.Context, c authgate.Credential) (authgate.Verdict, error) {
	if id, _, ok := apikey.Parse(c.Username); ok {
		// A client that sends "-u KEY:" puts the key where a name goes;
		// name only its id, never the key.
		return authgate.Verdict{Claimed: id, Reason: reason.APIKeyInBasic, Checks: []authgate.Check{{
			Name: "password.user", Result: authgate.Fail, Reason: reason.APIKeyInBasic,
			Detail: "the user name is API key " + id + " (the key itself is not recorded)",
		}}}, nil
	}
	name := authgate.LoggableName(c.Username)
	vd := authgate.Verdict{Claimed: name}
	u, err := v.users.User(ctx, c.Username)
	known := err == nil
	var id [sha256.Size]byte
	if known || errors.Is(err, authgate.ErrNotFound) {
		// Unknown users pay for the HMAC too, so both paths cost the same.
		id = v.cache.id(c.Username, c.Secret)
	}
	switch {
	case known:
		vd.Checks = make([]authgate.Check, 0, 5)
		vd.Checks = append(vd.Checks, authgate.Check{Name: "password.user", Result: authgate.Pass,
			Detail: "user exists; password last changed " + day(u.PasswordChangedAt)})
		// A disabled user is always hashed: answering a remembered right
		// password fast would tell it apart from a wrong one, which the
		// masked answer hides.
		if h, ok := v.cache.get(id); ok && h == u.PasswordHash && !u.Disabled() {
			vd.Checks = append(vd.Checks, authgate.Check{Name: "password.cache", Result: authgate.Pass,
				Detail: "verified earlier with the current hash; not hashed again"})
			return v.allow(vd, u), nil
		}
		vd.Checks = append(vd.Checks, authgate.Check{Name: "password.cache", Result: authgate.Skip, Detail: "not verified recently"})
	case errors.Is(err, authgate.ErrNotFound):
		vd.Checks = append(vd.Checks, authgate.Check{Name: "password.user", Result: authgate.Fail,
			Reason: reason.UserUnknown, Detail: "no user named " + quoteName(name)})
	default:
		vd.Checks = append(vd.Checks, authgate.Checkf("password.user", authgate.Skip, "user store did not answer"))
		return vd, authgate.Unavailable(reason.StoreUnavailable, time.Second, fmt.Errorf("looking up user %s: %w", quoteName(name), err))
	}

	if err := v.acquire(ctx); err != nil {
		vd.Checks = append(vd.Checks, authgate.Checkf("password.hash", authgate.Skip, "not checked: %v", err))
		return vd, authgate.Unavailable(reason.PasswordCheckBusy, time.Second, err)
	}
	start := time.Now()
	vd, err = v.check(vd, u, known, c.Secret, id)
	v.release()
	if err == nil && known && u.Disabled() && vd.Reason != reason.AccountDisabled {
		// Checked in full first, so that the answer takes as long as for
		// any other user and the log says whether the password was right.
		vd = disabled(vd, u, v.opts.Now())
	}
	if vd.Reason != "" && err == nil {
		// Padded after the hashing slot is free: waiting costs no CPU.
		v.sleep(ctx, v.floor.wait(time.Since(start), time.Now()))
	}
	return vd, err
}

// check hashes the presented password against the user's hash (the dummy
// for an unknown user) and, on failure, looks for slips. The caller holds a
// hashing slot.
func (v *Verifier) check(vd authgate.Verdict, u authgate.User, known bool, password string, id [sha256.Size]byte) (authgate.Verdict, error) {
	c := authgate.Credential{Secret: password}
	target := v.dummy
	if known {
		target = u.PasswordHash
	}
	ok, err := v.hash(target, c.Secret)
	if err != nil {
		vd.Checks = append(vd.Checks, authgate.Checkf("password.hash", authgate.Skip, "stored hash unusable: %v", err))
		return vd, authgate.Unavailable(reason.StoreUnavailable, time.Second,
			fmt.Errorf("the stored password hash of user %q is unusable (%w); set a new one with `authgate users set-password`", u.Name, err))
	}
	if ok && known {
		vd.Checks = append(vd.Checks, authgate.Checkf("password.hash", authgate.Pass, "matches the current %s hash", passhash.Name(target)))
		v.cache.put(id, u.PasswordHash)
		if c, ok := v.upgradeCheck(u, password, id); ok {
			vd.Checks = append(vd.Checks, c)
		}
		return v.allow(vd, u), nil
	}
	return v.refuse(vd, u, known, c.Secret), nil
}

func quoteName(n string) string {
	if strings.HasPrefix(n, "(") {
		return n
	}
	return strconv.Quote(n)
}

// allow completes a verdict for a user whose password matched, unless the
// account's state refuses it.
func (v *Verifier) allow(vd authgate.Verdict, u authgate.User) authgate.Verdict {
	now := v.opts.Now()
	switch {
	case u.Disabled():
		return disabled(vd, u, now)
	case u.MustChangePassword:
		vd.Reason = reason.PasswordChangeRequired
		vd.Checks = append(vd.Checks, authgate.Check{Name: "account.state", Result: authgate.Fail, Reason: vd.Reason,
			Detail: "the password is right, but an admin asked for it to be changed; set a new one with `authgate users set-password`"})
		return vd
	case v.opts.MaxAge > 0 && !u.PasswordChangedAt.IsZero() && !now.Before(u.PasswordChangedAt.Add(v.opts.MaxAge)):
		expired := u.PasswordChangedAt.Add(v.opts.MaxAge)
		vd.Reason = reason.PasswordExpired
		vd.Checks = append(vd.Checks, authgate.Checkf("account.state", authgate.Fail,
			"the password is right, but it was set %s and passwords expire after %s: it expired %s", day(u.PasswordChangedAt), days(v.opts.MaxAge), authgate.Ago(now, expired)))
		vd.Checks[len(vd.Checks)-1].Reason = vd.Reason
		return vd
	}
	vd.Checks = append(vd.Checks, authgate.Check{Name: "account.state", Result: authgate.Pass, Detail: "active"})
	vd.Principal = authgate.Principal{Subject: u.Name, Method: authgate.MethodBasic, Scopes: u.Scopes, Enrolled: u.Enrolled()}
	return vd
}

// disabled turns a verdict for a disabled user into account_disabled. The
// reason a password check found (wrong, previous, a slip) stays in the
// trace as information; the one reason is the account's state.
func disabled(vd authgate.Verdict, u authgate.User, now time.Time) authgate.Verdict {
	right := vd.Reason == ""
	was := "right"
	if !right {
		was = "not right (" + string(vd.Reason) + ")"
		for i := range vd.Checks {
			if vd.Checks[i].Reason != "" {
				vd.Checks[i].Result, vd.Checks[i].Reason = authgate.Info, ""
			}
		}
	}
	vd.Principal = authgate.Principal{}
	vd.Reason = reason.AccountDisabled
	vd.Checks = append(vd.Checks, authgate.Check{Name: "account.state", Result: authgate.Fail, Reason: vd.Reason,
		Detail: fmt.Sprintf("disabled %s (%s); the password presented was %s", day(u.DisabledAt), authgate.Ago(now, u.DisabledAt), was)})
	return vd
}

// acquire takes a hashing slot, waiting at most QueueTimeout.
func (v *Verifier) acquire(ctx context.Context) error {
	select {
	case v.sem <- struct{}{}:
		return nil
	default:
	}
	v.waiting.Add(1)
	defer v.waiting.Add(-1)
	t := time.NewTimer(v.opts.QueueTimeout)
	defer t.Stop()
	select {
	case v.sem <- struct{}{}:
		return nil
	case <-t.C:
		return fmt.Errorf("all %d password hashing slots stayed busy for %s", cap(v.sem), v.opts.QueueTimeout)
	case <-ctx.Done():
		return fmt.Errorf("gave up waiting for a password hashing slot: %w", ctx.Err())
	}
}

func (v *Verifier) release() { <-v.sem }

var _ authgate.Verifier = (*Verifier)(nil)
