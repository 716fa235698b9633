// Package wrapfiles wraps the images of Kubernetes manifests: the work of
// `jbuild wrap -f FILE|DIR|- [--kustomize]`. It is to manifests what ko's
// resolve package is to ko's YAML: walk the documents, build each image
// they reference once, concurrently, and rewrite the references.
//
// A run goes in steps, each finished before the next starts:
//
//   - Read parses every manifest and lists each distinct image value once,
//     in order of appearance;
//   - Manifests.Wrap reads each image and decides its target (tag +
//     "-jennifer" in the same repository, or for a jbuild output its own
//     tag: an agent upgrade in place), refuses two different images that
//     would share one target, and wraps each distinct target once, images
//     that cannot be monitored being left alone with a note;
//   - only then PrintDryRun, PrintKustomize or Rewrite use the results, so
//     a failed wrap leaves every manifest as it was. Rewrite replaces each
//     changed file whole (internal/atomicfile), all of them written aside
//     before the first is renamed into place.
//
// Images are read and wrapped several at once (at most min(4, GOMAXPROCS)),
// through a Wrapper: cmd/jbuild's opens stores with internal/transport and
// wraps with internal/wrap, tests use fakes. What each image prints is kept
// apart and printed in input order, and the error returned is the first
// one in input order, so output and errors are those of a run one image at
// a time whatever the timing; a failure cancels the images after it.
package wrapfiles
