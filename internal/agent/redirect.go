package agent

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects is net/http's own limit, kept when our policy replaces its
// default.
const maxRedirects = 10

var errTooManyRedirects = errors.New("stopped after 10 redirects")

// redirectPolicy wraps a client's CheckRedirect (nil: net/http's default
// limit) so that nothing secret follows a redirect to another server.
// Agent URLs often carry a token in the query (?token=...) or user:password,
// and view servers or proxies redirect downloads to storage on another host:
//
//   - Referer is always dropped. net/http sets it to the previous URL,
//     query included (it only strips user:password), so a token would
//     reach the next server; a download has no use for it anyway.
//   - On a change of origin (scheme, host or port, compared with the URL
//     the user gave) the userinfo and the Authorization and Cookie headers
//     are dropped. net/http strips those headers itself only when the host
//     name changes, not the port, and a relative Location keeps userinfo.
//
// A same-origin redirect (/latest to /5.6.4.2 on the view server) keeps
// the credentials, which a protected view server needs.
func redirectPolicy(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		req.Header.Del("Referer")
		if !sameOrigin(req.URL, via[0].URL) {
			req.URL.User = nil
			req.Header.Del("Authorization")
			req.Header.Del("Cookie")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return errTooManyRedirects
		}
		return nil
	}
}

// sameOrigin compares scheme, host and port (a default port spelled out
// or not is the same origin).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}
