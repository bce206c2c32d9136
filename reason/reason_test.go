package reason

import (
	"bytes"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/reasons.md and append new codes to testdata/codes.txt")

func TestCatalogueEntriesAreWellFormed(t *testing.T) {
	codeRE := regexp.MustCompile(`^[a-z][a-z0-9_]*[a-z0-9]$`)
	for _, r := range All() {
		t.Run(string(r.Code), func(t *testing.T) {
			if !codeRE.MatchString(string(r.Code)) {
				t.Errorf("code is not snake_case")
			}
			if r.Status < 400 || r.Status > 599 {
				t.Errorf("status %d is not an error status", r.Status)
			}
			if r.Title == "" || r.Message == "" || r.Hint == "" {
				t.Errorf("title, message and hint are all required")
			}
			if _, ok := categoryOrder[r.Category]; !ok {
				t.Errorf("unknown category %q", r.Category)
			}
			// Titles travel in error_description (RFC 6750 §3): printable
			// ASCII without quote or backslash.
			for _, c := range r.Title {
				if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
					t.Errorf("title has %q, not allowed in error_description", c)
				}
			}
			switch r.BearerError {
			case "", InvalidRequest, InvalidToken, InsufficientScope:
			default:
				t.Errorf("bearer error %q is not an RFC 6750 code", r.BearerError)
			}
			if r.BearerError == InvalidRequest && r.Status != 400 && r.Status != 431 {
				t.Errorf("invalid_request must be 400-class, is %d", r.Status)
			}
			if r.BearerError == InvalidToken && r.Status != 401 {
				t.Errorf("invalid_token must be 401, is %d", r.Status)
			}
			if r.Retry != (r.Status == 503 || r.Status == 429) {
				t.Errorf("Retry-After must go with 503 and 429 and only those (status %d, retry %v)", r.Status, r.Retry)
			}
			switch r.Visibility {
			case Public:
				if r.Mask != "" || r.VerboseMask != "" {
					t.Errorf("public reasons need no mask")
				}
			case Verbose, Private:
				m := Lookup(r.Mask)
				if !Known(r.Mask) || m.Visibility != Public || m.Status != r.Status {
					t.Errorf("mask %q must be a known public reason with the same status", r.Mask)
				}
				if r.Visibility == Private {
					vm := Lookup(r.VerboseMask)
					if !Known(r.VerboseMask) || vm.Visibility == Private || vm.Status != r.Status {
						t.Errorf("verbose mask %q must be a known non-private reason with the same status", r.VerboseMask)
					}
				}
			default:
				t.Errorf("unknown visibility %q", r.Visibility)
			}
		})
	}
}

func TestPublicNeverRevealsMaskedReasons(t *testing.T) {
	tests := []struct {
		code    Code
		verbose bool
		want    Code
	}{
		{PasswordPrevious, false, InvalidCredentials},
		{PasswordPrevious, true, PasswordWrong},
		{PasswordCapsLock, true, PasswordWrong},
		{UserUnknown, false, InvalidCredentials},
		{UserUnknown, true, UserUnknown},
		{APIKeyUnknown, false, InvalidCredentials},
		{TokenExpired, false, TokenExpired},
		{KeyRotated, false, KeyRotated},
	}
	for _, tt := range tests {
		if got := Lookup(tt.code).Public(tt.verbose).Code; got != tt.want {
			t.Errorf("%s (verbose %v) is shown as %s, want %s", tt.code, tt.verbose, got, tt.want)
		}
	}
}

// TestCodesAreNeverRemovedOrRenamed holds the catalogue to its contract:
// every code ever shipped is listed in testdata/codes.txt and must stay in
// the catalogue. New codes are appended with -update.
func TestCodesAreNeverRemovedOrRenamed(t *testing.T) {
	data, err := os.ReadFile("testdata/codes.txt")
	if err != nil {
		t.Fatal(err)
	}
	shipped := map[Code]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		shipped[Code(line)] = true
		if !Known(Code(line)) {
			t.Errorf("code %q was shipped and is gone from the catalogue; codes are never removed or renamed", line)
		}
	}
	var added []string
	for _, r := range catalogue {
		if !shipped[r.Code] {
			added = append(added, string(r.Code))
		}
	}
	if len(added) == 0 {
		return
	}
	if !*update {
		t.Fatalf("codes %v are not in testdata/codes.txt; run go test ./reason -update", added)
	}
	f, err := os.OpenFile("testdata/codes.txt", os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(strings.Join(added, "\n") + "\n")
}

func TestDocsReasonsMarkdownIsUpToDate(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	const path = "../docs/reasons.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, b.Bytes()) {
		t.Errorf("docs/reasons.md is out of date with the catalogue; run go test ./reason -update")
	}
}
