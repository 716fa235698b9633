package transport

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Every ggcr call authenticates anew: remote.Image, remote.Head,
// remote.Write and each upload client start with a ping (GET /v2/) of the
// registry, to learn how it authenticates. A wrap makes several such calls
// (the source, the target check, the push client, each mounted layer), and
// `wrap -f` makes them for every image: the same question, with the same
// answer, a dozen times a second, each a round trip before the request
// that matters (the upload session of the agent layer waits for one).
//
// pingAnswers remembers, for pingTTL, a registry's answer to an
// anonymous ping: 200 (no authentication) or 401 with its challenge. A
// later ping of the same scheme and host within pingTTL gets a copy of it
// without a round trip; what follows (token requests, the real calls)
// goes to the registry as before. A ping that carries credentials, any
// other status, and every other request are never answered from memory.
var pingAnswers sync.Map // "scheme://host" -> pingAnswer

// pingTTL bounds how long an answer is reused: long enough for one command
// (a `wrap -f` of many images takes seconds), short enough that a registry
// whose authentication is changed is asked again.
const pingTTL = time.Minute

type pingAnswer struct {
	status int
	header http.Header
	at     time.Time
}

// rememberPings wraps inner with the pingAnswers memo.
func rememberPings(inner http.RoundTripper) http.RoundTripper {
	return pingMemo{inner: inner}
}

type pingMemo struct{ inner http.RoundTripper }

func (m pingMemo) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isAnonymousPing(req) {
		return m.inner.RoundTrip(req)
	}
	key := pingKey(req.URL.Scheme, req.URL.Host)
	if v, ok := pingAnswers.Load(key); ok {
		a := v.(pingAnswer)
		if time.Since(a.at) < pingTTL {
			return a.response(req), nil
		}
	}
	resp, err := m.inner.RoundTrip(req)
	if err == nil && (resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized) {
		pingAnswers.Store(key, pingAnswer{status: resp.StatusCode, header: resp.Header.Clone(), at: time.Now()})
	}
	return resp, err
}

// pingKey names a registry in pingAnswers.
func pingKey(scheme, host string) string { return scheme + "://" + host }

// isAnonymousPing tells ggcr's ping: GET /v2/ with no credentials.
func isAnonymousPing(req *http.Request) bool {
	return req.Method == http.MethodGet && req.URL.Path == "/v2/" && req.URL.RawQuery == "" &&
		req.Header.Get("Authorization") == ""
}

// response is a copy of the remembered answer, as net/http would have
// returned it for req (the body is empty: a ping's body says nothing).
func (a pingAnswer) response(req *http.Request) *http.Response {
	return &http.Response{
		Status:     http.StatusText(a.status),
		StatusCode: a.status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        a.header.Clone(),
		Body:          io.NopCloser(strings.NewReader("")),
		ContentLength: 0,
		Request:       req,
	}
}
