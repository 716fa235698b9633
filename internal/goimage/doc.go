// Package goimage builds a static Go binary into a multi-platform image,
// on BuildKit or in memory without a daemon, with the project's own code:
// no Docker, no Dockerfile, no base image.
//
// What an image holds is data, a Spec: the main package, the files of its
// single layer (directories, the binary, fixed files, the build host's CA
// bundle; each with mode and owner) and the config (user, command,
// environment, working directory, labels). There are two. Frontend is the
// `# syntax=` image of the jbuild BuildKit frontend: /bin/jbuild-frontend
// as the entrypoint, with the labels BuildKit reads from frontend images
// (moby.buildkit.frontend.network.none=true and moby.buildkit.frontend.caps),
// like BuildKit's own Dockerfile frontend image. Self is jbuild's own image,
// the CI templates' step image:
//
//	/usr/local/bin/jbuild               root:root 0755, the entrypoint (CMD --help)
//	/etc/passwd, /etc/group             root and jbuild (65532), no login shell
//	/etc/ssl/certs/ca-certificates.crt  the build host's CA bundle, for registry TLS
//	/home/jbuild                        65532:65532 0755 (HOME, WORKDIR: Docker config, caches)
//	/tmp                                root:root 1777
//
// run as USER 65532:65532, with the OCI title, description, version, source,
// url, created and revision labels.
//
// Either image is built either way. Both first cross-compile the package
// once per platform on this host (CGO_ENABLED=0, -trimpath,
// -buildvcs=false, stripped; Go needs no emulation, and the Go build cache
// makes a rebuild after a small change mostly a link) and stage the files
// in a temporary directory. Spec.Build then writes each platform's layer
// as a tar and assembles the OCI image index in memory
// (go-containerregistry), to push with remote.WriteIndex or write as an
// OCI layout. Spec.Push sends the staged directory to a BuildKit daemon as
// one local context, has it make each platform's root file system with
// one LLB file op on scratch (Spec.State), hands it each config
// (Spec.Config) and has the image exporter push the index. File times and
// the created time are fixed (SOURCE_DATE_EPOCH, else the Unix epoch), so
// in memory the same source, Go toolchain and version give the same index
// digest.
//
// cmd/mkimage is the command behind `make frontend-image` (Frontend, in
// memory, pushed from here) and `make jbuild-image` (Self, on the BuildKit
// daemon at BUILDKIT_HOST); testenv.FrontendImage and the bench push
// Frontend images to a loopback registry.
//
// Why not ko (github.com/google/ko) as a library: its builder puts the
// binary at /ko-app/NAME and makes that the entrypoint, adds a kodata
// layer, KO_DATA_PATH and a PATH entry, and assembles images with
// go-containerregistry only, so it gives neither the frontend's
// /bin/jbuild-frontend nor a build on BuildKit; and although ko v0.19.1
// leaves the pinned buildkit, go-containerregistry, containerd and docker
// modules as they are, it brings in sigstore's cosign, kind and the Azure
// and ECR credential helpers and raises other indirect modules
// (go-oidc, pkcs7 and others) for what are a go build, a tar and a
// config here.
package goimage
