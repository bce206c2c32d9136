package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/authgate/authgate/reason"
)

// The stuffing run's part of the report. It measures and does not judge
// the figures, but marks the two that must hold: the legitimate client's
// success rate (100 % unless its own account is attacked) and the
// accounting difference (0: every attempt is in the sign-in log or counted
// as dropped).

// StuffingRow is the stuffing run's figures.
type StuffingRow struct {
	Attempts    int    `json:"attempts_planned"`
	Users       int    `json:"users"`
	Sources     int    `json:"sources"`
	Conns       int    `json:"conns"`
	MaxTime     string `json:"max_time"`
	TargetLegit bool   `json:"legit_user_attacked"`
	Argon2      string `json:"argon2"`

	LegitRate     float64        `json:"legit_rps"`
	IdleP50ms     float64        `json:"legit_idle_p50_ms"`
	IdleP99ms     float64        `json:"legit_idle_p99_ms"`
	IdleErrors    uint64         `json:"legit_idle_errors"`
	BusyP50ms     float64        `json:"legit_attack_p50_ms"`
	BusyP99ms     float64        `json:"legit_attack_p99_ms"`
	P99Ratio      float64        `json:"legit_p99_ratio"`
	LegitRequests uint64         `json:"legit_attack_requests"`
	LegitOK       uint64         `json:"legit_attack_ok"`
	SuccessRate   float64        `json:"legit_success_percent"`
	LegitStatuses map[int]uint64 `json:"legit_attack_statuses"`

	Sent         uint64            `json:"attempts_sent"`
	Undelivered  uint64            `json:"attempts_undelivered"` // failed before written in full: not sent
	WallS        float64           `json:"attack_wall_s"`
	AttemptsPerS float64           `json:"attack_attempts_per_s"`
	AttackP50ms  float64           `json:"attack_answer_p50_ms"`
	AttackP99ms  float64           `json:"attack_answer_p99_ms"`
	Answers      map[string]uint64 `json:"answers_seen"`     // "429 account_locked": what the attacker read
	Logged       map[string]int64  `json:"logged_by_reason"` // the sign-in log's count of the attack's events
	// RefusedBeforeHash counts throttle refusals; Hashed the refusals the
	// password check gave after hashing; Busy the password_check_busy
	// answers (no hashing slot in time, not hashed); Other the rest.
	RefusedBeforeHash int64 `json:"refused_before_hashing"`
	Hashed            int64 `json:"hashed"`
	Busy              int64 `json:"not_hashed_busy"`
	Other             int64 `json:"other"`
	AccountsLocked    int   `json:"accounts_locked"`          // attacked accounts refused as account_locked
	LockedInStore     int   `json:"accounts_locked_in_store"` // of which the user store holds the lock

	LoggedTotal int64 `json:"logged"`
	Dropped     int64 `json:"dropped"`
	Difference  int64 `json:"difference"`
}

// hashedReasons are the refusals the password check gives after hashing.
var hashedReasons = []reason.Code{reason.UserUnknown, reason.PasswordWrong, reason.PasswordPrevious,
	reason.PasswordWhitespace, reason.PasswordCapsLock, reason.AccountDisabled}

// newStuffingRow summarises a stuffing run.
func newStuffingRow(r *StuffingResult) *StuffingRow {
	o, a := r.Options, r.Attack
	row := &StuffingRow{
		Attempts: o.Attempts, Users: o.Users, Sources: o.Sources, Conns: o.Conns, MaxTime: o.MaxTime.String(), TargetLegit: o.TargetLegit,
		Argon2:    fmt.Sprintf("argon2id m=%d KiB, t=%d, p=1", o.MemoryKiB, o.Iterations),
		LegitRate: o.LegitRate, IdleP50ms: ms(r.Idle.Latency.Quantile(0.5)), IdleP99ms: ms(r.Idle.Latency.Quantile(0.99)), IdleErrors: r.Idle.Errors,
		BusyP50ms: ms(r.Busy.Latency.Quantile(0.5)), BusyP99ms: ms(r.Busy.Latency.Quantile(0.99)),
		LegitRequests: r.Busy.Requests, LegitOK: r.Busy.Requests - r.Busy.Errors, LegitStatuses: r.Busy.Statuses,
		Sent: a.Sent, WallS: a.Wall.Seconds(), AttackP50ms: ms(a.Latency.Quantile(0.5)), AttackP99ms: ms(a.Latency.Quantile(0.99)),
		Answers: map[string]uint64{}, Logged: map[string]int64{},
		AccountsLocked: r.Log.Refused, LockedInStore: r.Log.Locked, LoggedTotal: r.Log.Logged, Dropped: r.Log.Dropped,
	}
	if row.IdleP99ms > 0 {
		row.P99Ratio = row.BusyP99ms / row.IdleP99ms
	}
	if row.LegitRequests > 0 {
		row.SuccessRate = 100 * float64(row.LegitOK) / float64(row.LegitRequests)
	}
	if a.Wall > 0 {
		row.AttemptsPerS = float64(a.Sent) / a.Wall.Seconds()
	}
	for ans, n := range a.Answers {
		switch ans {
		case abandoned:
			row.Answers["abandoned unanswered"] += n
		case undelivered:
			row.Undelivered += n
		case answer{}:
			row.Answers["transport error"] += n
		default:
			row.Answers[strings.TrimSpace(fmt.Sprint(ans.Status, " ", ans.Reason))] += n
		}
	}
	for code, n := range r.Log.ByReason {
		name := string(code)
		switch {
		case code == "":
			name = "(allowed)"
			row.Other += n
		case reason.Lookup(code).Category == "throttle":
			row.RefusedBeforeHash += n
		case slices.Contains(hashedReasons, code):
			row.Hashed += n
		case code == reason.PasswordCheckBusy:
			row.Busy += n
		default:
			row.Other += n
		}
		row.Logged[name] += n
	}
	row.Difference = int64(row.Sent) - (row.LoggedTotal + row.Dropped)
	return row
}

// misses lists what the run must not show: a legitimate sign-in refused,
// an attempt neither logged nor counted as dropped.
func (s *StuffingRow) misses() []string {
	var out []string
	if s.LegitRequests == 0 || s.LegitOK < s.LegitRequests || s.IdleErrors > 0 {
		what := "its own account is not attacked"
		if s.TargetLegit {
			what = "its account is among the attacked ones (-stuffing-target-legit), so refusals are possible"
		}
		out = append(out, fmt.Sprintf("stuffing: the legitimate client signed in %d of %d times during the attack (%.2f %%; %d errors alone before); %s",
			s.LegitOK, s.LegitRequests, s.SuccessRate, s.IdleErrors, what))
	}
	if s.LockedInStore < s.AccountsLocked {
		out = append(out, fmt.Sprintf("stuffing: %d accounts were refused as account_locked, but the user store holds the lock of only %d (the gateway's log says why the others were not recorded)", s.AccountsLocked, s.LockedInStore))
	}
	if s.Difference != 0 {
		out = append(out, fmt.Sprintf("stuffing: %d attempts sent, %d in the sign-in log, %d dropped: %d unaccounted for", s.Sent, s.LoggedTotal, s.Dropped, s.Difference))
	}
	return out
}

// writeText prints the stuffing section of the report.
func (s *StuffingRow) writeText(w io.Writer) {
	mark := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISS"
	}
	fmt.Fprintf(w, "\nCREDENTIAL STUFFING (%d wrong passwords over %d users from %d sources, %d connections, at most %s; %s; throttle defaults)\n",
		s.Attempts, s.Users, s.Sources, s.Conns, s.MaxTime, s.Argon2)
	attacked := "not attacked"
	if s.TargetLegit {
		attacked = "ATTACKED too"
	}
	fmt.Fprintf(w, "  legitimate client, own user (%s) and address, %.0f sign-ins/s:\n", attacked, s.LegitRate)
	fmt.Fprintf(w, "    alone:               p50 %.2f ms  p99 %.2f ms\n", s.IdleP50ms, s.IdleP99ms)
	fmt.Fprintf(w, "    during the attack:   p50 %.2f ms  p99 %.2f ms   p99 ratio %.2f×\n", s.BusyP50ms, s.BusyP99ms, s.P99Ratio)
	fmt.Fprintf(w, "    signed in:           %d of %d (%.2f %%)   %s   (%s)\n", s.LegitOK, s.LegitRequests, s.SuccessRate,
		mark(s.LegitOK == s.LegitRequests && s.LegitRequests > 0 && s.IdleErrors == 0), statusList(s.LegitStatuses))
	fmt.Fprintf(w, "  attack: %d sent in %.1f s (%.0f attempts/s); answer p50 %.0f ms, p99 %.0f ms\n", s.Sent, s.WallS, s.AttemptsPerS, s.AttackP50ms, s.AttackP99ms)
	if s.Undelivered > 0 {
		fmt.Fprintf(w, "    %d attempts failed before they were written in full, so they are not counted as sent\n", s.Undelivered)
	}
	if left := s.Attempts - int(s.Sent+s.Undelivered); left > 0 {
		fmt.Fprintf(w, "    %d planned attempts not sent: the throttle's delays held the connections past %s\n", left, s.MaxTime)
	}
	fmt.Fprintf(w, "    answers seen:        %s\n", countList(s.Answers))
	fmt.Fprintf(w, "    sign-in log:         %s\n", countList(s.Logged))
	fmt.Fprintf(w, "    refused before any hash %d (%.1f %%), hashed %d, not hashed (password_check_busy) %d, other %d\n",
		s.RefusedBeforeHash, percent(s.RefusedBeforeHash, s.LoggedTotal), s.Hashed, s.Busy, s.Other)
	fmt.Fprintf(w, "    accounts locked:     %d of %d attacked were refused as account_locked; %d are locked in the user store   %s\n",
		s.AccountsLocked, s.Users, s.LockedInStore, mark(s.LockedInStore >= s.AccountsLocked))
	fmt.Fprintf(w, "  accounting: %d sent − (%d in the sign-in log + %d dropped) = %d   %s\n", s.Sent, s.LoggedTotal, s.Dropped, s.Difference, mark(s.Difference == 0))
}

// countList renders counts as "429 account_locked ×39000, ...", largest
// first.
func countList[N uint64 | int64](m map[string]N) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			if m[a] > m[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func percent(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}
