package portal

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// pageData is what the templates read.
type pageData struct {
	Prefix, Title, Heading, Sub string
	Error                       *pageError
	Notice                      string
	CSRF, Return                string
	User                        string
	SecondFactor                bool
	// Enrollment.
	QR              template.URL
	Secret, Pending string
	Codes           []string
}

// pageError is a refusal as a page shows it: the public reason of the
// catalogue, never the precise one on a minimal portal.
type pageError struct {
	Title, Message, Code, RequestID string
	// RetryAfter is sent as Retry-After with 429 and 503 pages.
	RetryAfter time.Duration
	// Hint is the catalogue's hint, whose `commands` are shown as code.
	Hint template.HTML
}

// hintHTML renders a catalogue hint: text escaped, `spans` as <code>.
func hintHTML(s string) template.HTML {
	var b strings.Builder
	for i, part := range strings.Split(s, "`") {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(part) + "</code>")
			continue
		}
		b.WriteString(template.HTMLEscapeString(part))
	}
	return template.HTML(b.String())
}

// render writes page name with status.
func (p *Portal) render(w http.ResponseWriter, status int, name string, d pageData) {
	d.Prefix, d.Title = p.cfg.Prefix, p.cfg.Title
	var b bytes.Buffer
	if err := p.pages[name].ExecuteTemplate(&b, "page", d); err != nil {
		p.cfg.Logger.Error("portal: rendering a page failed (a bug)", "page", name, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if d.Error != nil {
		w.Header().Set("X-Authgate-Reason", d.Error.Code)
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			secs := max(1, int((d.Error.RetryAfter+time.Second-1)/time.Second))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
	}
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// refusal describes a refused decision for a page, at the portal's detail
// level, with what the person can do about it where that is safe to say.
func (p *Portal) refusal(d *authgate.Decision) (*pageError, int) {
	pub := reason.Lookup(d.Reason).Public(p.cfg.Route.Verbose)
	e := &pageError{Title: pub.Title, Message: " " + pub.Message, Code: string(pub.Code), RequestID: d.RequestID, RetryAfter: d.RetryAfter}
	if pub.Visibility == reason.Public || p.cfg.Route.Verbose {
		e.Hint = hintHTML(pub.Hint)
	}
	switch {
	case pub.Code == reason.CodeClockSkew && d.ClockSkew != 0:
		e.Hint = hintHTML("Your device's clock looks about " + skewWords(d.ClockSkew) + ": set its date and time to automatic, then type the new code.")
	case pub.Retry && d.RetryAfter > 0:
		e.Hint = hintHTML("Try again in " + waitWords(d.RetryAfter) + ".")
	}
	return e, pub.Status
}

// formError is a problem with the form itself, refused before any
// credential was read.
func formError(code reason.Code, requestID string) (*pageError, int) {
	r := reason.Lookup(code)
	return &pageError{Title: r.Title, Message: " " + r.Message, Hint: hintHTML(r.Hint), Code: string(code), RequestID: requestID}, r.Status
}

// skewWords says how far and which way a device clock is off: "3 minutes
// fast", "90 seconds slow". A positive skew is a device ahead of the
// gateway.
func skewWords(d time.Duration) string {
	dir := "fast"
	if d < 0 {
		dir, d = "slow", -d
	}
	if d < 2*time.Minute {
		return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + " seconds " + dir
	}
	return strconv.Itoa(int(d.Round(time.Minute)/time.Minute)) + " minutes " + dir
}

// waitWords says how long to wait: "40 seconds", "15 minutes".
func waitWords(d time.Duration) string {
	if d < 2*time.Minute {
		return authgate.Count(int((d+time.Second-1)/time.Second), "second")
	}
	return authgate.Count(int((d+time.Minute-1)/time.Minute), "minute")
}

// requestID is the id the gateway gave this request.
func requestID(r *http.Request) string { return r.Header.Get("X-Request-Id") }

// redirect sends the browser to target after a form post (303).
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// withReturn adds the return address to a portal path.
func (p *Portal) withReturn(page, rd string) string {
	if rd == "" {
		return p.cfg.Prefix + page
	}
	return fmt.Sprintf("%s%s?rd=%s", p.cfg.Prefix, page, url.QueryEscape(rd))
}
