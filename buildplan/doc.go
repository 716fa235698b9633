// Package buildplan decides, without any I/O of its own, every change jbuild
// makes to an image: which runtime the image runs (and the evidence), which
// agent profile applies, which files the agent layer holds with which owner
// and mode, how the environment merges with the image's own values, and which
// labels record the result. Both engines (the registry/OCI engine behind
// `jbuild wrap` and the BuildKit frontend) apply the same Plan, so they cannot
// drift apart. The package is golden-file tested.
//
// Its messages name the user's options (Option) only through the Namer of
// Options.Names, so each interface words them its own way: the CLI as its
// flags ("--server-port 70000: ...", "pass --runtime java"), the frontend
// as its build args ("build-arg JENNIFER_SERVER_PORT 70000: ..."). The
// golden files show the Neutral words ("server-port", "set option
// runtime to java").
package buildplan
