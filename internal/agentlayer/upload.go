package agentlayer

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// upload feeds an optional Upload and turns its failures into "not
// uploaded": the layer itself never depends on the upload succeeding.
type upload struct {
	u      Upload
	failed bool
}

func startUpload(begin func(sizeHint int64) (Upload, error), sizeHint int64) *upload {
	if begin == nil {
		return &upload{failed: true}
	}
	u, err := begin(sizeHint)
	if err != nil {
		return &upload{failed: true}
	}
	return &upload{u: u}
}

// Write never fails: a failed upload is aborted and further bytes dropped,
// so compression and the cache file carry on.
func (u *upload) Write(p []byte) (int, error) {
	if !u.failed {
		if _, err := u.u.Write(p); err != nil {
			u.abort()
		}
	}
	return len(p), nil
}

func (u *upload) abort() {
	if u.u != nil && !u.failed {
		u.u.Abort()
	}
	u.failed = true
}

func (u *upload) commit(digest v1.Hash) {
	if u.failed {
		return
	}
	u.u.Finish(digest)
}

// repository is where the upload goes, when the Upload says (an optional
// Repository() string method) and it has not failed.
func (u *upload) repository() string {
	if u.failed {
		return ""
	}
	if r, ok := u.u.(interface{ Repository() string }); ok {
		return r.Repository()
	}
	return ""
}
