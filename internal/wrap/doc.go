// Package wrap is jbuild's registry/OCI engine: it reads a source image (or
// every platform of an index), plans each platform with buildplan, builds the
// agent layer with agentlayer, and writes the monitored variant through a
// transport.Store with the guarantees the CLI promises: the source is never
// overwritten, an existing target is replaced only when it is jbuild's own
// output of the same source (or with Force), and the tag is written last.
//
// The BuildKit frontend applies the same buildplan.Plan through LLB; this
// package is the daemonless way to apply it.
package wrap
