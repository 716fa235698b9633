// Package frontendimage builds the jbuild BuildKit frontend image with the
// project's own code: no Docker, no Dockerfile, no base image.
//
// Build cross-compiles ./cmd/jbuild-frontend (CGO_ENABLED=0, -trimpath,
// stripped) once per platform and assembles an OCI image index with one
// image per platform. Each image is a single layer holding
// /bin/jbuild-frontend, with the entrypoint and the labels BuildKit reads
// from frontend images (moby.buildkit.frontend.network.none,
// moby.buildkit.frontend.caps), like BuildKit's own Dockerfile frontend
// image. Layer times and the config's created time are fixed
// (SOURCE_DATE_EPOCH, else the Unix epoch), so the same source, Go
// toolchain and version string give the same index digest.
//
// Compiled packages are cached by the Go build cache, so a rebuild after a
// small change mostly links; there is no separate binary cache.
//
// cmd/mkfrontend is the command behind `make frontend-image
// FRONTEND_REF=<ref>`; testenv.FrontendImage pushes a test image to the
// loopback registry of the integration tests.
package frontendimage
