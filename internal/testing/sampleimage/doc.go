// Package sampleimage builds a small but real-looking Java application image
// (a Debian-like rootfs with /etc/passwd and /etc/group, a JVM launcher
// placeholder under JAVA_HOME, the glibc loader, /app/app.jar, and a config
// as a Java Dockerfile would leave it: JAVA_HOME, JAVA_TOOL_OPTIONS, a java
// ENTRYPOINT, a non-root USER) without a daemon or network.
//
// `make demo` wraps it, the benchmark uses its rootfs and config, and tests
// use it as a source image. The image is deterministic: the same bytes, so
// the same digest, on every run and machine built with the same Go version.
// Its files are placeholders: it does not run.
package sampleimage
