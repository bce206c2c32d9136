package jwt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authgate/authgate"
)

// Options are the dependencies shared by all issuers of a Verifier.
type Options struct {
	// Now is the clock every time check uses; nil means time.Now.
	Now func() time.Time
	// HTTPClient fetches discovery documents and key sets; nil means a
	// client without a global timeout (each fetch has FetchTimeout).
	HTTPClient *http.Client
	// Logger receives key fetch events; nil discards them. Tokens are
	// never logged.
	Logger *slog.Logger
	// CacheSize is how many verified tokens are kept; zero means
	// DefaultCacheSize and a negative value turns the cache off.
	CacheSize int
}

// Verifier verifies Bearer JWTs from a fixed set of trusted issuers. It is
// safe for concurrent use. Create it with New and call Start before
// serving requests.
type Verifier struct {
	issuers []*issuerState
	byIss   map[string]*issuerState
	now     func() time.Time
	log     *slog.Logger
	cache   *tokenCache
	started atomic.Bool
}

// New validates the issuers and returns a Verifier. It does no I/O; keys
// are fetched by Start. It returns an error naming every invalid issuer
// setting: no issuers, duplicate names or iss values, a missing or
// doubled key source, empty audiences, or an algorithm that is not
// allowed (none, HS*) or not supported.
func New(issuers []Issuer, opts Options) (*Verifier, error) {
	if len(issuers) == 0 {
		return nil, errors.New("jwt: no issuers configured")
	}
	v := &Verifier{
		byIss: make(map[string]*issuerState, len(issuers)),
		now:   opts.Now,
		log:   opts.Logger,
		cache: newTokenCache(opts.CacheSize),
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	var errs []error
	names := make(map[string]bool, len(issuers))
	for _, cfg := range issuers {
		cfg = cfg.withDefaults()
		if err := cfg.validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if names[cfg.Name] {
			errs = append(errs, fmt.Errorf("jwt: issuer name %q is used twice", cfg.Name))
			continue
		}
		if v.byIss[cfg.Issuer] != nil {
			errs = append(errs, fmt.Errorf("jwt: issuers %q and %q both expect iss %q; a token could not tell them apart", v.byIss[cfg.Issuer].cfg.Name, cfg.Name, cfg.Issuer))
			continue
		}
		is := &issuerState{cfg: cfg, now: v.now, log: v.log}
		is.src = source{cfg: &is.cfg, client: client}
		names[cfg.Name] = true
		v.byIss[cfg.Issuer] = is
		v.issuers = append(v.issuers, is)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return v, nil
}

// Start fetches every issuer's keys, in parallel, and returns when each
// fetch has succeeded or failed. A failure is logged, not fatal: tokens of
// that issuer then get the 503 reason issuer_unavailable until a later
// fetch succeeds, and Health reports it. Start then refreshes the keys in
// the background until ctx ends. Calls after the first do nothing.
func (v *Verifier) Start(ctx context.Context) {
	if v.started.Swap(true) {
		return
	}
	var wg sync.WaitGroup
	for _, is := range v.issuers {
		wg.Go(func() { _ = is.fetch(ctx, "start") })
	}
	wg.Wait()
	for _, is := range v.issuers {
		go is.refreshLoop(ctx)
	}
}

// Health returns, joined, why issuers have no current key set: the latest
// fetch failed (an *IssuerMismatchError, a *StatusError, a network error)
// or Start has not run. It returns nil when every issuer's keys are
// current. Use it for readiness checks and `authgate doctor`.
func (v *Verifier) Health() error {
	var errs []error
	for _, is := range v.issuers {
		if err := is.health(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Method returns authgate.MethodBearer.
func (v *Verifier) Method() authgate.Method { return authgate.MethodBearer }

var _ authgate.Verifier = (*Verifier)(nil)
