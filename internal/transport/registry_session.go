package transport

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/logs"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// BlobPreparer is implemented by stores whose blob uploads start with
// round trips of their own (a registry: authenticating, then opening an
// upload session). PrepareBlobs opens n sessions in the background, so
// StartBlob later finds one ready and the first bytes leave at once; wrap
// calls it before it has even read the agent. Sessions not used are
// cancelled on Close.
type BlobPreparer interface {
	PrepareBlobs(ctx context.Context, n int)
}

var _ BlobPreparer = (*registryStore)(nil)

// blobSession is an open upload session: the authenticated client and the
// URL the registry gave for the upload.
type blobSession struct {
	client *http.Client
	loc    *url.URL
}

type sessionResult struct {
	sess *blobSession
	err  error
}

// PrepareBlobs implements BlobPreparer.
func (s *registryStore) PrepareBlobs(ctx context.Context, n int) {
	// Close stops the opens still under way (cancelSpares).
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.stopPrepare = append(s.stopPrepare, cancel)
	s.mu.Unlock()
	for range n {
		ch := make(chan sessionResult, 1)
		s.mu.Lock()
		s.spares = append(s.spares, ch)
		s.mu.Unlock()
		go func() {
			sess, err := s.openSession(ctx)
			ch <- sessionResult{sess, err}
		}()
	}
}

// spareSession keeps an open session the store did not ask for (a
// registry that answered a mount by opening an upload) for the next blob,
// or for cancelSpares.
func (s *registryStore) spareSession(sess *blobSession) {
	ch := make(chan sessionResult, 1)
	ch <- sessionResult{sess: sess}
	s.mu.Lock()
	s.spares = append(s.spares, ch)
	s.mu.Unlock()
}

// session returns a prepared session, or opens one.
func (s *registryStore) session(ctx context.Context) (*blobSession, error) {
	s.mu.Lock()
	var ch chan sessionResult
	if len(s.spares) > 0 {
		ch, s.spares = s.spares[0], s.spares[1:]
	}
	s.mu.Unlock()
	if ch != nil {
		select {
		case r := <-ch:
			if r.err == nil {
				return r.sess, nil
			}
			// A prepared session that failed: try once more now, with
			// this caller's context.
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return s.openSession(ctx)
}

// pushClient is the client every upload session of the store shares:
// authenticated once (one ping, one token) for push to the repository.
// Ping, token, POST and the commit PUT are retried like every other
// request; the streamed PATCH cannot be (its body is gone once sent): when
// it fails the upload is abandoned, and the store's Put uploads the layer
// again from the layer cache, with retries.
func (s *registryStore) pushClient(ctx context.Context) (*http.Client, error) {
	s.clientMu.Lock()
	defer s.clientMu.Unlock()
	if s.client != nil {
		return s.client, nil
	}
	repo := s.ref.Registry.Context()
	kc := s.opts.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	auth, err := authn.Resolve(ctx, kc, repo)
	if err != nil {
		return nil, err
	}
	var inner http.RoundTripper = s.retrying()
	if s.opts.UserAgent != "" {
		inner = transport.NewUserAgent(inner, s.opts.UserAgent)
	}
	rt, err := transport.NewWithContext(ctx, repo.Registry, auth, inner, []string{repo.Scope(transport.PushScope)})
	if err != nil {
		return nil, err
	}
	s.client = &http.Client{Transport: rt}
	return s.client, nil
}

// repoURL is the URL of path (e.g. "/blobs/uploads/") under the
// repository's /v2/ API.
func (s *registryStore) repoURL(path string) *url.URL {
	repo := s.ref.Registry.Context()
	return &url.URL{Scheme: repo.Registry.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + path}
}

// openSession starts an upload (POST /v2/<repo>/blobs/uploads/).
func (s *registryStore) openSession(ctx context.Context) (*blobSession, error) {
	client, err := s.pushClient(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.repoURL("/blobs/uploads/").String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusAccepted); err != nil {
		return nil, err
	}
	loc, err := location(resp)
	if err != nil {
		return nil, err
	}
	return &blobSession{client: client, loc: loc}, nil
}

// cleanupTimeout bounds cancelling the unused upload sessions on Close.
// By then the wrap is over, its tag written or its error known: a
// registry that went away meanwhile must not hold the command for the
// retries of a cleanup, and it expires idle uploads anyway.
const cleanupTimeout = 2 * time.Second

// releaseSpares cancels the unused sessions in the background (Close
// waits for it): once every blob of a push is up, the DELETEs run alongside
// the manifest PUT instead of after it.
func (s *registryStore) releaseSpares() {
	s.releasing.Add(1)
	go func() {
		defer s.releasing.Done()
		s.cancelSpares()
	}()
}

// cancelSpares ends the prepared sessions nobody used: one DELETE each on
// the upload URL, not retried, all within cleanupTimeout, failures only
// logged at debug level. Sessions still being opened are stopped, not
// waited for.
func (s *registryStore) cancelSpares() {
	s.mu.Lock()
	spares, stop := s.spares, s.stopPrepare
	s.spares, s.stopPrepare = nil, nil
	s.mu.Unlock()
	for _, cancel := range stop {
		cancel()
	}
	ctx, cancel := context.WithTimeout(withoutRetries(context.Background()), cleanupTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, ch := range spares {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r sessionResult
			select {
			case r = <-ch:
			case <-ctx.Done():
				return // its open is still backing off from a failure
			}
			if r.err != nil {
				return
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodDelete, r.sess.loc.String(), nil)
			if err != nil {
				return
			}
			resp, err := r.sess.client.Do(req)
			if err != nil {
				logs.Debug.Printf("cancelling unused upload %s: %v (the registry expires it)", r.sess.loc.Redacted(), err)
				return
			}
			resp.Body.Close()
		}()
	}
	wg.Wait()
}
