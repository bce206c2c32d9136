package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// The two baselines, each run as a child process of the harness: (a) the
// demo upstream, a trivial handler, and (b) a bare reverse proxy in front
// of it, tuned as a careful operator would tune one. Authgate's proxy mode
// is compared with (b): what it adds over (b) is the price of deciding.

// upstreamBody is what the demo upstream answers: small, like a JSON API
// answer, so the run measures request handling rather than bandwidth.
var upstreamBody = []byte("hello from the bench upstream\n")

// upstreamHandler is the demo upstream.
func upstreamHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(upstreamBody)
	})
}

// reverseProxyHandler is baseline (b): httputil.ReverseProxy with Rewrite,
// adding X-Forwarded-* as authgate does, and a transport that keeps enough
// idle connections (the default keeps 2 per host, which forces a new
// connection for most requests at 32 concurrent clients).
func reverseProxyHandler(upstream string) (http.Handler, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("-reverse-proxy %q is not a URL", upstream)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 1024
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
		},
		Transport: t,
	}, nil
}

// serve listens on listen, prints the base URL on stdout (the parent reads
// it), and serves h until ctx ends.
func serve(ctx context.Context, listen string, h http.Handler) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	fmt.Printf("http://%s\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}
