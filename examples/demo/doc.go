// Command demo is `make demo`: the main job of jbuild on an embedded sample,
// with no daemon and no network. It writes the sample Java app image
// (internal/testing/sampleimage) into the OCI layout _demo/layout as app-1.0, runs
// `jbuild plan` and `jbuild wrap` on it with the sample agent bundle in
// examples/agents, and prints what changed between the two image configs and
// the files the agent layer adds.
//
//	go run ./examples/demo [-jbuild bin/jbuild] [-dir _demo]
package main
