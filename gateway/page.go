package gateway

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"

	"github.com/authgate/authgate/reason"
)

// refusalPage is what a browser sees instead of a problem document.
var refusalPage = template.Must(template.New("refusal").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Status}} {{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}.meta{color:#666;font-size:.9rem}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Detail}}</p>
{{if .Explanation}}<p>{{.Explanation}}</p>{{end}}
{{if .Hint}}<p><strong>What to do:</strong> {{.Hint}}</p>{{end}}
{{if .RetryAfter}}<p>Try again in {{.RetryAfter}} seconds.</p>{{end}}
<p class="meta">Status {{.Status}} · reason <code>{{.Code}}</code> · request id <code>{{.RequestID}}</code><br>
Give the request id to your administrator; it identifies this attempt in the sign-in log.</p></body></html>
`))

// reasonDoc serves the catalogue entry a problem document's type points at,
// as HTML for browsers and JSON otherwise.
func (g *Gateway) reasonDoc(w http.ResponseWriter, r *http.Request) {
	code := reason.Code(strings.TrimPrefix(r.URL.Path, g.cfg.Prefix+"reasons/"))
	if !reason.Known(code) {
		http.Error(w, "unknown reason code; see "+g.cfg.Prefix+"reasons/ for the catalogue", http.StatusNotFound)
		return
	}
	rs := reason.Lookup(code)
	if wantsHTML(r) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		reasonPage.Execute(w, rs)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(rs)
}

var reasonPage = template.Must(template.New("reason").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Code}}</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto">
<h1><code>{{.Code}}</code> — {{.Title}}</h1><p>HTTP {{.Status}}</p><p>{{.Message}}</p><p><strong>Fix:</strong> {{.Hint}}</p></body></html>
`))
