package jsonquote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// reference quotes s with the standard library encoder st stands for.
func reference(t testing.TB, s string, st Style) string {
	switch st {
	case Marshal:
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	case Encoder:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(buf.String(), "\n")
	default:
		// The message of a record at the zero time is the line's only
		// field: {"level":"INFO","msg":...}.
		var buf bytes.Buffer
		rec := slog.NewRecord(time.Time{}, slog.LevelInfo, s, 0)
		if err := slog.NewJSONHandler(&buf, nil).Handle(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		line := strings.TrimSuffix(buf.String(), "}\n")
		return strings.TrimPrefix(line, `{"level":"INFO","msg":`)
	}
}

var styles = map[string]Style{"slog": Slog, "encoder": Encoder, "marshal": Marshal}

func TestAppendMatchesTheStandardLibrary(t *testing.T) {
	var every strings.Builder
	for c := range 128 {
		every.WriteByte(byte(c))
	}
	for _, s := range []string{
		"", "plain", every.String(), "<a href=\"x\">&amp;</a>", "bad \xff\xfe utf8 \xc3", "\u2028\u2029 é 中 🙂",
		"trailing \\", "\x00", "\x7f", strings.Repeat("long ", 100),
	} {
		for name, st := range styles {
			if got, want := string(Append(nil, s, st)), reference(t, s, st); got != want {
				t.Errorf("%s %q:\n got %s\nwant %s", name, s, got, want)
			}
		}
	}
}

func FuzzAppendMatchesTheStandardLibrary(f *testing.F) {
	f.Add("<script>\b\f\n\u2028\xff")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		for name, st := range styles {
			if got, want := string(Append([]byte("x"), s, st)), "x"+reference(t, s, st); got != want {
				t.Fatalf("%s %q:\n got %s\nwant %s", name, s, got, want)
			}
		}
	})
}

// Append looks at eight bytes at a time: every byte value, at every place
// of a word and across the boundary between words, must still be escaped.
func TestAppendEveryByteAtEveryPlace(t *testing.T) {
	base := []byte("abcdefghijklmnopq")
	for c := range 256 {
		for at := range base {
			s := []byte(string(base))
			s[at] = byte(c)
			for name, st := range styles {
				if got, want := string(Append(nil, string(s), st)), reference(t, string(s), st); got != want {
					t.Fatalf("%s, byte %#x at %d:\n got %s\nwant %s", name, c, at, got, want)
				}
			}
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	detail := `exp=2026-12-02T19:58:38Z now=2026-12-02T17:58:42Z leeway=60s → valid for another 7195 s`
	for _, s := range []string{"route has no network rule", detail, `verified earlier with kid="es256-1" of issuer es256, still published`} {
		b.Run(fmt.Sprint(len(s)), func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			var buf []byte
			for b.Loop() {
				buf = Append(buf[:0], s, Encoder)
			}
		})
	}
}
