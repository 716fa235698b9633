// Package imagefs gives the merged root filesystem of a v1.Image the small
// read-only interface buildplan detects runtimes with (buildplan.ImageFS).
//
// Layers are read only on the first question, because reading them means
// downloading them: a wrap whose facts are all in the image config never
// touches a layer. When they are read, every layer is streamed once, bottom
// to top, applying whiteouts as a container runtime would; only headers are
// kept, plus the contents of the few small files detection reads.
package imagefs
