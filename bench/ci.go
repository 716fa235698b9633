package main

import (
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
)

// The CI scenario: an image as a CI build makes one. The base is the sample
// Java rootfs plus layers made by RUN, with `USER app` (a name: its uid is in
// the base's /etc/passwd); each run puts a new application layer on top
// with the history a Dockerfile's COPY leaves. jbuild wraps it with a new
// agent, and crane does the same job by hand on the same image.
const (
	sCI      = "e1"
	sCICrane = "e2"
)

// pushCIBase pushes the CI base image to ref.
func pushCIBase(ref string, size int64, layers int) error {
	rootfs, err := sampleimage.RootFS()
	if err != nil {
		return err
	}
	adds := []mutate.Addendum{{Layer: rootfs, History: v1.History{CreatedBy: "/bin/sh -c #(nop) ADD file:rootfs in / "}}}
	for i := 0; i < layers; i++ {
		l, err := random.Layer(size/int64(layers), types.DockerLayer)
		if err != nil {
			return err
		}
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: fmt.Sprintf("RUN install part %d # buildkit", i+1)}})
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config = sampleimage.JavaConfig().Config
	cf.Config.User = sampleimage.AppUser
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	return writeImage(ref, img)
}

// ciBuild pushes the CI base plus a new application layer, as run i of a
// CI pipeline builds it, and returns its reference.
func (b *bench) ciBuild(i int) (string, error) {
	return b.appBuild(b.ciBase, fmt.Sprintf("%s/ci:r%d", b.reg, i+2))
}

// appBuild pushes base plus a new application layer (-app-mb) to ref, with
// the history a Dockerfile's COPY leaves, and returns ref.
func (b *bench) appBuild(baseRef, ref string) (string, error) {
	r, err := name.ParseReference(baseRef, name.Insecure)
	if err != nil {
		return "", err
	}
	base, err := remote.Image(r)
	if err != nil {
		return "", err
	}
	app, err := random.Layer(int64(b.opts.appMB)<<20, types.DockerLayer)
	if err != nil {
		return "", err
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: app, History: v1.History{CreatedBy: "COPY target/app.jar /app/app.jar # buildkit"}})
	if err != nil {
		return "", err
	}
	return ref, writeImage(ref, img)
}

// ci runs the CI scenario once: jbuild, then crane, on a new build.
func (b *bench) ci(i int, record func(string, time.Duration)) error {
	src, err := b.ciBuild(i)
	if err != nil {
		return err
	}
	return b.jbuildAndCrane(src, fmt.Sprintf("e-%d", i), sCI, sCICrane, record)
}

// jbuildAndCrane wraps src with a new agent (nonce) with jbuild, then does
// the same by hand with crane, recording each under its key. A new agent
// for both, as in the a/b pair: each compresses and uploads its 20 MB.
func (b *bench) jbuildAndCrane(src, nonce, jbuildKey, craneKey string, record func(string, time.Duration)) error {
	if err := b.agent.setNonce(nonce); err != nil {
		return err
	}
	if b.haveJbuild {
		d, err := b.jbuild(src, src+"-jennifer")
		if err != nil {
			return err
		}
		record(jbuildKey, d)
	}
	steps, err := b.crane(src, src+"-crane")
	if err != nil {
		return err
	}
	var total time.Duration
	for _, d := range steps {
		total += d
	}
	record(craneKey, total)
	return nil
}
