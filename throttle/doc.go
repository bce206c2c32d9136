// Package throttle counts authentication failures per key (a user name, a
// source address, an IPv6 /64, a credential fingerprint, a (user, address)
// pair) and says when a key is over its limit, how long a failed attempt
// should be delayed, and when attempts are accepted again.
//
// # Algorithm
//
// Every key has a sliding-window log: the times of its failures within the
// last Rule.Window, at most Rule.Limit of them. A failure at time t counts
// while now < t+Window.
//
//   - Rule.Lock == 0 (a rate limit): once Limit failures are in the window,
//     attempts are refused until the oldest of them leaves it (Until =
//     oldest+Window), so the key is accepted again one failure at a time.
//   - Rule.Lock > 0 (a lockout): the failure that reaches Limit locks the key
//     until that failure's time plus Lock. A failure after the lock ends that
//     still finds Limit failures in the window locks again.
//
// While a key is blocked, Fail does not count: the attempt should have been
// refused by Check before any password was hashed, and not counting keeps an
// attacker from extending a lock forever with refused attempts.
//
// Each counted failure past Rule.FreeFailures gets a progressive delay:
// Rule.Delay for the first, doubling for each further one, capped at
// Rule.MaxDelay.
//
// Time is always passed in by the caller and kept in Unix milliseconds, so
// the same clock drives every backend and tests never sleep. Memory keeps the
// log in sharded maps with a bounded size; Redis keeps it in a sorted set per
// key updated by one Lua script; Fallback uses Redis and, while Redis does
// not answer, a Memory limiter.
package throttle
