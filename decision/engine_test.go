package decision

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/credential"
	"github.com/authgate/authgate/policy"
	"github.com/authgate/authgate/reason"
)

// faultyVerifier stands in at the Verifier seam for a verifier with a bug:
// it fails with an error that is not an *authgate.UnavailableError.
type faultyVerifier struct{ err error }

func (faultyVerifier) Method() authgate.Method { return authgate.MethodBearer }

func (f faultyVerifier) Verify(context.Context, authgate.Credential) (authgate.Verdict, error) {
	return authgate.Verdict{}, f.err
}

type sink struct{ got []*authgate.Decision }

func (s *sink) Record(d *authgate.Decision) { s.got = append(s.got, d) }

func engine(v authgate.Verifier, s authgate.EventSink) *Engine {
	r := &policy.Route{Name: "api", Path: "/", Accept: []authgate.Method{authgate.MethodBearer}, Networks: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}
	return &Engine{
		Routes:         policy.NewTable([]*policy.Route{r}),
		Extractor:      &credential.Extractor{APIKeyHeader: "X-Api-Key", MaxBytes: 4096},
		Verifiers:      map[authgate.Method]authgate.Verifier{authgate.MethodBearer: v},
		FingerprintKey: []byte("k"),
		Now:            func() time.Time { return time.Unix(1700000000, 0) },
		Sink:           s,
	}
}

func request(h http.Header) Request {
	return Request{ID: "r1", Host: "h", Path: "/x", Header: h, Source: netip.MustParseAddr("192.0.2.1")}
}

func TestVerifierFaultIsInternalError(t *testing.T) {
	s := &sink{}
	d, _ := engine(faultyVerifier{errors.New("nil map")}, s).Decide(context.Background(), request(http.Header{"Authorization": {"Bearer x"}}))
	if d.Allowed || d.Reason != reason.InternalError {
		t.Fatalf("reason = %q, want internal_error", d.Reason)
	}
	if len(s.got) != 1 || s.got[0] != d {
		t.Errorf("the decision must reach the sink exactly once")
	}
}

func TestUnavailableErrorBecomesItsReasonWithRetryAfter(t *testing.T) {
	v := faultyVerifier{authgate.Unavailable(reason.IssuerUnavailable, 5*time.Second, errors.New("dial tcp: refused"))}
	d, _ := engine(v, nil).Decide(context.Background(), request(http.Header{"Authorization": {"Bearer x"}}))
	if d.Reason != reason.IssuerUnavailable || d.RetryAfter != 5*time.Second {
		t.Fatalf("got %q retry %v, want issuer_unavailable after 5s", d.Reason, d.RetryAfter)
	}
}

func TestNetworkRuleRunsBeforeAnyCredentialWork(t *testing.T) {
	e := engine(faultyVerifier{errors.New("must not be called")}, nil)
	req := request(http.Header{"Authorization": {"Bearer x"}})
	req.Source = netip.MustParseAddr("198.51.100.1")
	d, route := e.Decide(context.Background(), req)
	if d.Reason != reason.NetworkNotAllowed || route == nil || d.Fingerprint != "" {
		t.Fatalf("reason %q fingerprint %q, want network_not_allowed before extraction", d.Reason, d.Fingerprint)
	}
}

func TestFingerprintIdentifiesASecretWithoutRevealingIt(t *testing.T) {
	e := engine(faultyVerifier{authgate.Unavailable(reason.IssuerUnavailable, 0, errors.New("x"))}, nil)
	a, _ := e.Decide(context.Background(), request(http.Header{"Authorization": {"Bearer secret-one"}}))
	b, _ := e.Decide(context.Background(), request(http.Header{"Authorization": {"Bearer secret-one"}}))
	c, _ := e.Decide(context.Background(), request(http.Header{"Authorization": {"Bearer secret-two"}}))
	if a.Fingerprint == "" || a.Fingerprint != b.Fingerprint || a.Fingerprint == c.Fingerprint {
		t.Errorf("fingerprints %q %q %q: the same secret must match, another must not", a.Fingerprint, b.Fingerprint, c.Fingerprint)
	}
	other := engine(faultyVerifier{authgate.Unavailable(reason.IssuerUnavailable, 0, errors.New("x"))}, nil)
	other.FingerprintKey = []byte("other key")
	if d, _ := other.Decide(context.Background(), request(http.Header{"Authorization": {"Bearer secret-one"}})); d.Fingerprint == a.Fingerprint {
		t.Errorf("the fingerprint must depend on the gateway's key")
	}
}
