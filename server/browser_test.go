package server_test

import (
	"encoding/base32"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/verify/totp"
)

// browser is a client that behaves like one for the portal: it keeps
// cookies, asks for HTML, and does not follow redirects, so that each hop
// can be checked.
type browser struct {
	t      *testing.T
	h      *harness
	client *http.Client
	host   string
	from   string // X-Forwarded-For, so that each browser has its own source
	cookie string // sent besides the jar's, to forge one
}

func newBrowser(t *testing.T, h *harness, from string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, h: h, host: "app.test", from: from, client: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is one answer.
type page struct {
	status   int
	location string
	reason   reason.Code
	id       string
	body     string
	header   http.Header
}

func (b *browser) do(method, path string, form url.Values, html bool) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.h.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Host = b.host
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if html {
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
	}
	req.Header.Set("X-Forwarded-For", b.from)
	if b.cookie != "" {
		req.Header.Add("Cookie", b.cookie)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), reason: reason.Code(resp.Header.Get("X-Authgate-Reason")),
		id: resp.Header.Get("X-Request-Id"), body: string(raw), header: resp.Header}
}

func (b *browser) get(path string) page { b.t.Helper(); return b.do("GET", path, nil, true) }
func (b *browser) api(path string) page { b.t.Helper(); return b.do("GET", path, nil, false) }
func (b *browser) post(path string, f url.Values) page {
	b.t.Helper()
	return b.do("POST", path, f, true)
}

var (
	csrfField   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	pendingFld  = regexp.MustCompile(`name="pending" value="([^"]+)"`)
	secretText  = regexp.MustCompile(`id="secret">([^<]+)<`)
	recoveryLis = regexp.MustCompile(`<li>([a-z0-9-]{14})</li>`)
)

// form returns the hidden fields of the page at path, with extra fields.
func (b *browser) form(path string, extra ...string) url.Values {
	b.t.Helper()
	p := b.get(path)
	m := csrfField.FindStringSubmatch(p.body)
	if p.status != 200 || m == nil {
		b.t.Fatalf("GET %s: %d, no form token in %.300s", path, p.status, p.body)
	}
	f := url.Values{"csrf": {m[1]}}
	if pm := pendingFld.FindStringSubmatch(p.body); pm != nil {
		f.Set("pending", pm[1])
	}
	if u, err := url.Parse(path); err == nil {
		f.Set("rd", u.Query().Get("rd"))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// signIn posts user's password from the sign-in page for target.
func (b *browser) signIn(target, user, password string) page {
	b.t.Helper()
	path := "/.authgate/sign-in?rd=" + url.QueryEscape(target)
	return b.post("/.authgate/sign-in", b.form(path, "user", user, "password", password))
}

// wantPage checks an answer's status, reason and where it sends the browser.
func wantPage(t *testing.T, p page, status int, code reason.Code, locationPrefix string) {
	t.Helper()
	if p.status != status || p.reason != code || !strings.HasPrefix(p.location, locationPrefix) {
		t.Fatalf("got %d %q → %q, want %d %q → %q…\n%.500s", p.status, p.reason, p.location, status, code, locationPrefix, p.body)
	}
}

// wantLogged checks the sign-in log's precise reason for a request.
func wantLogged(t *testing.T, h *harness, id string, code reason.Code) {
	t.Helper()
	d := lookup(t, h, id)
	if d.Reason != code {
		t.Fatalf("logged reason %q, want %q; trace %+v", d.Reason, code, d.Checks)
	}
	if code != "" && (reasoned(d.Checks) != 1 || !hasFailing(d.Checks, code)) {
		t.Errorf("trace must hold exactly one failing check naming %s: %+v", code, d.Checks)
	}
}

func secretOf(t *testing.T, body string) []byte {
	t.Helper()
	m := secretText.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret on the enrollment page:\n%.500s", body)
	}
	s, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatalf("the key on the page is not base32: %v", err)
	}
	return s
}

func codeAt(t *testing.T, secret []byte, at time.Time) string {
	t.Helper()
	c, err := totp.Code(secret, at, totp.Params{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
