package signinlog

import (
	"errors"
	"fmt"

	"github.com/authgate/authgate"
)

// Columns are the fields of an event that stores filter, order and count
// by, beside the whole decision. Text fields are TextColumn-clean.
type Columns struct {
	Time                                      int64 // Unix nanoseconds
	RequestID, Route, Method, Outcome, Reason string
	Status                                    int
	Claimed, Subject, KeyID                   string
	SourceIP                                  []byte // AddressKey of the source; nil when unknown
	UserAgent, Fingerprint, Issuer            string
	Skew                                      *int64 // nanoseconds; nil when no time check found one
	Latency                                   int64  // nanoseconds
}

// EventColumns derives the indexed fields of d. It fails for a nil event and
// for a time outside what Unix nanoseconds hold (years 1678 to 2261).
func EventColumns(d *authgate.Decision) (Columns, error) {
	if d == nil {
		return Columns{}, errors.New("nil event")
	}
	if y := d.Time.Year(); d.Time.IsZero() || y < 1678 || y > 2261 {
		return Columns{}, fmt.Errorf("event %q: time %v cannot be stored in Unix nanoseconds", d.RequestID, d.Time)
	}
	c := Columns{
		Time: d.Time.UnixNano(), RequestID: TextColumn(d.RequestID), Route: TextColumn(d.Route),
		Method: string(d.Method), Outcome: d.Outcome(), Reason: string(d.Reason), Status: d.Status,
		Claimed: TextColumn(d.Claimed), UserAgent: TextColumn(d.UserAgent), Fingerprint: TextColumn(d.Fingerprint),
		Latency: int64(d.Latency),
	}
	if d.Principal != nil {
		c.Subject, c.KeyID = TextColumn(d.Principal.Subject), TextColumn(d.Principal.KeyID)
	}
	if c.KeyID == "" && d.Method == authgate.MethodAPIKey {
		c.KeyID = c.Claimed // the key id, also when the key was refused
	}
	if d.Token != nil {
		c.Issuer = TextColumn(d.Token.Issuer)
	}
	if d.Source.IsValid() {
		key := AddressKey(d.Source)
		c.SourceIP = key[:]
	}
	if d.ClockSkew != 0 {
		n := int64(d.ClockSkew)
		c.Skew = &n
	}
	return c, nil
}
