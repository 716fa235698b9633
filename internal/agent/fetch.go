package agent

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

// fetched is the outcome of a download attempt that worked.
type fetched struct {
	path         string // the archive in the cache
	fresh        bool   // downloaded now (not a 304 for the cached copy)
	etag         string
	lastModified string
}

// attemptError is why one download attempt failed. err has no URL in it:
// download names the URL once, without its secrets.
type attemptError struct {
	err   error
	hint  string // what the user can do, or ""
	retry bool   // another attempt may succeed
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

const reachHint = "is the view server reachable from here? or download the agent archive and pass the file"

var (
	errNoResponse = errors.New("no response headers in time")
	errStalled    = errors.New("no body bytes in time")
)

// fetch makes one attempt at downloading u into the cache, revalidating
// cached (the archive rec names) when there is one. The archive is
// written to a temporary file and renamed to downloads/<sha256> only when
// complete: a failed attempt leaves nothing behind.
func fetch(ctx context.Context, client *http.Client, u *url.URL, rec urlRecord, cached string, opts Options) (fetched, error) {
	// The attempt's own context: its cause tells our timeouts apart from
	// the caller's cancel, and a timeout ends the attempt wherever it is.
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fetched{}, &attemptError{err: redactErr(err)}
	}
	if cached != "" {
		if rec.ETag != "" {
			req.Header.Set("If-None-Match", rec.ETag)
		}
		if rec.LastModified != "" {
			req.Header.Set("If-Modified-Since", rec.LastModified)
		}
	}
	waiting := time.AfterFunc(opts.HeaderTimeout, func() { cancel(errNoResponse) })
	resp, err := client.Do(req)
	waiting.Stop()
	if err != nil {
		return fetched{}, requestError(ctx, actx, err, opts)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != "":
		return fetched{path: cached}, nil
	case resp.StatusCode != http.StatusOK:
		e := &attemptError{err: fmt.Errorf("HTTP %s", resp.Status), retry: resp.StatusCode >= 500}
		if resp.StatusCode == http.StatusNotFound {
			e.hint = "the view server serves /download/agent/<java|dotnet|php>/<version|latest>"
		}
		return fetched{}, e
	}
	tmp, err := createTemp(cachePath(opts, "downloads", "download"))
	if err != nil {
		return fetched{}, err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	body := newIdleReader(resp.Body, opts.IdleTimeout, func() { cancel(errStalled) })
	defer body.stop()
	h := sha256.New()
	// The download itself is bounded too: an archive bigger than what it
	// may expand to is not an agent.
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, opts.MaxExpandedSize+1))
	if cerr := tmp.Close(); err == nil && cerr != nil {
		return fetched{}, fmt.Errorf("writing to the agent cache %s: %w", tmp.Name(), cerr)
	}
	switch {
	case err != nil && body.err == nil:
		// Not the network: the cache file could not be written.
		return fetched{}, fmt.Errorf("writing to the agent cache %s: %w", tmp.Name(), err)
	case err != nil && ctx.Err() != nil:
		return fetched{}, &attemptError{err: ctx.Err()}
	case err != nil && context.Cause(actx) == errStalled:
		return fetched{}, &attemptError{err: fmt.Errorf("stalled: no data for %s after %d bytes", opts.IdleTimeout, n), retry: true, hint: reachHint}
	case err != nil:
		return fetched{}, &attemptError{err: fmt.Errorf("connection lost after %d bytes: %w", n, redactErr(err)), retry: true}
	case n > opts.MaxExpandedSize:
		return fetched{}, &attemptError{err: fmt.Errorf("larger than %d bytes; refusing it", opts.MaxExpandedSize)}
	case resp.ContentLength >= 0 && n != resp.ContentLength:
		return fetched{}, &attemptError{err: fmt.Errorf("got %d of %d bytes (connection cut?)", n, resp.ContentLength), retry: true}
	}
	sum := fmt.Sprintf("%x", h.Sum(nil))
	dest := cachePath(opts, "downloads", sum)
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fetched{}, fmt.Errorf("caching agent download: %w", err)
	}
	return fetched{path: dest, fresh: true, etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified")}, nil
}

// requestError explains a failed request (no response): whose timeout it
// was, and whether trying again may help.
func requestError(ctx, actx context.Context, err error, opts Options) error {
	var op *net.OpError
	var cert *tls.CertificateVerificationError
	switch {
	case ctx.Err() != nil:
		return &attemptError{err: ctx.Err()}
	case context.Cause(actx) == errNoResponse:
		return &attemptError{err: fmt.Errorf("no response within %s", opts.HeaderTimeout), retry: true, hint: reachHint}
	case errors.As(err, &op) && op.Op == "dial" && op.Timeout():
		return &attemptError{err: fmt.Errorf("no connection within %s", opts.ConnectTimeout), retry: true, hint: reachHint}
	case errors.Is(err, errTooManyRedirects), errors.As(err, &cert):
		// The same answer next time.
		return &attemptError{err: redactErr(err)}
	}
	return &attemptError{err: redactErr(err), retry: true, hint: reachHint}
}

// idleReader calls stalled when no byte arrived for d: a stalled server
// or connection, which TCP alone may not notice for hours.
type idleReader struct {
	r     io.Reader
	d     time.Duration
	timer *time.Timer
	err   error // the last read error, to tell the network's from the disk's
}

func newIdleReader(r io.Reader, d time.Duration, stalled func()) *idleReader {
	return &idleReader{r: r, d: d, timer: time.AfterFunc(d, stalled)}
}

func (i *idleReader) Read(p []byte) (int, error) {
	n, err := i.r.Read(p)
	if n > 0 {
		i.timer.Reset(i.d)
	}
	if err != nil && err != io.EOF {
		i.err = err
	}
	return n, err
}

func (i *idleReader) stop() { i.timer.Stop() }
