package wrap

import (
	"context"
	"errors"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// inDaemon runs f on in-daemon stores when src and dst are images of the
// same Docker daemon (transport.InDaemon: the result is built from the
// base the daemon holds, and only the new layers are loaded), else, or
// when an image cannot be read that way, on src and dst as they are (the
// daemon saves and loads whole images). dst may be nil.
func inDaemon[T any](ctx context.Context, src, dst transport.Store, opts *Options, f func(src, dst transport.Store) (T, error)) (T, error) {
	isrc, idst, ok := transport.InDaemon(ctx, src, dst)
	if !ok {
		return f(src, dst)
	}
	// Closing them removes the containers made to read files; the client
	// they share with src and dst reconnects if used again.
	defer func() {
		isrc.Close()
		if idst != nil {
			idst.Close()
		}
	}()
	res, err := f(isrc, idst)
	if errors.Is(err, transport.ErrNotInDaemon) {
		opts.notef("%v; exporting the image from the daemon instead", err)
		return f(src, dst)
	}
	return res, err
}

// filesImage is an image that gives its files itself (one read in the
// Docker daemon's in-daemon mode: through a container of it).
type filesImage interface {
	Files(label string) buildplan.ImageFS
}
