// Package verify checks that an image is a sound monitored variant, from
// the image alone: jbuild's labels, the agent files and their owners and
// modes against the image's own user, the environment the profile sets, and
// (when the base can be found) that everything else in the config is the
// base's. `jbuild verify --run` adds a run of the image (package runcheck).
package verify
