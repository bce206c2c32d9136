package credential

import (
	"strings"
	"testing"
	"unicode"
)

// indexSpace must answer as strings.IndexFunc(s, unicode.IsSpace) does,
// for ASCII and for the Unicode spaces (U+0085, U+00A0, U+2003, U+3000).
func TestIndexSpaceMatchesUnicodeIsSpace(t *testing.T) {
	var cases []string
	for c := range 0x3001 {
		r := string(rune(c))
		cases = append(cases, r, "token"+r, "tok\u00e9n"+r+"x", "abcdefgh"+r+" ")
	}
	cases = append(cases, "", "plain.ascii-token_only", "bad utf8 \xff then space", "\xc2")
	for _, s := range cases {
		if got, want := indexSpace(s), strings.IndexFunc(s, unicode.IsSpace); got != want {
			t.Fatalf("indexSpace(%q) = %d, strings.IndexFunc says %d", s, got, want)
		}
	}
}
