package transport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// A registry on a loopback or private address may speak plain HTTP; ggcr
// then tries HTTPS first on every ping and falls back to HTTP when the TLS
// handshake meets an HTTP answer (transport.pingParallel). Each remote call
// pings once per repository, so `wrap -f` over 20 images of one such
// registry dialled ~120 TLS handshakes that could only fail (strace -e
// connect: 118 of 125 connections), each a key share computed for nothing.
//
// plainHTTPHosts remembers, for the life of the process, the hosts whose
// port answered a TLS ClientHello in plain HTTP. A later HTTPS request to
// one of them fails at once with the same error net/http gave, without a
// dial, and ggcr's ping goes straight on to HTTP, as it would have after
// the handshake. Nothing is ever downgraded: HTTPS is still tried first for
// every host not proven to be plain HTTP, and a host that speaks TLS never
// lands here.
var plainHTTPHosts sync.Map // URL.Host -> struct{}

// rememberPlainHTTP wraps inner with the plainHTTPHosts memo.
func rememberPlainHTTP(inner http.RoundTripper) http.RoundTripper {
	return plainHTTPMemo{inner: inner}
}

type plainHTTPMemo struct{ inner http.RoundTripper }

func (m plainHTTPMemo) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		return m.inner.RoundTrip(req)
	}
	if _, ok := plainHTTPHosts.Load(req.URL.Host); ok {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errKnownPlainHTTP
	}
	resp, err := m.inner.RoundTrip(req)
	if answeredInPlainHTTP(err) {
		plainHTTPHosts.Store(req.URL.Host, struct{}{})
	}
	return resp, err
}

// answeredInPlainHTTP tells a TLS handshake that got an HTTP response, as
// net/http's Client tells it (http.ErrSchemeMismatch): the first record
// header read back starts "HTTP/".
func answeredInPlainHTTP(err error) bool {
	var rh tls.RecordHeaderError
	return errors.As(err, &rh) && string(rh.RecordHeader[:]) == "HTTP/"
}

// errKnownPlainHTTP is what an HTTPS request to a known plain-HTTP host
// fails with: http.ErrSchemeMismatch, as the handshake would have.
var errKnownPlainHTTP = fmt.Errorf("%w (known from an earlier request of this process)", http.ErrSchemeMismatch)
