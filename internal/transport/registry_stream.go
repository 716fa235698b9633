package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/google/go-containerregistry/pkg/logs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// BlobUpload is a blob upload that receives its bytes while they are being
// produced, before their digest is known.
type BlobUpload interface {
	io.Writer
	// Commit completes the upload under the digest of what was written.
	Commit(digest v1.Hash) error
	// Finish commits in the background and returns at once: the rest of
	// the upload (the queued bytes, the registry's confirmation) overlaps
	// whatever the caller does next. The store's Put waits for it before it
	// writes a manifest that refers to the blob, and uploads the blob
	// itself if the commit failed; Close waits for it too.
	Finish(digest v1.Hash)
	// Abort gives the upload up; the registry discards what it received.
	Abort()
}

// BlobStreamer is implemented by stores that can take a blob while it is
// being made. The wrap engine streams a new agent layer through it as it
// compresses, so compression and upload overlap. ggcr's stream.Layer does
// the same for its own gzip stream, but it cannot also write the bytes to
// jbuild's layer cache, hence this small client of the distribution
// spec's chunked upload (POST, PATCH with the streamed body, PUT ?digest=),
// on ggcr's authenticating transport.
type BlobStreamer interface {
	// StartBlob starts an upload. sizeHint is the size of the data the
	// blob is made from, before compression (0: unknown); see streamAtOnce.
	StartBlob(ctx context.Context, sizeHint int64) (BlobUpload, error)
}

var _ BlobStreamer = (*registryStore)(nil)

var errUploadAborted = errors.New("upload aborted")

// StartBlob implements BlobStreamer. It returns at once: the upload
// session (a prepared one, or a POST of its own) is awaited by the request
// that sends the body, so the caller compresses into the queue meanwhile
// instead of waiting on the registry. A session that cannot be opened
// fails the upload like any other request (Commit says why).
func (s *registryStore) StartBlob(ctx context.Context, sizeHint int64) (BlobUpload, error) {
	chunks := make(chan []byte, uploadQueue)
	u := &blobUpload{ctx: ctx, done: make(chan patchResult, 1),
		chunks: chunks, aborted: make(chan struct{}), store: s, progress: s.opts.Progress}
	body := &chunkBody{chunks: chunks, aborted: u.aborted}
	go func() {
		sess, err := s.session(ctx)
		if err != nil {
			body.Close()
			u.done <- patchResult{err: fmt.Errorf("opening an upload session: %w", err)}
			return
		}
		u.client = sess.client
		if sizeHint <= streamAtOnce {
			head, whole := gatherSmall(chunks, u.aborted)
			if whole {
				u.putWhole(sess, head)
				return
			}
			body.pending = head
		}
		u.patch(sess.loc, body)
	}()
	return u, nil
}

// smallBlob is the most a streamed blob may hold to go up in one request.
// A settings layer (a few KB) streamed like the agent layer would cost a
// PATCH and then the PUT that commits it: sent whole, it is the PUT alone,
// as putSmallBlob sends a config. When the agent layer is already in the
// registry (CI wrapping each new build), the settings layer and the config
// are all that goes up before the manifest, so on a registry across a
// network this is one round trip less before the wrap ends. On loopback
// the bench shows no difference (2026-12-07: c 45-49 ms either way).
const smallBlob = 1 << 20

// streamAtOnce is the sizeHint above which a blob's PATCH starts with its
// first bytes instead of after smallBlob of them: its data would have to
// compress more than 8 to 1 to end within smallBlob, which an agent (mostly
// jars, already deflated) never does, so gathering would only hold the
// bytes back while the registry waits (a 20 MB agent: its first MB is
// ready 3-4 ms after the session, on this bench's loopback registry). A
// blob that ends small anyway still goes up, as a PATCH and the commit.
const streamAtOnce = 8 * smallBlob

// gatherSmall reads the queue until it ends (whole: the blob is head) or
// holds more than smallBlob bytes (head is the start of a blob that goes
// up in a PATCH). The queue ends before Commit reads the digest it needs.
func gatherSmall(chunks <-chan []byte, aborted <-chan struct{}) (head [][]byte, whole bool) {
	n := 0
	for n <= smallBlob {
		select {
		case c, ok := <-chunks:
			if !ok {
				return head, true
			}
			head = append(head, c)
			n += len(c)
		case <-aborted:
			return head, false // the PATCH body fails at once
		}
	}
	return head, false
}

// putWhole sends a blob that ended within smallBlob as one monolithic PUT,
// under the digest Commit gave, and tells Commit it is done.
func (u *blobUpload) putWhole(sess *blobSession, head [][]byte) {
	select {
	case <-u.aborted:
		u.done <- patchResult{err: errUploadAborted}
		return
	default:
	}
	var data []byte
	for _, c := range head {
		data = append(data, c...)
		putChunk(c)
	}
	err := putMonolithic(u.ctx, sess, u.digest, data)
	u.done <- patchResult{err: err, committed: err == nil}
}

// uploadQueue is how many written chunks may wait for the network: the
// producer (compression) then never waits on a slow registry round trip,
// and the registry never waits on a compression stall, up to this much.
const uploadQueue = 256

type patchResult struct {
	next *url.URL
	err  error
	// committed: the blob went up whole and the registry took it
	// (putWhole); there is nothing left to commit.
	committed bool
}

type blobUpload struct {
	ctx context.Context
	// client is set once the session is open, before done receives.
	client  *http.Client
	done    chan patchResult
	chunks  chan []byte
	aborted chan struct{} // closed by Abort: the PATCH body fails
	closed  bool
	// store records blobs in flight and the ones the registry confirmed.
	store *registryStore
	// digest is what Commit commits; set before the queue ends, so a
	// blob sent whole (putWhole) is sent under it.
	digest v1.Hash
	// progress, when set, gets the running byte count (Total 0: the size
	// is not known while the blob is still being made). Every upload ends
	// before the store's Put, which closes the channel.
	progress chan<- v1.Update
	written  int64
	reported int64
}

// chunkSize is the capacity of pooled chunk buffers: compressed layer
// writes are at most this big in practice (larger ones get their own).
const chunkSize = 64 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

// getChunk copies p into a pooled buffer: the queue holds copies because
// the writer reuses p, and 20 MB of one-off copies per layer would keep the
// garbage collector busy while the upload runs.
func getChunk(p []byte) []byte {
	if len(p) > chunkSize {
		return append([]byte(nil), p...)
	}
	bp := chunkPool.Get().(*[]byte)
	return append((*bp)[:0], p...)
}

func putChunk(c []byte) {
	if cap(c) == chunkSize {
		c = c[:0]
		chunkPool.Put(&c)
	}
}

// chunkBody is the PATCH body: the queued chunks, in order, until the
// queue is closed. It implements io.WriterTo, so net/http writes each
// chunk straight to the connection (no pipe copy, half the writes). Once
// the request is over (Close), whatever is still queued is drained so the
// producer never blocks on a failed upload.
type chunkBody struct {
	// pending are chunks taken from the queue before the PATCH started
	// (gatherSmall): they are sent first.
	pending [][]byte
	chunks  <-chan []byte
	aborted <-chan struct{}
	cur     []byte // the rest of the chunk Read is in
	buf     []byte // that chunk, to recycle
	once    sync.Once
}

func (b *chunkBody) next() ([]byte, error) {
	select {
	case <-b.aborted:
		return nil, errUploadAborted
	default:
	}
	if len(b.pending) > 0 {
		c := b.pending[0]
		b.pending = b.pending[1:]
		return c, nil
	}
	select {
	case c, ok := <-b.chunks:
		if !ok {
			return nil, io.EOF
		}
		return c, nil
	case <-b.aborted:
		return nil, errUploadAborted
	}
}

func (b *chunkBody) Read(p []byte) (int, error) {
	if len(b.cur) == 0 {
		if b.buf != nil {
			putChunk(b.buf)
			b.buf = nil
		}
		c, err := b.next()
		if err != nil {
			return 0, err
		}
		b.buf, b.cur = c, c
	}
	n := copy(p, b.cur)
	b.cur = b.cur[n:]
	return n, nil
}

func (b *chunkBody) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if len(b.cur) > 0 {
		n, err := w.Write(b.cur)
		total += int64(n)
		b.cur = nil
		if err != nil {
			return total, err
		}
	}
	for {
		c, err := b.next()
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		n, err := w.Write(c)
		putChunk(c)
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
}

func (b *chunkBody) Close() error {
	b.once.Do(func() {
		go func() {
			for c := range b.chunks {
				putChunk(c)
			}
		}()
	})
	return nil
}

// finish closes the queue: the body ends after the last chunk.
func (u *blobUpload) finish() {
	if !u.closed {
		u.closed = true
		close(u.chunks)
	}
}

// patch sends the queued chunks as one PATCH body.
func (u *blobUpload) patch(loc *url.URL, body *chunkBody) {
	res := patchResult{}
	defer func() {
		// Drain the queue whatever happened to the request.
		body.Close()
		u.done <- res
	}()
	req, err := http.NewRequestWithContext(u.ctx, http.MethodPatch, loc.String(), body)
	if err != nil {
		res.err = err
		return
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := u.client.Do(req)
	if err != nil {
		res.err = err
		return
	}
	defer resp.Body.Close()
	if res.err = transport.CheckError(resp, http.StatusAccepted, http.StatusNoContent, http.StatusCreated); res.err != nil {
		return
	}
	res.next, res.err = location(resp)
}

// Write queues a copy of p; it blocks only when the queue is full. A
// failed request does not block it either (the body drains the queue), and
// the failure is reported by Commit.
func (u *blobUpload) Write(p []byte) (int, error) {
	u.chunks <- getChunk(p)
	u.written += int64(len(p))
	if u.progress != nil && u.written-u.reported >= 1<<20 {
		u.reported = u.written
		select {
		case u.progress <- v1.Update{Complete: u.written}:
		default: // never slow the upload down for the display
		}
	}
	return len(p), nil
}

func (u *blobUpload) Commit(digest v1.Hash) error {
	u.digest = digest
	u.finish()
	res := <-u.done
	if res.err != nil {
		return fmt.Errorf("streaming blob upload: %w", res.err)
	}
	if res.committed {
		u.store.markUploaded(digest)
		logs.Progress.Printf("pushed blob: %s (%d bytes, in one request)", digest, u.written)
		return nil
	}
	q := res.next.Query()
	q.Set("digest", digest.String())
	res.next.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(u.ctx, http.MethodPut, res.next.String(), nil)
	if err != nil {
		return err
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return fmt.Errorf("committing blob %s: %w", digest, err)
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusCreated); err != nil {
		return err
	}
	u.store.markUploaded(digest)
	logs.Progress.Printf("pushed blob: %s (%d bytes, streamed while compressing)", digest, u.written)
	return nil
}

// Repository names the repository the blob goes to, so the layer can be
// mounted from there into other repositories of the registry.
func (u *blobUpload) Repository() string { return u.store.ref.Registry.Context().Name() }

func (u *blobUpload) Finish(digest v1.Hash) {
	done := u.store.startPending(digest)
	go func() {
		defer done()
		if err := u.Commit(digest); err != nil {
			logs.Warn.Printf("streamed upload of %s failed (%v); it will be uploaded again", digest, err)
		}
	}()
}

func (u *blobUpload) Abort() {
	close(u.aborted) // the body fails, so the registry discards the upload
	u.finish()
	<-u.done
}

// location resolves the Location header of an upload response against the
// request URL (registries may answer with a relative path).
func location(resp *http.Response) (*url.URL, error) {
	l := resp.Header.Get("Location")
	if l == "" {
		return nil, fmt.Errorf("%s %s: registry sent no Location for the upload", resp.Request.Method, resp.Request.URL.Redacted())
	}
	return resp.Request.URL.Parse(l)
}
