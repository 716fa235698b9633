// Package transport names and moves images: it parses the references jbuild
// accepts (registry references as Docker writes them, `oci:DIR[:TAG]`,
// `oci-archive:FILE[:TAG]`) and reads and writes them through one small
// interface, Store, so the wrap engine never cares where an image lives.
// The Docker daemon, containerd and docker-archive stores slot in as further
// Store implementations.
//
// Every Store writes in the same order: blobs first, then child manifests,
// then anything kept by digest, and the tag (or the layout's index.json
// entry) last, so a failed or interrupted write never leaves a tag pointing
// at an image whose parts are missing.
package transport
