package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// RetryStatusCodes are the answers retried with backoff: the registry (or a
// proxy or load balancer in front of it) is busy, restarting or rate
// limiting, and the same request may well succeed a moment later.
var RetryStatusCodes = []int{
	http.StatusRequestTimeout,
	http.StatusTooManyRequests,
	http.StatusInternalServerError,
	http.StatusBadGateway,
	http.StatusServiceUnavailable,
	http.StatusGatewayTimeout,
}

// DefaultBackoff is the retry schedule of registry requests: up to 5
// attempts, 0.5s, 1s, 2s and 4s apart (±10%), about 8s in all before a
// persistent fault is reported. ggcr's own default gives up after 3
// attempts and 4s, short for a registry restarting behind a load balancer.
var DefaultBackoff = transport.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 5}

// DefaultMaxRetryAfter bounds how long a Retry-After header makes jbuild
// wait before the next attempt.
const DefaultMaxRetryAfter = 30 * time.Second

// DefaultResponseTimeout is how long the default transport waits for a
// registry to start answering a request before it gives the attempt up (and
// retries it): a stalled registry otherwise hangs a CI job until its own
// timeout. It is generous because committing a large blob can keep a
// registry with remote storage busy for a while.
const DefaultResponseTimeout = 2 * time.Minute

// defaultBase is remote.DefaultTransport with a response header timeout,
// trusting registries as Docker does (certs.d folders, withCertsDirs).
var defaultBase = sync.OnceValue(func() http.RoundTripper {
	t, ok := remote.DefaultTransport.(*http.Transport)
	if !ok {
		return remote.DefaultTransport
	}
	t = t.Clone()
	t.ResponseHeaderTimeout = DefaultResponseTimeout
	return withCertsDirs(t, certsDirs())
})

// retryable tells which failures are worth another attempt: ggcr's
// temporary errors (retried status codes, TOOMANYREQUESTS, UNAVAILABLE...),
// connections reset or cut short, timeouts of one attempt, and a blob the
// registry refused because its bytes did not match the digest (they were
// damaged on the way: the next attempt sends them again from the layer).
// A cancelled context is never retried.
func retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	// Refused again after one retry: nothing listens there, and waiting
	// out the whole backoff would only delay saying so.
	var refused *RefusedError
	if errors.As(err, &refused) {
		return false
	}
	// One attempt that timed out (no answer within the response timeout)
	// is worth another; net/http's timeout errors also match
	// context.DeadlineExceeded, hence this test first.
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		if terr.Temporary() {
			return true
		}
		for _, d := range terr.Errors {
			if d.Code == transport.DigestInvalidErrorCode || d.Code == transport.BlobUploadInvalidErrorCode {
				return true
			}
		}
		return false
	}
	if t, ok := err.(interface{ Temporary() bool }); ok && t.Temporary() {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, net.ErrClosed)
}

// retryAfter honours the Retry-After header of a 429 or 503 answer by
// waiting (at most max, and no longer than the request's context) before
// handing the answer up to ggcr's retrying transport, which then retries
// after its own backoff. ggcr's retry transport and its upload retries
// only know their fixed backoff and ignore Retry-After, so without this a
// rate-limited client would come back sooner than the registry asked and
// likely be refused again.
type retryAfter struct {
	inner http.RoundTripper
	max   time.Duration
}

func (t *retryAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(r)
	if err != nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return resp, err
	}
	d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if !ok {
		return resp, nil
	}
	if d > t.max {
		d = t.max
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-r.Context().Done():
	}
	return resp, nil
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// replaySafe sends requests whose body cannot be sent twice (a streamed
// PATCH reads the upload queue) straight to plain, and every other request
// through retry. ggcr's retrying transport re-sends the same *http.Request,
// which is only right when it has no body to re-read, or a body net/http
// can read again (GetBody, set by http.NewRequest for in-memory bodies).
// Requests whose context says withoutRetries go to plain too.
type replaySafe struct {
	retry, plain http.RoundTripper
}

type noRetriesKey struct{}

// withoutRetries marks requests made with ctx as tried once (through the
// same authenticated client): a best-effort cleanup is not worth a wait.
func withoutRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetriesKey{}, true)
}

func (t *replaySafe) RoundTrip(r *http.Request) (*http.Response, error) {
	if !retried(r) {
		return t.plain.RoundTrip(r)
	}
	return t.retry.RoundTrip(r)
}

// retried tells whether replaySafe sends r through the retrying transport:
// its body can be sent again and its context does not say withoutRetries.
func retried(r *http.Request) bool {
	return r.Context().Value(noRetriesKey{}) == nil && (r.Body == nil || r.Body == http.NoBody || r.GetBody != nil)
}

// recorder sits next to the network and sees every attempt: it counts
// consecutive failed attempts per request (so a persistent fault is
// reported with its number of attempts) and what the registry confirmed
// writing (so an interrupted or failed wrap can say what it left behind).
type recorder struct {
	inner http.RoundTripper
	// onRetry and maxAttempts: RegistryOptions.OnRetry and the backoff's
	// number of attempts (registry_retrynote.go).
	onRetry     func(string)
	maxAttempts int

	mu       sync.Mutex
	failures map[string]int
	// refused counts connections refused in a row per host:port.
	refused map[string]int
	written Written
}

// RefusedError is a registry address that refused the connection again
// after a quick retry: nothing listens there (the registry is not
// running, or the host or port is wrong). It is not retried further.
type RefusedError struct {
	Host string
	Err  error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("nothing listens on %s (connection refused, twice): is the registry running, and are the host and port right?", e.Host)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// Written is what a registry store wrote so far.
type Written struct {
	// Blobs uploaded (or mounted) and committed by the registry.
	Blobs int `json:"blobs"`
	// Manifests written by digest (platform images of an index, kept bases).
	Manifests int `json:"manifests"`
	// Tagged: the manifest was written under the reference's tag; the
	// target is complete (the tag is always written last).
	Tagged bool `json:"tagged"`
	// TagUncertain: the last manifest PUT by tag got no answer (the
	// connection broke or timed out after it was sent), so the registry
	// may or may not have applied it.
	TagUncertain bool `json:"tagUncertain"`
}

// WriteReporter is implemented by stores that can tell what they wrote.
type WriteReporter interface {
	Written() Written
}

var _ WriteReporter = (*registryStore)(nil)

// Written implements WriteReporter.
func (s *registryStore) Written() Written {
	s.rec.mu.Lock()
	defer s.rec.mu.Unlock()
	return s.rec.written
}

var uploadSession = regexp.MustCompile(`/blobs/uploads/.*$`)

// attemptKey names a request across attempts: upload sessions get a new
// URL on every attempt, so they are folded into one.
func attemptKey(method string, u *url.URL) string {
	return strings.ToUpper(method) + " " + uploadSession.ReplaceAllString(u.Path, "/blobs/uploads/")
}

func (t *recorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.inner.RoundTrip(r)
	if err != nil && errors.Is(err, syscall.ECONNREFUSED) {
		// The first refusal is retried (a registry may just be starting);
		// the second is the answer.
		t.mu.Lock()
		t.refused[r.URL.Host]++
		if t.refused[r.URL.Host] > 1 {
			err = &RefusedError{Host: r.URL.Host, Err: err}
		}
		t.mu.Unlock()
	} else if err == nil {
		t.mu.Lock()
		delete(t.refused, r.URL.Host)
		t.mu.Unlock()
	}
	if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && !isDigestRef(r.URL.Path) {
		t.mu.Lock()
		t.written.TagUncertain = err != nil
		t.mu.Unlock()
	}
	key := attemptKey(r.Method, r.URL)
	var note string
	defer func() { // after the unlock below
		if note != "" {
			t.onRetry(note)
		}
	}()
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil || (resp.StatusCode >= 400 && resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusUnauthorized) {
		t.failures[key]++
		if t.onRetry != nil {
			note = retryNote(r, resp, err, t.failures[key], t.maxAttempts)
		}
		return resp, err
	}
	delete(t.failures, key)
	if resp.StatusCode == http.StatusCreated {
		switch {
		case strings.Contains(r.URL.Path, "/blobs/uploads/"):
			t.written.Blobs++ // a PUT ?digest= commit, or a POST ?mount= that mounted
		case r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/"):
			if isDigestRef(r.URL.Path) {
				t.written.Manifests++
			} else {
				t.written.Tagged = true
			}
		}
	}
	return resp, err
}

func isDigestRef(p string) bool {
	i := strings.LastIndex(p, "/manifests/")
	return i >= 0 && strings.Contains(p[i:], ":")
}

// attempts is how many attempts in a row the request behind err failed
// (0 when unknown).
func (t *recorder) attempts(err error) int {
	var method string
	var u *url.URL
	var terr *transport.Error
	var uerr *url.Error
	switch {
	case errors.As(err, &terr) && terr.Request != nil:
		method, u = terr.Request.Method, terr.Request.URL
	case errors.As(err, &uerr):
		method = uerr.Op
		u, _ = url.Parse(uerr.URL)
	}
	if u == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failures[attemptKey(method, u)]
}

// pushError is "pushing REF: after N attempts: ERR" (the attempts part when
// the request was tried more than once).
func (s *registryStore) pushError(what string, err error) error {
	if n := s.rec.attempts(err); n > 1 {
		return fmt.Errorf("%s: after %d attempts: %w", what, n, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// retrySettings are the backoff and Retry-After bound in effect.
func (o RegistryOptions) backoff() transport.Backoff {
	if o.Backoff != nil {
		return *o.Backoff
	}
	return DefaultBackoff
}

// newRecorder builds the store's base transport: the network (the
// caller's transport or the default one), the attempt recorder, and the
// Retry-After wait. ggcr adds its retrying transport on top for remote
// calls; StartBlob adds it itself.
func newRecorder(o RegistryOptions) (*recorder, http.RoundTripper) {
	base := o.Transport
	if base == nil {
		base = defaultBase()
	}
	rec := &recorder{inner: base, failures: map[string]int{}, refused: map[string]int{}, onRetry: o.OnRetry, maxAttempts: o.backoff().Steps}
	max := o.MaxRetryAfter
	if max <= 0 {
		max = DefaultMaxRetryAfter
	}
	return rec, &retryAfter{inner: rec, max: max}
}

// retrying is base behind ggcr's retrying transport, for clients of our
// own (StartBlob) that ggcr's remote options do not reach. Its ping, POST,
// commit PUT and in-memory uploads are retried; the streamed PATCH is not
// (replaySafe).
func (s *registryStore) retrying() http.RoundTripper {
	retry := transport.NewRetry(s.base,
		transport.WithRetryBackoff(s.opts.backoff()),
		transport.WithRetryPredicate(retryable),
		transport.WithRetryStatusCodes(RetryStatusCodes...))
	return &replaySafe{retry: retry, plain: s.base}
}

// AttemptCounter is implemented by stores that retry: Attempts tells how
// many attempts in a row the request behind err failed.
type AttemptCounter interface {
	Attempts(err error) int
}

var _ AttemptCounter = (*registryStore)(nil)

// Attempts implements AttemptCounter.
func (s *registryStore) Attempts(err error) int { return s.rec.attempts(err) }

// Explain adds to err how many attempts the failed request got, when one
// of stores retried it and the message does not say so yet (errors from
// lazily read image parts surface outside the store's own calls).
func Explain(err error, stores ...Store) error {
	if err == nil || strings.Contains(err.Error(), " attempts: ") {
		return err
	}
	for _, st := range stores {
		if c, ok := st.(AttemptCounter); ok {
			if n := c.Attempts(err); n > 1 {
				return fmt.Errorf("%w (gave up after %d attempts)", err, n)
			}
		}
	}
	return err
}
