// Package admin serves the admin API on its own listener: the sign-in log
// (GET /api/v1/events with filters and cursor pagination, GET
// /api/v1/events/{request_id} with the decision explained) and Prometheus
// metrics (/metrics). Every endpoint requires the admin bearer token.
package admin

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/signinlog"
)

// Config is what the admin API serves from.
type Config struct {
	// Token is the bearer token every request must carry.
	Token    string
	Events   signinlog.Store
	Users    authgate.UserStore
	Keys     authgate.KeyStore
	Registry *prometheus.Registry
	Logger   *slog.Logger
	Now      func() time.Time
}

// Handler returns the admin API.
func Handler(cfg Config) http.Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &api{cfg: cfg, token: sha256.Sum256([]byte(cfg.Token))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/events", a.events)
	mux.HandleFunc("GET /api/v1/events/{request_id}", a.event)
	if cfg.Registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "Not found", "The admin API serves /api/v1/events, /api/v1/events/{request_id} and /metrics.", nil)
	})
	return a.authenticate(mux)
}

type api struct {
	cfg   Config
	token [32]byte
}

// authenticate requires the admin token; the comparison is on hashes, so
// it takes the same time whatever the presented token's length.
func (a *api) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="authgate-admin"`)
			problem(w, http.StatusUnauthorized, "Admin token required", "Send the admin token: Authorization: Bearer <token> (admin.token or admin.token_file in the configuration).", nil)
			return
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if subtle.ConstantTimeCompare(sum[:], a.token[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="authgate-admin", error="invalid_token"`)
			problem(w, http.StatusUnauthorized, "Admin token wrong", "The bearer token is not the configured admin token.", nil)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// events lists events matching the query's filters, newest first.
func (a *api) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if !knownParam(k) {
			problem(w, http.StatusBadRequest, "Unknown parameter", "Unknown query parameter "+strconv.Quote(k)+"; use "+strings.Join(signinlog.FilterParams, ", ")+", limit and cursor.", map[string]any{"param": k})
			return
		}
	}
	f, err := signinlog.ParseFilter(q.Get, a.cfg.Now())
	var fe *signinlog.FilterError
	if errors.As(err, &fe) {
		problem(w, http.StatusBadRequest, "Bad filter", fe.Error(), map[string]any{"param": fe.Param})
		return
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 1000 {
			problem(w, http.StatusBadRequest, "Bad filter", "limit "+strconv.Quote(v)+" must be a number from 1 to 1000", map[string]any{"param": "limit"})
			return
		}
	}
	events, next, err := a.cfg.Events.Query(r.Context(), f, signinlog.Page{Limit: limit, Cursor: q.Get("cursor")})
	switch {
	case errors.Is(err, signinlog.ErrBadCursor):
		problem(w, http.StatusBadRequest, "Bad cursor", "The cursor does not belong to this query; start again without cursor, keeping the same filters.", map[string]any{"param": "cursor"})
		return
	case err != nil:
		a.unavailable(w, err)
		return
	}
	if events == nil {
		events = []*authgate.Decision{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events, "next": next})
}

// event returns every event with one request id, each explained.
func (a *api) event(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("request_id")
	events, err := a.cfg.Events.Get(r.Context(), id)
	if err != nil {
		a.unavailable(w, err)
		return
	}
	if len(events) == 0 {
		problem(w, http.StatusNotFound, "No such request", "No event has request id "+strconv.Quote(id)+"; it may be older than the retention period, or the id is mistyped.", nil)
		return
	}
	type explained struct {
		*authgate.Decision
		Explanation string `json:"explanation"`
	}
	out := make([]explained, len(events))
	for i, d := range events {
		c, err := signinlog.Gather(r.Context(), d, a.cfg.Events, a.cfg.Users, a.cfg.Keys, a.cfg.Now())
		if err != nil {
			a.unavailable(w, err)
			return
		}
		var b bytes.Buffer
		signinlog.Explain(&b, d, c)
		out[i] = explained{d, b.String()}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func (a *api) unavailable(w http.ResponseWriter, err error) {
	a.cfg.Logger.Error("admin API: the sign-in log store failed", "error", err)
	w.Header().Set("Retry-After", "5")
	problem(w, http.StatusServiceUnavailable, "Sign-in log unavailable", "The sign-in log store did not answer; see the gateway's log.", nil)
}

func knownParam(k string) bool {
	if k == "limit" || k == "cursor" {
		return true
	}
	for _, p := range signinlog.FilterParams {
		if k == p {
			return true
		}
	}
	return false
}

// problem writes an RFC 9457 problem document.
func problem(w http.ResponseWriter, status int, title, detail string, ext map[string]any) {
	body := map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail}
	for k, v := range ext {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
