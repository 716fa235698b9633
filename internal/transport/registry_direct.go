package transport

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/logs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// directOptions send ggcr's calls through the store's push client. Its
// transport is a transport.Wrapper, already authenticated for push to the
// repository, and ggcr takes a Wrapper as it is: no ping, no token round
// trip and no keychain lookup of its own. A fresh ggcr pusher would spend
// a ping (and on registries with token auth a token request) before the
// manifest PUT, at the very end of the wrap, where every round trip adds
// to the time the user waits. Not for layers that may be mounted from
// another repository: a mount needs pull scope there, which the push
// client's token does not carry.
func (s *registryStore) directOptions(ctx context.Context) ([]remote.Option, error) {
	c, err := s.pushClient(ctx)
	if err != nil {
		return nil, err
	}
	return []remote.Option{remote.WithContext(ctx), remote.WithAuth(authn.Anonymous),
		remote.WithTransport(c.Transport),
		remote.WithRetryBackoff(s.opts.backoff()),
		remote.WithRetryPredicate(retryable),
		remote.WithRetryStatusCodes(RetryStatusCodes...)}, nil
}

// putSmallBlob uploads a blob held in memory (an image config: a few KB)
// with as few round trips as the distribution spec allows: one monolithic
// PUT on an upload session, which is ready when one was prepared
// (PrepareBlobs) and left unused. ggcr's WriteLayer spends a HEAD, a POST,
// a PATCH and the PUT. There is no HEAD first: a config is new whenever
// anything is pushed at all (an unchanged output is never pushed), and
// sending a few KB the registry already holds costs what the HEAD would.
// If the monolithic PUT is refused, the blob goes up through ggcr's
// chunked upload instead (fallback).
func (s *registryStore) putSmallBlob(ctx context.Context, d v1.Hash, data []byte, fallback func() error) error {
	sess, err := s.session(ctx)
	if err != nil {
		return err
	}
	if err := putMonolithic(ctx, sess, d, data); err != nil {
		logs.Warn.Printf("uploading %s in one request failed (%v); uploading it in chunks", d, err)
		return fallback()
	}
	s.markUploaded(d)
	logs.Progress.Printf("pushed blob: %s (%d bytes)", d, len(data))
	return nil
}

// markUploaded records a blob the registry confirmed taking: Put does not
// ask about it again.
func (s *registryStore) markUploaded(d v1.Hash) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.uploaded == nil {
		s.uploaded = map[v1.Hash]bool{}
	}
	s.uploaded[d] = true
}

// putMonolithic completes an upload session with the whole blob as the
// PUT body (the spec's monolithic upload). The body can be replayed, so
// the push client's retrying transport retries it like a bodiless request.
func putMonolithic(ctx context.Context, sess *blobSession, d v1.Hash, data []byte) error {
	u := *sess.loc
	q := u.Query()
	q.Set("digest", d.String())
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := sess.client.Do(req)
	if err != nil {
		return fmt.Errorf("PUT %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	return transport.CheckError(resp, http.StatusCreated)
}
