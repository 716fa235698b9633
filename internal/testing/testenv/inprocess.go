package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxManifestSize bounds the manifest bodies RegistryHandler reads to check
// their blobs (distribution's own limit is 4 MiB).
const maxManifestSize = 4 << 20

// RegistryHandler returns a new in-process OCI registry: go-containerregistry's
// pkg/registry (the one ggcr tests pkg/crane against), quiet, with the rules
// of distribution that jbuild's pushes meet and the quick tier's tests
// rely on:
//
//   - blobs belong to repositories: a blob pushed to one repository is
//     unknown (404) in another until it is pushed or mounted there, and a
//     cross-repository mount (POST ?mount=&from=) links a blob the source
//     repository holds (201) or else starts an upload (202);
//   - upload sessions are known: GET on one answers 204 with its Range,
//     DELETE cancels it, and PATCH, PUT, GET or DELETE on a session the
//     registry did not open, finished or cancelled answers 404
//     BLOB_UPLOAD_UNKNOWN;
//   - an image manifest that names a config or layer blob the repository
//     does not hold is refused (400 MANIFEST_BLOB_UNKNOWN), so a write that
//     lost a blob fails instead of leaving a partial image.
//
// It has no auth and no TLS, and is not distribution: tests whose point is
// distribution's own behaviour run against the real registry
// (RealRegistry, AuthRegistry, TokenRegistry, TLSRegistry).
func RegistryHandler() http.Handler {
	blobs := &repoBlobs{data: map[v1.Hash][]byte{}, links: map[string]map[v1.Hash]bool{}}
	quiet := log.New(io.Discard, "", 0)
	return &manifestCheck{
		blobs:    blobs,
		sessions: map[string]int64{},
		next:     registry.New(registry.Logger(quiet), registry.WithBlobHandler(blobs)),
	}
}

// StartInProcessRegistry serves RegistryHandler on 127.0.0.1 at a free port
// (httptest.NewServer) and returns its address ("127.0.0.1:PORT") and a stop
// function (safe to call more than once). It needs no binary: the quick
// tier's Registry is one of these.
func StartInProcessRegistry() (addr string, stop func()) {
	srv := httptest.NewServer(RegistryHandler())
	var once sync.Once
	return strings.TrimPrefix(srv.URL, "http://"), func() { once.Do(srv.Close) }
}

// repoBlobs is a registry.BlobHandler that keeps each blob's bytes once and
// which repositories hold it. The repository is the one manifestCheck put in
// the request's context (pkg/registry's own repo argument has "/blobs"
// appended for upload URLs).
type repoBlobs struct {
	mu    sync.Mutex
	data  map[v1.Hash][]byte
	links map[string]map[v1.Hash]bool
}

var (
	_ registry.BlobStatHandler   = (*repoBlobs)(nil)
	_ registry.BlobPutHandler    = (*repoBlobs)(nil)
	_ registry.BlobDeleteHandler = (*repoBlobs)(nil)
)

// repoKey is the context key of the repository a blob request names.
type repoKey struct{}

// repoOf is the repository of a blob request: the one in ctx, else
// pkg/registry's guess.
func repoOf(ctx context.Context, repo string) string {
	if r, ok := ctx.Value(repoKey{}).(string); ok {
		return r
	}
	return repo
}

func (b *repoBlobs) lookup(ctx context.Context, repo string, h v1.Hash) ([]byte, error) {
	repo = repoOf(ctx, repo)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.links[repo][h] {
		return nil, registry.ErrNotFound
	}
	return b.data[h], nil
}

func (b *repoBlobs) Stat(ctx context.Context, repo string, h v1.Hash) (int64, error) {
	data, err := b.lookup(ctx, repo, h)
	return int64(len(data)), err
}

func (b *repoBlobs) Get(ctx context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	data, err := b.lookup(ctx, repo, h)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// Put stores the blob once the whole body has been read: rc checks size
// and digest as it is read, so a short or damaged upload stores nothing.
func (b *repoBlobs) Put(ctx context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	repo = repoOf(ctx, repo)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.data[h]; !ok {
		b.data[h] = data
	}
	if b.links[repo] == nil {
		b.links[repo] = map[v1.Hash]bool{}
	}
	b.links[repo][h] = true
	return nil
}

// Delete removes the blob from repo (its bytes stay for other
// repositories, as distribution unlinks a layer).
func (b *repoBlobs) Delete(ctx context.Context, repo string, h v1.Hash) error {
	repo = repoOf(ctx, repo)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.links[repo][h] {
		return registry.ErrNotFound
	}
	delete(b.links[repo], h)
	return nil
}

// link adds blob h, which some repository holds, to repo; it reports
// whether from holds it.
func (b *repoBlobs) link(from, repo string, h v1.Hash) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.links[from][h] {
		return false
	}
	if b.links[repo] == nil {
		b.links[repo] = map[v1.Hash]bool{}
	}
	b.links[repo][h] = true
	return true
}

// manifestCheck does what RegistryHandler adds to pkg/registry: it answers
// mounts and upload-session requests itself, refuses image manifests whose
// blobs the repository lacks, and hands the rest to next (blob requests
// with their repository in the context).
type manifestCheck struct {
	blobs *repoBlobs
	next  http.Handler

	mu sync.Mutex
	// sessions are the open upload sessions by URL path, with the bytes
	// each has received.
	sessions map[string]int64
}

func (m *manifestCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if repo, ok := blobRepo(r); ok {
		m.blob(w, r.WithContext(context.WithValue(r.Context(), repoKey{}, repo)), repo)
		return
	}
	repo, ok := manifestPut(r)
	if !ok {
		m.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxManifestSize+1))
	r.Body.Close()
	switch {
	case err != nil:
		return // the client went away
	case len(body) > maxManifestSize:
		registryError(w, http.StatusBadRequest, "MANIFEST_INVALID", fmt.Sprintf("manifest is more than %d bytes", maxManifestSize))
		return
	}
	if mt := types.MediaType(r.Header.Get("Content-Type")); mt.IsImage() {
		mf, err := v1.ParseManifest(bytes.NewReader(body))
		if err != nil {
			registryError(w, http.StatusBadRequest, "MANIFEST_INVALID", err.Error())
			return
		}
		for _, d := range append([]v1.Descriptor{mf.Config}, mf.Layers...) {
			if !d.MediaType.IsDistributable() {
				continue
			}
			if _, err := m.blobs.Stat(r.Context(), repo, d.Digest); err != nil {
				registryError(w, http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry: "+d.Digest.String())
				return
			}
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	m.next.ServeHTTP(w, r)
}

// blob serves a blob request of repo.
func (m *manifestCheck) blob(w http.ResponseWriter, r *http.Request, repo string) {
	start := strings.HasSuffix(r.URL.Path, "/blobs/uploads/") || strings.HasSuffix(r.URL.Path, "/blobs/uploads")
	session := !start && strings.Contains(r.URL.Path[len("/v2/"+repo):], "/blobs/uploads/")
	q := r.URL.Query()
	switch {
	case start && r.Method == http.MethodPost && q.Get("mount") != "":
		if h, err := v1.NewHash(q.Get("mount")); err == nil && m.blobs.link(q.Get("from"), repo, h) {
			w.Header().Set("Location", "/v2/"+repo+"/blobs/"+h.String())
			w.Header().Set("Docker-Content-Digest", h.String())
			w.WriteHeader(http.StatusCreated)
			return
		}
		// Not mountable: start an upload, as distribution does.
		q.Del("mount")
		q.Del("from")
		r.URL.RawQuery = q.Encode()
	case session:
		m.mu.Lock()
		n, open := m.sessions[r.URL.Path]
		if open && r.Method == http.MethodDelete {
			delete(m.sessions, r.URL.Path)
		}
		m.mu.Unlock()
		switch {
		case !open:
			r.Body.Close()
			registryError(w, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry")
			return
		case r.Method == http.MethodGet:
			w.Header().Set("Location", r.URL.Path)
			w.Header().Set("Range", fmt.Sprintf("0-%d", max(n-1, 0)))
			w.WriteHeader(http.StatusNoContent)
			return
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
			return
		case r.Method == http.MethodPatch && n > 0 && r.Header.Get("Content-Range") == "":
			// Distribution appends a streamed PATCH to what the session
			// has; pkg/registry takes a second one only as a chunk.
			r.Header.Set("Content-Range", fmt.Sprintf("%d-%d", n, n+max(r.ContentLength, 1)-1))
		}
	}
	rec := &sessionWriter{ResponseWriter: w}
	m.next.ServeHTTP(rec, r)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case start && rec.status == http.StatusAccepted:
		m.sessions[locationPath(w.Header().Get("Location"))] = 0
	case session && rec.status == http.StatusAccepted: // PATCH
		var end int64
		if _, err := fmt.Sscanf(w.Header().Get("Range"), "0-%d", &end); err == nil {
			m.sessions[r.URL.Path] = end + 1
		}
	case session && rec.status == http.StatusCreated: // PUT
		delete(m.sessions, r.URL.Path)
	}
}

// locationPath is the path of a Location header (pkg/registry's are
// paths already).
func locationPath(loc string) string {
	if u, err := url.Parse(loc); err == nil {
		return u.Path
	}
	return loc
}

// sessionWriter records the status of an answer.
type sessionWriter struct {
	http.ResponseWriter
	status int
}

func (s *sessionWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *sessionWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// blobRepo reports whether r is a blob request (/v2/<repo>/blobs/...), and
// <repo>.
func blobRepo(r *http.Request) (string, bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if !ok {
		return "", false
	}
	// The last "/blobs/": a repository may have a component named blobs.
	i := strings.LastIndex(rest, "/blobs/")
	if i <= 0 {
		return "", false
	}
	tail := rest[i+len("/blobs/"):]
	digest := strings.Contains(tail, ":") && !strings.Contains(tail, "/")
	if tail != "uploads" && !strings.HasPrefix(tail, "uploads/") && !digest {
		return "", false // e.g. /v2/x/blobs/manifests/1
	}
	return rest[:i], true
}

// manifestPut reports whether r is PUT /v2/<repo>/manifests/<ref>, and
// <repo>.
func manifestPut(r *http.Request) (string, bool) {
	if r.Method != http.MethodPut {
		return "", false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if !ok {
		return "", false
	}
	i := strings.LastIndex(rest, "/manifests/")
	if i <= 0 || strings.Contains(rest[i+len("/manifests/"):], "/") {
		return "", false
	}
	return rest[:i], true
}

// registryError writes a distribution API error.
func registryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, msg)
}
