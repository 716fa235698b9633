// Package agentlayer writes the agent layer of a monitored image: the
// buildplan.LayerEntry list of a Plan turned into one gzip-compressed tar
// layer that is byte-identical for the same entries, contents and epoch on
// every run and every machine. Identical bytes mean identical digests, so a
// registry stores the agent layer once and a node pulls it once no matter
// how many application images carry it.
//
// Compressing is the only expensive step, so the compressed layer is cached
// on disk under a key derived from the entries (see Build): wrapping a
// hundred images with the same agent compresses once.
package agentlayer
