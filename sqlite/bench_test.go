package sqlite_test

import (
	"context"
	"testing"
	"time"
)

func BenchmarkUser(b *testing.B) {
	ctx := context.Background()
	s, _ := open(b, newClock())
	if err := s.AddUser(ctx, "Aladdin", hash(b, "open sesame"), []string{"read", "write"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.User(ctx, "Aladdin"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAPIKey(b *testing.B) {
	ctx := context.Background()
	s, _ := open(b, newClock())
	iss, err := s.CreateKey(ctx, "ci", []string{"deploy"}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.APIKey(ctx, iss.ID); err != nil {
			b.Fatal(err)
		}
	}
}
