package credential

import (
	"fmt"
	"strings"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/reason"
)

// schemeMethod maps an Authorization scheme (case-insensitive, RFC 9110
// §11.1) to the method that verifies it.
func schemeMethod(scheme string) (authgate.Method, bool) {
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return authgate.MethodBearer, true
	case strings.EqualFold(scheme, "Basic"):
		return authgate.MethodBasic, true
	case strings.EqualFold(scheme, "ApiKey"), strings.EqualFold(scheme, "Api-Key"):
		return authgate.MethodAPIKey, true
	}
	return "", false
}

func accepts(accept []authgate.Method, m authgate.Method) bool {
	for _, a := range accept {
		if a == m {
			return true
		}
	}
	return false
}

func methodList(accept []authgate.Method) string {
	s := make([]string, len(accept))
	for i, m := range accept {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}

func isQuote(b byte) bool { return b == '"' || b == '\'' }

// otherSchemes are registered or common schemes authgate does not verify.
// Only these are named in a trace: an unknown first word may be the start
// of a secret sent without a scheme.
var otherSchemes = []string{
	"Digest", "Negotiate", "NTLM", "Token", "HOBA", "Mutual", "DPoP", "GNAP",
	"OAuth", "SCRAM-SHA-1", "SCRAM-SHA-256", "AWS4-HMAC-SHA256", "Bot", "JWT",
}

func schemeName(s string) string {
	for _, o := range otherSchemes {
		if strings.EqualFold(s, o) {
			return o
		}
	}
	return fmt.Sprintf("(unrecognised, %d bytes)", len(s))
}

func ok(c authgate.Credential) Result {
	return Result{Credential: c, Method: c.Method, Check: authgate.Check{Name: "credential", Result: authgate.Pass, Detail: c.String()}}
}

func fail(code reason.Code, format string, args ...any) Result {
	return Result{Reason: code, Check: authgate.Check{
		Name: "credential", Result: authgate.Fail, Reason: code, Detail: fmt.Sprintf(format, args...),
	}}
}
