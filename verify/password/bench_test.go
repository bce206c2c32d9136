package password

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/passhash"
	"github.com/authgate/authgate/sqlite"
)

// BenchmarkVerify compares a repeated correct login (served by the
// verified-credential cache) with one that hashes with the default argon2id
// parameters, and a failed attempt with slip detection.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(filepath.Join(b.TempDir(), "users.db"), sqlite.Options{RefreshInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h, err := passhash.Hash("open sesame", passhash.DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.AddUser(ctx, "Aladdin", h, []string{"read"}); err != nil {
		b.Fatal(err)
	}
	right := authgate.Credential{Method: authgate.MethodBasic, Username: "Aladdin", Secret: "open sesame"}
	wrong := authgate.Credential{Method: authgate.MethodBasic, Username: "Aladdin", Secret: "open sesame!"}

	b.Run("cached", func(b *testing.B) {
		v := New(s, Options{})
		if vd, err := v.Verify(ctx, right); err != nil || vd.Reason != "" {
			b.Fatal(vd.Reason, err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if vd, err := v.Verify(ctx, right); err != nil || vd.Reason != "" {
				b.Fatal(vd.Reason, err)
			}
		}
	})
	b.Run("uncached-argon2id-default", func(b *testing.B) {
		v := New(s, Options{})
		b.ReportAllocs()
		for b.Loop() {
			v.cache = newCache(v.opts.CacheKey, defaultCacheSize)
			if vd, err := v.Verify(ctx, right); err != nil || vd.Reason != "" {
				b.Fatal(vd.Reason, err)
			}
		}
	})
	b.Run("wrong-password-with-slip-detection", func(b *testing.B) {
		v := New(s, Options{DetectSlips: true})
		b.ReportAllocs()
		for b.Loop() {
			if vd, err := v.Verify(ctx, wrong); err != nil || vd.Reason == "" {
				b.Fatal(vd.Reason, err)
			}
		}
	})
}
