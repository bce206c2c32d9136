package reason

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown writes the catalogue as the Markdown document
// docs/reasons.md is generated from.
func WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("# authgate reason codes\n\n")
	b.WriteString("<!-- Generated from reason/catalogue.go by `go test ./reason -update`; do not edit. -->\n\n")
	b.WriteString("Every refusal names exactly one code. Codes are a stable contract: never renamed or reused.\n\n")
	b.WriteString("*Visibility* says what a public response shows: `public` — the code itself; ")
	b.WriteString("`verbose` — the code on routes with `detail: verbose`, otherwise its mask; ")
	b.WriteString("`private` — never the code (it would leak part of a secret), only its mask. ")
	b.WriteString("The sign-in log always records the precise code.\n\n")
	cat := ""
	for _, r := range All() {
		if r.Category != cat {
			cat = r.Category
			fmt.Fprintf(&b, "## %s\n\n| code | status | visibility | message | how to fix |\n|---|---|---|---|---|\n", cat)
		}
		vis := string(r.Visibility)
		if r.Mask != "" {
			vis += " (shown as `" + string(r.Mask) + "`"
			if r.VerboseMask != "" {
				vis += ", verbose: `" + string(r.VerboseMask) + "`"
			}
			vis += ")"
		}
		status := fmt.Sprint(r.Status)
		if r.BearerError != "" {
			status += " `" + r.BearerError + "`"
		}
		if r.Retry {
			status += " + Retry-After"
		}
		fmt.Fprintf(&b, "| <a id=\"%s\"></a>`%s` | %s | %s | %s | %s |\n", r.Code, r.Code, status, vis, cell(r.Message), cell(r.Hint))
		if next := nextCategory(r); next {
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func nextCategory(r Reason) bool {
	all := All()
	for i, x := range all {
		if x.Code == r.Code {
			return i == len(all)-1 || all[i+1].Category != r.Category
		}
	}
	return false
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
