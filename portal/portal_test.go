package portal

import (
	"net/http/httptest"
	"testing"
)

// Handles answers most requests from its own table of pages; it must give
// the answer the ServeMux that serves the pages would give.
func TestHandlesAnswersAsTheServeMuxWould(t *testing.T) {
	p := New(Config{Prefix: "/.authgate/"})
	paths := []string{
		"/.authgate/sign-in", "/.authgate/two-step", "/.authgate/enroll", "/.authgate/continue",
		"/.authgate/sign-out", "/.authgate/sign-out-everywhere", "/.authgate/account",
		"/.authgate/static/portal.css",
		"/.authgate/verify", "/.authgate/health", "/.authgate/reasons/", "/.authgate/reasons/expired",
		"/.authgate/sign-in/", "/.authgate/Sign-In", "/.authgate/", "/", "/app/sign-in",
		"/.authgate//sign-in", "/.authgate/./account", "/.authgate/x/../enroll", "/.authgate/x/../verify",
	}
	handled := 0
	for _, path := range paths {
		for _, method := range []string{"GET", "HEAD", "POST", "PUT", "DELETE"} {
			r := httptest.NewRequest(method, "http://gw.example"+path, nil)
			_, pattern := p.mux.Handler(r)
			want := pattern != ""
			if got := p.Handles(r); got != want {
				t.Errorf("Handles(%s %s) = %v, the ServeMux says %v (pattern %q)", method, path, got, want, pattern)
			}
			if want {
				handled++
			}
		}
	}
	// GET and HEAD of 6 pages, POST of 5, and 8 requests to the unclean
	// paths of sign-in, account and enroll.
	if handled != 25 {
		t.Errorf("%d of the requests are the portal's, not 25: the cases no longer cover what they should", handled)
	}
}
