package transport

import (
	"context"
	"net/http"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// mountDirect asks the registry to link blob d from the repository of
// from into this store's repository: one POST (?mount=&from=), where ggcr's
// WriteLayer first asks with a HEAD whether the blob is already there. For
// `wrap -f` that HEAD is a round trip per image and layer that always says
// no (each image is its own repository; the agent layer and an identical
// settings layer were just uploaded to the first). Only on a registry that
// takes anonymous pushes (its ping answered 200 in this process): there
// the push client can mount from any repository, while behind a token a
// mount needs pull scope on the source, which only ggcr's own pusher asks
// for. It reports whether the blob was mounted; a registry that opens an
// upload session instead (202) has it cancelled, and the caller uploads.
func (s *registryStore) mountDirect(ctx context.Context, d v1.Hash, from *remote.MountableLayer) (bool, error) {
	if !s.anonymous() {
		return false, nil
	}
	c, err := s.pushClient(ctx)
	if err != nil {
		return false, err
	}
	u := s.repoURL("/blobs/uploads/")
	q := u.Query()
	q.Set("mount", d.String())
	q.Set("from", from.Reference.Context().RepositoryStr())
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return false, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusCreated:
		return true, nil
	case http.StatusAccepted:
		if loc, err := location(resp); err == nil {
			s.spareSession(&blobSession{client: c, loc: loc})
		}
		return false, nil
	}
	return false, transport.CheckError(resp, http.StatusCreated, http.StatusAccepted)
}

// anonymous reports whether this process has seen the store's registry
// answer a ping with 200: no authentication.
func (s *registryStore) anonymous() bool {
	repo := s.ref.Registry.Context()
	v, ok := pingAnswers.Load(pingKey(repo.Registry.Scheme(), repo.RegistryStr()))
	return ok && v.(pingAnswer).status == http.StatusOK
}
