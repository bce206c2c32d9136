package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// classifyNetworkError explains why a request got no HTTP answer.
func classifyNetworkError(err error, u *url.URL, proxy *url.URL) *NetworkError {
	host := u.Hostname()
	ne := &NetworkError{Kind: "other", Error: err.Error()}
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verifyErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	var alert tls.AlertError
	var netErr net.Error
	switch {
	case errors.As(err, &dnsErr):
		ne.Kind = "dns"
		ne.Explanation = "The name " + dnsErr.Name + " does not resolve. Check the spelling, your DNS server or VPN, and /etc/hosts; an internal name may resolve only inside its network."
	case errors.Is(err, syscall.ECONNREFUSED):
		ne.Kind = "refused"
		ne.Explanation = "Nothing listens on " + hostPort(u) + ": the server is down, or the port is wrong, or a firewall rejects the connection."
		if proxy != nil {
			ne.Explanation = "The connection to the proxy " + proxy.Host + " (from HTTP_PROXY/HTTPS_PROXY) was refused; check the proxy setting."
			ne.Kind = "proxy"
		}
	case errors.As(err, &hostErr):
		ne.Kind = "tls"
		ne.Explanation = "The server's certificate is not valid for " + host + ": " + hostErr.Error() + ". Use the name the certificate was issued for."
	case errors.As(err, &unknownCA):
		ne.Kind = "tls"
		ne.Explanation = "The server's certificate is signed by an authority this machine does not trust (a private CA, or a TLS-inspecting proxy). Pass the CA with --cacert, or install it."
	case errors.As(err, &invalid):
		ne.Kind = "tls"
		ne.Explanation = "The server's certificate is not valid: " + invalid.Error() + ". If it says expired or not yet valid, check both clocks and renew the certificate."
	case errors.As(err, &verifyErr):
		ne.Kind = "tls"
		ne.Explanation = "The server's certificate could not be verified: " + verifyErr.Err.Error() + "."
	case errors.As(err, &recordErr):
		ne.Kind = "tls"
		ne.Explanation = "The server did not answer TLS: it probably speaks plain HTTP on this port. Try http:// instead of https://."
	case errors.As(err, &alert):
		ne.Kind = "tls"
		ne.Explanation = "The server ended the TLS handshake (" + alert.Error() + "). It may require a client certificate (--cert/--key), or a newer TLS version or cipher."
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		ne.Kind = "tls"
		ne.Explanation = "The server speaks plain HTTP on this port. Try http:// instead of https://."
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		ne.Kind = "timeout"
		ne.Explanation = "No answer in time from " + hostPort(u) + ": a firewall may drop the packets, or the server is overloaded."
	case errors.Is(err, syscall.ECONNRESET), strings.Contains(err.Error(), "EOF"):
		ne.Kind = "reset"
		ne.Explanation = "The server closed the connection without an answer. It may require TLS (https://) or a client certificate, or something on the path cut the connection."
	default:
		ne.Explanation = "The request could not be sent."
	}
	return ne
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return u.Host + ":443"
	}
	return u.Host + ":80"
}

// tlsInfo describes a connection's TLS; when verification was skipped
// (--insecure) it still checks the certificate and records the problem.
func tlsInfo(cs *tls.ConnectionState, host string, insecure bool, now time.Time) *TLSInfo {
	if cs == nil {
		return nil
	}
	ti := &TLSInfo{Version: tls.VersionName(cs.Version), Cipher: tls.CipherSuiteName(cs.CipherSuite)}
	if len(cs.PeerCertificates) > 0 {
		leaf := cs.PeerCertificates[0]
		ti.Subject = leaf.Subject.String()
		ti.Issuer = leaf.Issuer.String()
		ti.NotAfter = leaf.NotAfter.UTC()
		if insecure {
			ti.Unverified = true
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Intermediates: inter, CurrentTime: now}); err != nil {
				ti.VerifyErr = err.Error()
			}
		}
	}
	return ti
}
