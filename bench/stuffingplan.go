package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
)

// The stuffing run's cast: the attacked user names, the legitimate user,
// the addresses each side comes from, and the attack's plan.

// The run's addresses: attackers in 10.66.0.0/16, the legitimate client in
// TEST-NET-1.
var (
	attackNetwork = netip.MustParsePrefix("10.66.0.0/16")
	legitSource   = netip.MustParseAddr("192.0.2.10")
)

// legitUser is the legitimate client's user name.
const legitUser = "legit-client"

// attempt is one wrong password of the attack.
type attempt struct {
	user, password string
	source         netip.Addr
}

// attackSource returns the i-th attacking address: 10.66.0.1, ...
func attackSource(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 66, byte(i / 250), byte(i%250 + 1)})
}

// targetNames returns the attacked user names; the legitimate user's is
// the first of them when o.TargetLegit.
func targetNames(o StuffingOptions) []string {
	names := make([]string, o.Users)
	for i := range names {
		names[i] = fmt.Sprintf("user%04d", i+1)
	}
	if o.TargetLegit && len(names) > 0 {
		names[0] = legitUser
	}
	return names
}

// stuffingPlan lists the attack's attempts in the order they are sent:
// every user name and every source the same number of times (±1), each
// password different, shuffled with a fixed seed so runs compare.
func stuffingPlan(o StuffingOptions) []attempt {
	names := targetNames(o)
	rng := rand.New(rand.NewPCG(1, 2))
	users, sources := rng.Perm(o.Attempts), rng.Perm(o.Attempts)
	plan := make([]attempt, o.Attempts)
	for i := range plan {
		plan[i] = attempt{
			user:     names[users[i]%o.Users],
			password: fmt.Sprintf("stuffed-%06d-%x", i, rng.Uint32()),
			source:   attackSource(sources[i] % o.Sources),
		}
	}
	return plan
}
