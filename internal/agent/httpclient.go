package agent

import (
	"context"
	"net"
	"net/http"
	"time"
)

// downloadClient is opts.HTTPClient with the redirect policy and, when its
// Transport is an *http.Transport (or nil: http.DefaultTransport), a copy of
// it whose dials and TLS handshakes give up after opts.ConnectTimeout. The
// default transport waits 30s for a dial and has no limit for the rest;
// the response and body waits are bounded per attempt (see fetch), which
// works whatever the transport. done releases the copy's connections.
func downloadClient(opts Options) (client *http.Client, done func()) {
	c := *opts.HTTPClient
	c.CheckRedirect = redirectPolicy(c.CheckRedirect)
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	t, ok := base.(*http.Transport)
	if !ok {
		// Someone else's RoundTripper dials its own way; HeaderTimeout
		// still bounds connecting.
		return &c, func() {}
	}
	t = t.Clone()
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	timeout := opts.ConnectTimeout
	// A deadline on the dial's context rather than a new net.Dialer keeps
	// whatever dialer the transport had (a test's, a proxy setup's).
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return dial(ctx, network, addr)
	}
	t.TLSHandshakeTimeout = timeout
	c.Transport = t
	return &c, t.CloseIdleConnections
}
