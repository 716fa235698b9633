// Package daemonbench measures `jbuild wrap docker-daemon:…` against the
// classic `docker build` (and the daemon's BuildKit) of the hand-written
// Dockerfile that does the same job (FROM the image, COPY the agent, ENV
// JAVA_TOOL_OPTIONS), on one dockerd, in one run (issue 14, item 2). It is a
// test so that it gets the test daemons: run it with
//
//	JBUILD_DAEMON_BENCH=1 go test ./internal/testing/daemonbench -run TestDaemonWrapVsDockerBuild -v
//
// (JBUILD_DAEMON_BENCH=current for the dockerd 28.5 testenv builds). It
// prints the medians and the ratios; the target (≤ 1.5x the classic
// build) lives with the bench, not in this test.
package daemonbench
