package main

// Many images (m1, mN): `jbuild wrap -f` over a manifest of N Deployments,
// one image each, all in one registry, against `jbuild wrap -f` over a
// manifest of one of them, in the same run and with a new agent each time
// (the same agent for every image of one wrap). The images are built as a
// CI makes them: each its own repository (shop/svc-K:1), the CI base of the
// e scenario (500 MB, USER app by name) plus its own application layer
// (history COPY ... /app/app.jar). The manifests are written anew before
// each wrap (wrap -f pins them to the outputs), not timed. Target: mN <=
// 4x m1; wrap -f runs min(4, CPUs) wraps at once (internal/wrapfiles).

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	sMany1 = "m1"
	sManyN = "mN"
)

type manyState struct {
	images []string // the N sources
	file1  string   // manifest of images[0]
	fileN  string   // manifest of all
}

// setupMany pushes the N images (not timed).
func (b *bench) setupMany() error {
	r, err := name.ParseReference(b.ciBase, name.Insecure)
	if err != nil {
		return err
	}
	base, err := remote.Image(r)
	if err != nil {
		return err
	}
	logf("pushing %d images of the CI base with a %d MB app layer each", b.opts.manyN, b.opts.manyAppMB)
	for k := range b.opts.manyN {
		app, err := random.Layer(int64(b.opts.manyAppMB)<<20, types.DockerLayer)
		if err != nil {
			return err
		}
		img, err := mutate.Append(base, mutate.Addendum{Layer: app, History: v1.History{CreatedBy: "COPY target/app.jar /app/app.jar # buildkit"}})
		if err != nil {
			return err
		}
		ref := fmt.Sprintf("%s/shop/svc-%02d:1", b.reg, k)
		if err := writeImage(ref, img); err != nil {
			return err
		}
		b.many.images = append(b.many.images, ref)
	}
	dir := filepath.Join(b.tmp, "many")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b.many.file1 = filepath.Join(dir, "one.yaml")
	b.many.fileN = filepath.Join(dir, "all.yaml")
	return nil
}

// deployments is a multi-document manifest with one Deployment per image.
func deployments(images []string) string {
	var sb strings.Builder
	for k, img := range images {
		if k > 0 {
			sb.WriteString("---\n")
		}
		fmt.Fprintf(&sb, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-%02d
spec:
  selector:
    matchLabels: {app: svc-%02d}
  template:
    metadata:
      labels: {app: svc-%02d}
    spec:
      containers:
      - name: app
        image: %s
`, k, k, k, img)
	}
	return sb.String()
}

func (b *bench) wrapFiles(file string) (time.Duration, error) {
	return b.timed(b.opts.jbuild, "wrap", "-f", file, "--agent", b.agent.dir,
		"--server-address", "127.0.0.1", "-q", "--force")
}

// manyOnce runs m1 then mN, each with a new agent.
func (b *bench) manyOnce(i int, record func(string, time.Duration)) error {
	for _, s := range []struct {
		key, file string
		images    []string
	}{
		{sMany1, b.many.file1, b.many.images[:1]},
		{sManyN, b.many.fileN, b.many.images},
	} {
		if err := os.WriteFile(s.file, []byte(deployments(s.images)), 0o644); err != nil {
			return err
		}
		if err := b.agent.setNonce(fmt.Sprintf("%s-%d", s.key, i)); err != nil {
			return err
		}
		d, err := b.wrapFiles(s.file)
		if err != nil {
			return err
		}
		record(s.key, d)
	}
	return nil
}

// verifyMany checks that wrap -f pinned every image of the N manifest to
// its output.
func (b *bench) verifyMany() error {
	got, err := os.ReadFile(b.many.fileN)
	if err != nil {
		return err
	}
	for _, src := range b.many.images {
		if !strings.Contains(string(got), src+"-jennifer@sha256:") {
			return fmt.Errorf("%s: %s is not pinned to %s-jennifer@sha256:...", b.many.fileN, src, src)
		}
	}
	logf("output check: %s pins %d outputs", b.many.fileN, len(b.many.images))
	return nil
}
