package main

// Memory: the peak RSS of one `jbuild wrap` of a 2 GB image (-mem-mb) on
// every store: registry, OCI layout, oci-archive, docker-archive,
// containerd and docker-daemon, each from a cold jbuild cache. The image is
// the worst case for reading: USER app (a name, in /etc/passwd of the
// bottom layer) under 8 layers of 256 MB of random bytes whose history is
// RUN-like, so jbuild must read every layer, newest first, to find the user.
// The figure is the jbuild process's peak RSS as `/usr/bin/time -v` prints
// it ("Maximum resident set size"; see measured for why not this process's
// wait4). Target:
// <= 100 MB on each store, printed, not enforced. Measured once per store,
// after the timed runs.

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

const memLimit = 100 << 20

type memResult struct {
	store string
	rss   int64
	d     time.Duration
	err   string // why there is no figure
}

// memory prepares the image in every store (not timed) and wraps it once
// on each.
func (b *bench) memory() error {
	dir := filepath.Join(b.tmp, "mem")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	const layerMB = 256
	layers := max(1, b.opts.memMB/layerMB)
	logf("memory: building a %d MB image (%d layers, USER app) and writing it to every store", layers*layerMB, layers)
	rootfs, err := sampleimage.RootFS()
	if err != nil {
		return err
	}
	img, err := testenv.RandomImage(testenv.Spec{
		Base:      []v1.Layer{rootfs},
		Layers:    layers,
		LayerSize: layerMB << 20,
		Config: func(c *v1.ConfigFile) {
			c.Config = sampleimage.JavaConfig().Config
			c.Config.User = sampleimage.AppUser
		},
	})
	if err != nil {
		return err
	}
	const (
		ctrdRef = "docker.io/library/bench-mem:1"
		tag     = "bench-mem:1"
	)
	lay := filepath.Join(dir, "layout")
	if err := writeLayout(lay, img, map[string]string{
		sampleimage.RefNameAnnotation: "mem",
		"io.containerd.image.name":    ctrdRef,
	}); err != nil {
		return err
	}
	img = nil // the layout's copy from here on: the random layers' memory goes
	p, err := layout.FromPath(lay)
	if err != nil {
		return err
	}
	ix, err := p.ImageIndex()
	if err != nil {
		return err
	}
	im, err := ix.IndexManifest()
	if err != nil {
		return err
	}
	limg, err := p.Image(im.Manifests[0].Digest)
	if err != nil {
		return err
	}
	ociTar := filepath.Join(dir, "oci.tar")
	if err := tarDirTo(lay, ociTar); err != nil {
		return err
	}
	dockerTar := filepath.Join(dir, "docker.tar")
	t, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	if err := tarball.WriteToFile(dockerTar, t, limg); err != nil {
		return err
	}
	regRef := b.reg + "/mem:1"
	if err := writeImage(regRef, limg); err != nil {
		return err
	}

	type store struct {
		name string
		args []string
		env  []string
		prep func() error
	}
	daemon := func(f func() error) func() error {
		return func() error {
			if !b.haveDaemon() {
				return fmt.Errorf("no daemon: %s", b.ctrd.skipped)
			}
			return f()
		}
	}
	stores := []store{
		{name: "registry", args: []string{regRef, "-t", regRef + "-jennifer"}},
		{name: "oci layout", args: []string{"oci:" + lay + ":mem", "-t", "oci:" + lay + ":mem-jennifer"}},
		{name: "oci-archive", args: []string{"oci-archive:" + ociTar + ":mem", "-t", "oci-archive:" + filepath.Join(dir, "oci-out.tar") + ":mem-jennifer"}},
		{name: "docker-archive", args: []string{"docker-archive:" + dockerTar + ":" + tag, "-t", "docker-archive:" + filepath.Join(dir, "docker-out.tar") + ":" + tag + "-jennifer"}},
		{name: "containerd", args: []string{"containerd:bench-mem:1", "-t", "containerd:bench-mem:1-jennifer",
			"--containerd-address", b.ctrd.addr, "--containerd-namespace", ctrdNS},
			prep: daemon(func() error { return ctrdImport(b.ctrd.addr, ctrdRef, ociTar) })},
		{name: "docker-daemon", args: []string{"docker-daemon:" + tag, "-t", "docker-daemon:" + tag + "-jennifer"},
			env:  []string{"DOCKER_HOST=" + b.ctrd.dockerHost},
			prep: daemon(func() error { return dockerLoad(b.ctrd.dockerHost, dockerTar) })},
	}
	for k, s := range stores {
		r := memResult{store: s.name}
		if s.prep != nil {
			if err := s.prep(); err != nil {
				r.err = err.Error()
				b.mem = append(b.mem, r)
				logf("memory: %s: %v", s.name, err)
				continue
			}
		}
		if err := b.agent.setNonce(fmt.Sprintf("mem-%d", k)); err != nil {
			return err
		}
		args := append([]string{"wrap"}, s.args...)
		args = append(args, "--agent", b.agent.dir, "--server-address", "127.0.0.1", "-q", "--force")
		env := append([]string{"XDG_CACHE_HOME=" + filepath.Join(dir, fmt.Sprintf("cache-%d", k))}, s.env...)
		logf("memory: wrapping on %s", s.name)
		r.d, r.rss, err = b.measured(true, env, b.opts.jbuild, args...)
		if err != nil {
			r.err = err.Error()
			logf("memory: %s: %v", s.name, err)
		} else {
			logf("memory: %s: peak RSS %.1f MB in %s", s.name, float64(r.rss)/(1<<20), secs(r.d))
		}
		b.mem = append(b.mem, r)
	}
	return nil
}
