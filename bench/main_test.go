package main

import (
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/config"
)

// These tests cover the harness's pure pieces — the histogram, the
// generated configuration, row selection and the verdicts — and send no
// load.

func TestBucketsCoverEveryValueWithinOneSixtyFourth(t *testing.T) {
	values := []uint64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 1 << 20, 123456789, 1<<62 + 12345, 1<<63 - 1}
	for i := 0; i < 10000; i++ {
		values = append(values, rand.Uint64N(1<<40))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("value %d: bucket %d out of range", v, i)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("value %d: bucket %d holds [%d, %d]", v, i, lo, hi)
		}
		if width := hi - lo; v >= subBuckets && float64(width) > float64(lo)/subBuckets {
			t.Fatalf("value %d: bucket [%d, %d] is wider than 1/64 of its start", v, lo, hi)
		}
	}
}

func TestQuantilesMatchSortedValuesWithinBucketPrecision(t *testing.T) {
	var h Histogram
	var all []time.Duration
	for i := 0; i < 20000; i++ {
		// A long-tailed mix, like real latencies: mostly ~1 ms, a few ~50 ms.
		d := time.Duration(500_000 + rand.IntN(1_000_000))
		if i%100 == 0 {
			d = time.Duration(40_000_000 + rand.IntN(20_000_000))
		}
		h.Record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := all[int(q*float64(len(all))+0.999999)-1]
		got := h.Quantile(q)
		if diff := float64(got-want) / float64(want); diff > 1.0/64 || diff < -1.0/64 {
			t.Errorf("p%g = %v, exact %v (off by %.1f%%)", q*100, got, want, diff*100)
		}
	}
	if h.Count() != 20000 || h.Max() != all[len(all)-1] {
		t.Errorf("count %d max %v, want 20000 and %v", h.Count(), h.Max(), all[len(all)-1])
	}
}

func TestQuantileEdgeCases(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{"an empty histogram answers zero", nil, 0.99, 0},
		{"one value is every quantile", []time.Duration{3 * time.Millisecond}, 0.5, 3 * time.Millisecond},
		{"p100 is the exact maximum", []time.Duration{1, 2, 7 * time.Second}, 1, 7 * time.Second},
		{"p0 is the exact minimum", []time.Duration{5 * time.Microsecond, 9 * time.Second}, 0, 5 * time.Microsecond},
		{"negative latencies count as zero", []time.Duration{-5}, 0.5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tt.values {
				h.Record(v)
			}
			if got := h.Quantile(tt.q); got != tt.want {
				t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestMergeEqualsRecordingEverythingInOne(t *testing.T) {
	var a, b, both Histogram
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Microsecond
		both.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var merged Histogram
	merged.Merge(&a)
	merged.Merge(&b)
	merged.Merge(&Histogram{}) // an empty one changes nothing
	if merged != both {
		t.Errorf("merged: count %d min %v max %v p99 %v; recorded together: count %d min %v max %v p99 %v",
			merged.Count(), merged.min, merged.Max(), merged.Quantile(0.99), both.Count(), both.min, both.Max(), both.Quantile(0.99))
	}
}

func TestGeneratedConfigurationLoads(t *testing.T) {
	dir := t.TempDir()
	issuers, err := newIssuers()
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range issuers {
		if err := is.writeJWKS(dir); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "authgate.yaml")
	if err := os.WriteFile(path, []byte(gatewayConfig("http://127.0.0.1:9999", "info", "sqlite", issuers)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("the generated configuration does not load: %v", err)
	}
	type issuerSummary struct {
		Name, JWKSFile string
		Algorithms     []string
		Audiences      []string
	}
	var got []issuerSummary
	for _, is := range cfg.Issuers {
		got = append(got, issuerSummary{is.Name, is.JWKSFile, is.Algorithms, is.Audiences})
	}
	want := []issuerSummary{
		{"es256", filepath.Join(dir, "es256-jwks.json"), []string{"ES256"}, []string{benchAudience}},
		{"rs256", filepath.Join(dir, "rs256-jwks.json"), []string{"RS256"}, []string{benchAudience}},
		{"eddsa", filepath.Join(dir, "eddsa-jwks.json"), []string{"EdDSA"}, []string{benchAudience}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("issuers (-want +got):\n%s", diff)
	}
	r := cfg.Route("bench")
	if r == nil || r.Upstream.String() != "http://127.0.0.1:9999" || len(r.Accept) != 3 {
		t.Fatalf("route bench = %+v, want one route to the upstream accepting three methods", r)
	}
	for _, m := range []authgate.Method{authgate.MethodAPIKey, authgate.MethodBearer, authgate.MethodBasic} {
		if !r.Accepts(m) {
			t.Errorf("route bench does not accept %s", m)
		}
	}
	if cfg.Listen != "127.0.0.1:0" || cfg.DataDir != dir || cfg.Log.Level != config.DefaultLogLevel {
		t.Errorf("listen %q data_dir %q log level %v; want 127.0.0.1:0, the run's folder, the default level", cfg.Listen, cfg.DataDir, cfg.Log.Level)
	}
	// The rows repeat one refused credential from loopback; counted, they
	// would measure 429s.
	if want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}; !cfg.Throttle.Enabled || !slices.Equal(cfg.Throttle.ExemptNetworks, want) {
		t.Errorf("throttle enabled %v, exempt %v; want throttling on with loopback exempt %v", cfg.Throttle.Enabled, cfg.Throttle.ExemptNetworks, want)
	}
}

func TestIssuersSignTokensTheirJWKSDescribe(t *testing.T) {
	issuers, err := newIssuers()
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range issuers {
		tok, err := is.sign(time.Now(), time.Now().Add(time.Hour))
		if err != nil || len(tok) < 50 {
			t.Errorf("%s: token %q, error %v", is.Alg, tok, err)
		}
	}
}

func testFixture() *Fixture {
	issuers, _ := newIssuers()
	return &Fixture{User: "bench", Password: "pw", APIKey: "agk_key", WrongAPIKey: "agk_wrong", Issuers: issuers,
		Tokens: map[string]string{"ES256": "e", "RS256": "r", "EdDSA": "d"}, ExpiredToken: "x"}
}

func TestEveryComparisonNamesARowThatRunsBefore(t *testing.T) {
	rows := scenarios("http://up", "http://rp", "http://gw", testFixture())
	seen := map[string]bool{}
	for _, s := range rows {
		if s.CompareTo != "" && !seen[s.CompareTo] {
			t.Errorf("%s is compared with %q, which has not run before it", s.Name, s.CompareTo)
		}
		if seen[s.Name] {
			t.Errorf("two rows are named %s", s.Name)
		}
		seen[s.Name] = true
	}
	for _, name := range []string{"proxy/api_key", "proxy/jwt-ES256", "proxy/jwt-RS256", "proxy/jwt-EdDSA", "verify/jwt-EdDSA", "proxy/refuse-api_key", "verify/refuse-jwt-expired"} {
		if !seen[name] {
			t.Errorf("no row %s", name)
		}
	}
}

// A refusal runs right after its acceptance, and that acceptance runs
// again right after it (measureMain), so the two are compared under the
// same load on the shared machine.
func TestEachRefusalRunsBetweenTwoRunsOfItsAcceptance(t *testing.T) {
	rows := scenarios("http://up", "http://rp", "http://gw", testFixture())
	refusals := 0
	for i, s := range rows {
		acc, ok := acceptanceOf(rows, s)
		if !strings.Contains(s.Name, "refuse-") {
			if ok {
				t.Errorf("%s is no refusal, but would be followed by %s again", s.Name, acc.Name)
			}
			continue
		}
		refusals++
		if !ok || acc.Name != s.CompareTo {
			t.Errorf("%s: acceptance %q (%v), want %q", s.Name, acc.Name, ok, s.CompareTo)
		}
		if i == 0 || rows[i-1].Name != s.CompareTo {
			t.Errorf("%s does not run right after %s", s.Name, s.CompareTo)
		}
	}
	if refusals != 4 {
		t.Errorf("%d refusal rows, want 4 (wrong key and expired token, proxy and forward-auth)", refusals)
	}
}

func TestForwardAuthRowsDescribeTheOriginalRequest(t *testing.T) {
	for _, s := range scenarios("http://up", "http://rp", "http://gw", testFixture()) {
		if s.Group != "forward-auth" {
			continue
		}
		h := s.Target.Header
		if s.Target.URL != "http://gw/.authgate/verify" || h.Get("X-Forwarded-Method") != http.MethodGet || h.Get("X-Forwarded-Uri") == "" || h.Get("X-Forwarded-Host") == "" {
			t.Errorf("%s: %s with %v, want the verify endpoint with X-Forwarded-Method, -Host and -Uri", s.Name, s.Target.URL, h)
		}
	}
}

func TestSelectRowsKeepsWhatTheSelectedRowsAreComparedWith(t *testing.T) {
	all := scenarios("http://up", "http://rp", "http://gw", testFixture())
	tests := []struct {
		name    string
		pattern string
		want    []string
	}{
		{"a proxy acceptance brings the reverse proxy", `^proxy/api_key$`, []string{"reverse-proxy", "proxy/api_key"}},
		{"a refusal brings its acceptance and that one's baseline", `^verify/refuse-api_key$`, []string{"upstream", "verify/api_key", "verify/refuse-api_key"}},
		{"a baseline alone is just itself", `^upstream$`, []string{"upstream"}},
		{"nothing matching selects nothing", `nothing`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range selectRows(all, regexp.MustCompile(tt.pattern)) {
				got = append(got, s.Name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
}

func TestCompareMarksMissesAndErrors(t *testing.T) {
	rep := &Report{Rows: []Row{
		{Name: "reverse-proxy", RPS: 1000, Requests: 8000},
		{Name: "proxy/api_key", RPS: 950, Requests: 7600, CompareTo: "reverse-proxy", MinRatio: 0.9},
		{Name: "proxy/jwt-ES256", RPS: 800, Requests: 6400, CompareTo: "reverse-proxy", MinRatio: 0.9},
		{Name: "proxy/basic-cached", RPS: 500, Requests: 4000, Errors: 3, FirstError: "status 503", CompareTo: "reverse-proxy"},
	}, Isolation: &IsolationRow{IdleP99ms: 2, BusyP99ms: 5, Ratio: 2.5, MaxRatio: 2}}
	rep.compare()
	verdicts := map[string]string{}
	for _, r := range rep.Rows {
		switch {
		case r.Met == nil:
			verdicts[r.Name] = "no target"
		case *r.Met:
			verdicts[r.Name] = "met"
		default:
			verdicts[r.Name] = "missed"
		}
	}
	want := map[string]string{"reverse-proxy": "no target", "proxy/api_key": "met", "proxy/jwt-ES256": "missed", "proxy/basic-cached": "no target"}
	if diff := cmp.Diff(want, verdicts); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if got := rep.Rows[2].Ratio; got != 0.8 {
		t.Errorf("proxy/jwt-ES256 ratio %v, want 0.8", got)
	}
	if len(rep.Misses) != 3 {
		t.Errorf("misses %q, want the JWT row, the errors of basic-cached and isolation", rep.Misses)
	}
}

func TestStatusListIsSortedAndNamesTransportErrors(t *testing.T) {
	got := statusList(map[int]uint64{503: 40, 0: 2, 401: 120})
	if want := "transport error ×2, 401 ×120, 503 ×40"; got != want {
		t.Errorf("statusList = %q, want %q", got, want)
	}
}

// A baseline measured again at the end counts as the mean of its two runs.
func TestCompareUsesTheMeanOfABaselinesTwoRuns(t *testing.T) {
	rep := &Report{Rows: []Row{
		{Name: "reverse-proxy", RPS: 1000, Requests: 8000},
		{Name: "proxy/api_key", RPS: 720, Requests: 5760, CompareTo: "reverse-proxy", MinRatio: 0.9},
		{Name: "reverse-proxy" + againSuffix, RPS: 600, Requests: 4800},
	}}
	rep.compare()
	if got := rep.Rows[1].Ratio; got != 0.9 {
		t.Errorf("ratio %v, want 720 / mean(1000, 600) = 0.9", got)
	}
	if m := rep.Rows[1].Met; m == nil || !*m {
		t.Errorf("the row meets its target against the mean; misses %q", rep.Misses)
	}
}
