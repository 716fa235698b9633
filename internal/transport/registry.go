package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// KindRegistry is an image in a registry, written as Docker writes it
// (registry.example.com/app:1.2, app@sha256:...).
const KindRegistry Kind = "registry"

var registryKind = storeKind{
	KindInfo: KindInfo{
		Kind: KindRegistry, Form: "REGISTRY/REPOSITORY[:TAG|@DIGEST]",
		Help:     "an image in a registry (registry.example.com/app:1.2), with credentials from the Docker config and its credential helpers",
		Examples: []string{"registry.example.com/app:1.2", "localhost:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ubuntu"},
	},
	bare: true,
	refs: registryRefs{},
	open: func(r Ref, opts Options) (Store, error) { return newRegistryStore(r, opts.Registry), nil },
}

// RegistryOptions configure registry access.
type RegistryOptions struct {
	// Keychain resolves credentials; nil means authn.DefaultKeychain, which
	// reads the Docker config (~/.docker/config.json, DOCKER_CONFIG) and
	// runs its credential helpers, exactly as `docker push` would.
	Keychain authn.Keychain
	// Transport is the base HTTP transport; nil means remote.DefaultTransport
	// with a response header timeout (DefaultResponseTimeout). Every request
	// goes through ggcr's retrying transport on top of it: RetryStatusCodes,
	// resets and timeouts are retried with Backoff, and a Retry-After
	// header is honoured (up to MaxRetryAfter).
	Transport http.RoundTripper
	// Backoff is the retry schedule; nil means DefaultBackoff.
	Backoff *transport.Backoff
	// MaxRetryAfter bounds the wait a Retry-After header asks for; 0 means
	// DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// Progress, when set, receives upload progress.
	Progress chan<- v1.Update
	// OnRetry, when set, hears of each failed registry request that will
	// be tried again, in a sentence for the user (registry_retrynote.go).
	OnRetry func(note string)
	// UserAgent is sent to the registry.
	UserAgent string
}

// remoteOptions are the ggcr options of every call: ggcr wraps the store's
// base transport with its retrying transport (request level: pings, token
// fetches, GETs and HEADs) and retries whole uploads and manifest PUTs with
// the same backoff and predicate (operation level).
func (s *registryStore) remoteOptions(ctx context.Context) []remote.Option {
	o := s.opts
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc),
		remote.WithTransport(s.base),
		remote.WithRetryBackoff(o.backoff()),
		remote.WithRetryPredicate(retryable),
		remote.WithRetryStatusCodes(RetryStatusCodes...)}
	if o.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(o.UserAgent))
	}
	return opts
}

type registryStore struct {
	ref  Ref
	opts RegistryOptions
	// base is the network transport behind the attempt recorder and the
	// Retry-After wait; rec counts attempts and what was written.
	base http.RoundTripper
	rec  *recorder

	mu sync.Mutex
	// uploaded are blobs this store streamed and the registry confirmed
	// (StartBlob); Put does not ask about them again.
	uploaded map[v1.Hash]bool
	// pending are streamed blobs whose commit is still running
	// (BlobUpload.Finish); each channel closes when it ends.
	pending  map[v1.Hash]chan struct{}
	inFlight sync.WaitGroup
	// releasing is the background cancel of unused sessions
	// (releaseSpares).
	releasing sync.WaitGroup
	// spares are upload sessions being opened ahead of StartBlob
	// (PrepareBlobs).
	spares []chan sessionResult
	// stopPrepare cancels the contexts the spares are opened with.
	stopPrepare []context.CancelFunc

	// read is the reference as Get first read it, until Put.
	read *Artifact

	clientMu sync.Mutex
	client   *http.Client // for upload sessions (pushClient)
}

// startPending records a blob whose commit is under way; the returned
// func ends it.
func (s *registryStore) startPending(h v1.Hash) func() {
	ch := make(chan struct{})
	s.mu.Lock()
	if s.pending == nil {
		s.pending = map[v1.Hash]chan struct{}{}
	}
	s.pending[h] = ch
	s.inFlight.Add(1)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.pending[h] == ch {
			delete(s.pending, h)
		}
		s.mu.Unlock()
		close(ch)
		s.inFlight.Done()
	}
}

// awaitUploaded waits for the commit of h if one is running, and reports
// whether the registry has confirmed h.
func (s *registryStore) awaitUploaded(ctx context.Context, h v1.Hash) (bool, error) {
	s.mu.Lock()
	ch := s.pending[h]
	s.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uploaded[h], nil
}

// awaitAll waits for every running commit.
func (s *registryStore) awaitAll(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.inFlight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pendingBlobs are the blobs whose commit is running.
func (s *registryStore) pendingBlobs() []v1.Hash {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]v1.Hash, 0, len(s.pending))
	for h := range s.pending {
		out = append(out, h)
	}
	return out
}

func newRegistryStore(ref Ref, opts RegistryOptions) *registryStore {
	if opts.Transport == nil {
		opts.Transport = defaultBase()
	}
	opts.Transport = rememberPings(traceRequests(rememberPlainHTTP(opts.Transport)))
	rec, base := newRecorder(opts)
	return &registryStore{ref: ref, opts: opts, rec: rec, base: base}
}

func (s *registryStore) Ref() Ref { return s.ref }

// Close waits for streamed uploads still committing (BlobUpload.Finish),
// so none outlives the store, and cancels unused prepared sessions.
func (s *registryStore) Close() error {
	s.inFlight.Wait()
	s.releasing.Wait()
	s.cancelSpares()
	return nil
}

// Get reads the reference once per store: later calls return the same
// image until the store writes the reference (Put). A command sees one
// image for a tag even if the tag moves meanwhile, and deciding something
// from a first read (the CLI's default target) costs no second round of
// ping, token and manifest requests.
func (s *registryStore) Get(ctx context.Context) (*Artifact, error) {
	s.mu.Lock()
	a := s.read
	s.mu.Unlock()
	if a != nil {
		return a, nil
	}
	a, err := s.get(ctx, s.ref.Registry)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.read = a
	s.mu.Unlock()
	return a, nil
}

func (s *registryStore) GetDigest(ctx context.Context, h v1.Hash) (*Artifact, error) {
	return s.get(ctx, s.ref.Registry.Context().Digest(h.String()))
}

func (s *registryStore) get(ctx context.Context, ref name.Reference) (*Artifact, error) {
	desc, err := remote.Get(ref, s.remoteOptions(ctx)...)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("reading %s: %w", ref, ErrNotFound)
		}
		return nil, s.pushError(fmt.Sprintf("reading %s", ref), fmt.Errorf("%w%s", err, authHint(err, ref)))
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("reading index %s: %w", ref, err)
		}
		return &Artifact{Index: idx, Origin: s.ref}, nil
	}
	if !desc.MediaType.IsImage() {
		return nil, fmt.Errorf("reading %s: %s is not an image or an image index", ref, desc.MediaType)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("reading image %s: %w", ref, err)
	}
	if err := CheckConfigSize(ref.String(), img); err != nil {
		return nil, err
	}
	return &Artifact{Image: img, Origin: s.ref}, nil
}

func (s *registryStore) Put(ctx context.Context, a *Artifact, keep ...*Artifact) error {
	s.mu.Lock()
	s.read = nil // the reference is about to change
	s.mu.Unlock()
	// A kept artifact read from this very repository is already here by
	// digest, and so is every blob it references: nothing to push for it,
	// and no need to ask the registry about those blobs again. This is the
	// common case (wrapping app:1 into app:1-jennifer) and saves a HEAD per
	// base layer.
	known := map[v1.Hash]bool{}
	s.mu.Lock()
	for h := range s.uploaded {
		known[h] = true
	}
	s.mu.Unlock()
	// Blobs still committing send the push to putKnown too: it waits for
	// each one where it is needed and uploads it itself if its commit
	// failed.
	committing := len(s.pendingBlobs())
	var push []*Artifact
	for _, k := range keep {
		if k.Origin.Kind == KindRegistry && SameStore(k.Origin, s.ref) {
			if err := addBlobs(known, k); err != nil {
				return fmt.Errorf("pushing %s: %w", s.ref, err)
			}
			continue
		}
		push = append(push, k)
	}
	if len(push) == 0 && len(known)+committing > 0 {
		return s.putKnown(ctx, a, known)
	}
	// ggcr's own write checks every blob: let the running commits end.
	if err := s.awaitAll(ctx); err != nil {
		return err
	}
	opts := s.remoteOptions(ctx)
	// One pusher for every write: it remembers which blobs it has already
	// uploaded or found, so each blob crosses the network once. A write
	// that reuses a pusher uploads with the pusher's options, so progress
	// must be set on the pusher itself to be reported at all.
	pusherOpts := opts
	if s.opts.Progress != nil {
		pusherOpts = append(opts[:len(opts):len(opts)], remote.WithProgress(s.opts.Progress))
	}
	pusher, err := remote.NewPusher(pusherOpts...)
	if err != nil {
		return fmt.Errorf("pushing %s: %w", s.ref, err)
	}
	opts = append(opts, remote.Reuse(pusher))
	repo := s.ref.Registry.Context()
	for _, k := range push {
		h, err := k.Digest()
		if err != nil {
			return err
		}
		if err := s.write(repo.Digest(h.String()), k, opts); err != nil {
			return err
		}
	}
	if s.opts.Progress != nil {
		// On the last write only: ggcr closes the channel when it ends.
		opts = append(opts, remote.WithProgress(s.opts.Progress))
	}
	return s.write(s.ref.Registry, a, opts)
}

func (s *registryStore) write(ref name.Reference, a *Artifact, opts []remote.Option) error {
	var err error
	if a.Index != nil {
		err = remote.WriteIndex(ref, a.Index, opts...)
	} else {
		err = remote.Write(ref, a.Image, opts...)
	}
	if err != nil {
		return s.pushError(fmt.Sprintf("pushing %s", ref), fmt.Errorf("%w%s", err, authHint(err, ref)))
	}
	return nil
}

func isNotFound(err error) bool {
	var terr *transport.Error
	if errors.As(err, &terr) {
		if terr.StatusCode == http.StatusNotFound {
			return true
		}
		for _, d := range terr.Errors {
			if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
				return true
			}
		}
	}
	return false
}

// authHint tells the user what to do when the registry refused credentials
// or its certificate is not trusted.
func authHint(err error, ref name.Reference) string {
	if h := tlsHint(err, ref); h != "" {
		return h
	}
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		return fmt.Sprintf(" (log in with `docker login %s` or configure a credential helper; jbuild reads the Docker config)", ref.Context().RegistryStr())
	}
	return ""
}
