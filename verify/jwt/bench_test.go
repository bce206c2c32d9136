package jwt_test

import (
	"testing"

	"github.com/authgate/authgate"
	jwtverify "github.com/authgate/authgate/verify/jwt"
)

func BenchmarkVerify(b *testing.B) {
	keys := standardKeys(b)
	for _, alg := range []struct {
		name string
		key  testKey
	}{{"EdDSA", keys[0]}, {"ES256", keys[2]}, {"RS256", keys[4]}} {
		for _, mode := range []struct {
			name string
			size int
		}{{"cached", 0}, {"uncached", -1}} {
			b.Run(alg.name+"/"+mode.name, func(b *testing.B) {
				f := newFixture(b, keys, jwtverify.Options{CacheSize: mode.size})
				cred := authgate.Credential{Method: authgate.MethodBearer, Secret: mint(b, alg.key, alg.name, claimsAt(t0))}
				ctx := b.Context()
				if v, err := f.v.Verify(ctx, cred); err != nil || v.Reason != "" {
					b.Fatalf("reason %q, err %v", v.Reason, err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if v, _ := f.v.Verify(ctx, cred); v.Reason != "" {
						b.Fatal(v.Reason)
					}
				}
			})
		}
	}
}
