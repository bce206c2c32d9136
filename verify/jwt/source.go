package jwt

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
)

// maxDocumentBytes bounds a discovery document or key set read from the
// network; real ones are a few kilobytes.
const maxDocumentBytes = 1 << 20

// IssuerMismatchError reports that an OIDC discovery document names
// another issuer than the one configured, so its keys must not be trusted
// for this issuer's tokens.
type IssuerMismatchError struct {
	DiscoveryURL string
	Configured   string // Issuer.Issuer
	Discovered   string // the document's "issuer"
}

// Error names the discovery URL and both issuers.
func (e *IssuerMismatchError) Error() string {
	return fmt.Sprintf("discovery document %s names issuer %q, but the configuration expects %q", e.DiscoveryURL, e.Discovered, e.Configured)
}

// StatusError reports that a discovery document or key set was answered
// with an HTTP status other than 200.
type StatusError struct {
	URL    string
	Status int
}

// Error names the URL and the status.
func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: status %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// source loads an issuer's raw JWKS document from where it is configured.
type source struct {
	cfg    *Issuer
	client *http.Client
}

// String names the source for logs and errors.
func (s source) String() string {
	switch {
	case s.cfg.JWKSFile != "":
		return "file " + s.cfg.JWKSFile
	case s.cfg.JWKSURL != "":
		return "url " + s.cfg.JWKSURL
	}
	return "discovery " + s.cfg.DiscoveryURL
}

// load returns the JWKS document. ctx bounds the whole load, discovery
// included.
func (s source) load(ctx context.Context) ([]byte, error) {
	switch {
	case s.cfg.JWKSFile != "":
		b, err := os.ReadFile(s.cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("read JWKS file: %w", err)
		}
		return b, nil
	case s.cfg.JWKSURL != "":
		return s.get(ctx, s.cfg.JWKSURL)
	}
	jwksURL, err := s.discover(ctx)
	if err != nil {
		return nil, err
	}
	return s.get(ctx, jwksURL)
}

// discover reads the OIDC discovery document and returns its jwks_uri,
// after checking that the document speaks for the configured issuer
// (OpenID Connect Discovery 1.0 §4.3).
func (s source) discover(ctx context.Context) (string, error) {
	body, err := s.get(ctx, s.cfg.DiscoveryURL)
	if err != nil {
		return "", err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := unmarshalObject(body, &doc); err != nil {
		return "", fmt.Errorf("discovery document %s: %s", s.cfg.DiscoveryURL, jsonProblem(err))
	}
	if doc.Issuer != s.cfg.Issuer {
		return "", &IssuerMismatchError{DiscoveryURL: s.cfg.DiscoveryURL, Configured: s.cfg.Issuer, Discovered: doc.Issuer}
	}
	if err := checkHTTPURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("discovery document %s: jwks_uri: %w", s.cfg.DiscoveryURL, err)
	}
	return doc.JWKSURI, nil
}

// get fetches url and returns its body, refusing non-200 answers and
// bodies larger than maxDocumentBytes.
func (s source) get(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err // *url.Error names the URL, without its password
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{URL: req.URL.Redacted(), Status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading body: %w", req.URL.Redacted(), err)
	}
	if len(body) > maxDocumentBytes {
		return nil, fmt.Errorf("GET %s: body larger than %d bytes", req.URL.Redacted(), maxDocumentBytes)
	}
	return body, nil
}
