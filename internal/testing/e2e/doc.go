// Package e2e proves, against real daemons and real language runtimes, that
// an image wrapped by jbuild runs with its agent attached the way a
// restricted Kubernetes pod runs it.
//
// The helpers build what no public registry can give here: runtime base
// images from Debian packages (debootstrap, cached under
// TestCacheDir()/images), a small HTTP app per runtime, and test agents
// that behave like JENNIFER's (they read the config jbuild writes and open
// a TCP connection to the data server). The tests wrap the app images with
// jbuild's engine and run them with internal/runcheck in Docker and in
// containerd. They are skipped with -short.
package e2e
