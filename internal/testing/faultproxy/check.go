package faultproxy

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// State is what a tag named before an operation: nothing, or a manifest.
type State struct {
	Exists bool
	Digest v1.Hash
}

func (s State) String() string {
	if !s.Exists {
		return "absent"
	}
	return s.Digest.String()
}

// Snapshot reads what ref names, straight from the registry (never
// through a proxy).
func Snapshot(ref string) (State, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return State{}, err
	}
	desc, err := remote.Head(r)
	if err != nil {
		if notFound(err) {
			return State{}, nil
		}
		return State{}, fmt.Errorf("reading %s: %w", ref, err)
	}
	return State{Exists: true, Digest: desc.Digest}, nil
}

func notFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// CheckConsistent checks the guarantee of every write under faults: ref
// names what it named before, or a complete image (or index) whose every
// manifest and blob the registry holds. It returns the state found.
//
// What it can catch of jbuild's own doing is the tag: gone after a failed
// write (a target removed, or replaced and then lost), or moved to a
// manifest the registry cannot serve (an index whose platform manifest is
// missing, on a registry that takes such an index). The HEAD of every
// blob (complete) cannot fail against the test registries: distribution
// and testenv's in-process registry both refuse an image manifest whose
// config or layers they do not hold, so a partial image never gets a tag,
// whatever order jbuild pushes in. Those HEADs stay as a guard against a
// registry that skips that check; a test that must catch a missing blob
// cannot count on them failing here: what jbuild controls is the tag, the
// last thing it writes.
func CheckConsistent(ref string, before State) (State, error) {
	now, err := Snapshot(ref)
	if err != nil {
		return now, err
	}
	if now == before {
		return now, nil
	}
	if !now.Exists {
		return now, fmt.Errorf("%s was %s and is now absent: a failed write removed the target", ref, before)
	}
	r, _ := name.ParseReference(ref)
	if err := complete(r.Context(), r.Context().Digest(now.Digest.String())); err != nil {
		return now, fmt.Errorf("%s moved from %s to %s, which is a partial target: %w", ref, before, now.Digest, err)
	}
	return now, nil
}

// complete reads every manifest ref references and HEADs every blob. The
// blob HEADs cannot fail against a registry that verifies image manifests
// on PUT (the test registries do): see CheckConsistent.
func complete(repo name.Repository, ref name.Digest) error {
	desc, err := remote.Get(ref)
	if err != nil {
		return fmt.Errorf("manifest %s: %w", ref.DigestStr(), err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return err
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return err
		}
		for _, m := range im.Manifests {
			if err := complete(repo, repo.Digest(m.Digest.String())); err != nil {
				return err
			}
		}
		return nil
	}
	img, err := desc.Image()
	if err != nil {
		return err
	}
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	blobs := []v1.Descriptor{m.Config}
	blobs = append(blobs, m.Layers...)
	for _, b := range blobs {
		if err := headBlob(repo, b.Digest); err != nil {
			return err
		}
	}
	return nil
}

func headBlob(repo name.Repository, h v1.Hash) error {
	u := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", repo.Registry.Scheme(), repo.RegistryStr(), repo.RepositoryStr(), h)
	resp, err := http.Head(u)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("blob %s: HEAD answered %d: the manifest references a blob the registry does not hold", h, resp.StatusCode)
	}
	return nil
}
