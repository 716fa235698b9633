package buildplan

import (
	"fmt"
	"strings"
)

// runtimeMounts are directories a container does not get from its image:
// whatever the image has there is hidden by a mount at run time, so an
// agent installed there is gone when the container starts (and the
// activation env then points at nothing: the JVM refuses to start on a
// missing -javaagent jar).
//   - /proc, /sys, /dev: procfs, sysfs and a tmpfs of device nodes, in
//     every OCI runtime.
//   - /tmp: a tmpfs under Podman and systemd-nspawn, with `docker run
//     --tmpfs /tmp`, and a Kubernetes emptyDir whenever the root file system
//     is read-only (the usual remedy, and what Plan.Volumes asks for).
//   - /run and /var/run (a symlink to it in most base images): a tmpfs
//     under Podman and systemd, and Docker and Kubernetes mount secrets and
//     the service account token below it.
var runtimeMounts = []struct{ dir, why string }{
	{"/proc", "where the container runtime mounts procfs"},
	{"/sys", "where the container runtime mounts sysfs"},
	{"/dev", "where the container runtime mounts its own device nodes"},
	{"/tmp", "a tmpfs or an emptyDir at run time under many runtimes (Podman, docker run --tmpfs, Kubernetes with a read-only root file system)"},
	{"/run", "a tmpfs at run time under many runtimes (Podman, systemd), where Docker and Kubernetes also mount secrets"},
	{"/var/run", "/run in most images: a tmpfs at run time under many runtimes"},
}

// installDirProblem says why dir cannot hold an agent, or "" when it can.
// dir is clean and absolute.
func installDirProblem(dir string) string {
	if dir == "/" {
		return "the agent would be installed over the image's root folder"
	}
	for _, m := range runtimeMounts {
		switch {
		case dir == m.dir:
			return fmt.Sprintf("%s is %s; a mount there hides the agent's files and the agent is gone when the container starts", m.dir, m.why)
		case strings.HasPrefix(dir, m.dir+"/"):
			return fmt.Sprintf("it is below %s, %s; a mount there hides the agent's files and the agent is gone when the container starts", m.dir, m.why)
		}
	}
	return ""
}
