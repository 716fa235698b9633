package buildplan

import (
	"strings"
	"testing"
)

// An installDir that a mount hides at run time is refused when the profile
// is read, naming the field and why.
func TestProfileInstallDir(t *testing.T) {
	for _, tt := range []struct{ dir, want string }{
		{"/opt/jennifer/agent.java", ""},
		{"/srv/apm/jennifer17", ""},
		{"/usr/local/apm", ""},
		{"/procfs-agent", ""}, // a sibling, not below /proc
		{"/devtools/agent", ""},
		{"/var/tmp/agent", ""},
		{"/runtime/agent", ""},
		{"/", `installDir: "/" cannot hold the agent: the agent would be installed over the image's root folder`},
		{"/proc", `installDir: "/proc" cannot hold the agent: /proc is where the container runtime mounts procfs`},
		{"/proc/agent", `installDir: "/proc/agent" cannot hold the agent: it is below /proc, where the container runtime mounts procfs`},
		{"/sys/agent", "below /sys, where the container runtime mounts sysfs"},
		{"/dev", "/dev is where the container runtime mounts its own device nodes"},
		{"/dev/shm/agent", "below /dev"},
		{"/tmp", "/tmp is a tmpfs or an emptyDir at run time"},
		{"/tmp/jennifer", "below /tmp"},
		{"/run", "/run is a tmpfs at run time"},
		{"/run/apm/agent", "below /run"},
		{"/var/run", "/var/run is /run in most images"},
		{"/var/run/agent", "below /var/run"},
	} {
		t.Run(tt.dir, func(t *testing.T) {
			prof := strings.Replace(minimalProfile, "installDir: /opt/test", "installDir: "+tt.dir, 1)
			_, err := ParseProfile([]byte(prof), "p.yaml")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "profile p.yaml: installDir: ") || !strings.Contains(err.Error(), "install it below /opt") {
				t.Errorf("error %v does not name installDir and where to install instead", err)
			}
		})
	}
}
