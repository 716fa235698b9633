package k8s

import (
	"fmt"
	"path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// under reports whether p is dir or below it.
func under(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// writableMount finds the mount that makes dir writable: a mount at dir or
// above it, not readOnly, of a volume kind that is writable. It returns
// the mount index (-1: none) and, when the covering mount is read-only, why.
func writableMount(pod *corev1.PodSpec, c *corev1.Container, dir string) (int, string) {
	best, why := -1, ""
	for i, m := range c.VolumeMounts {
		mp := path.Clean(m.MountPath)
		if !under(dir, mp) || (best >= 0 && len(mp) <= len(path.Clean(c.VolumeMounts[best].MountPath))) {
			continue
		}
		best, why = i, ""
		if m.ReadOnly {
			why = "the mount is readOnly"
			continue
		}
		if v := volume(pod, m.Name); v != nil {
			switch {
			case v.ConfigMap != nil, v.Secret != nil, v.DownwardAPI != nil, v.Projected != nil:
				why = fmt.Sprintf("volume %s is a read-only kind (configMap, secret, downwardAPI, projected)", m.Name)
			}
		}
	}
	return best, why
}

func volume(pod *corev1.PodSpec, name string) *corev1.Volume {
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}

func readOnlyRoot(c *corev1.Container) bool {
	return c.SecurityContext != nil && c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem
}

// requiredVolumes are the directories that need a writable mount under a
// read-only root: the image's io.jbuild.volumes when it was read, else
// the profile's logs and volumes. exact is false when the profile is a
// guess (every built-in one).
func (l *containerLint) requiredVolumes() ([]string, bool) {
	if l.img != nil {
		if _, ok := l.img.Labels[buildplan.LabelVolumes]; ok || l.img.Profile != nil {
			return l.img.Volumes(), true
		}
	}
	if l.exact {
		return ProfileVolumes(l.profiles[0]), true
	}
	return nil, false
}

// checkMounts: under readOnlyRootFilesystem each agent directory needs a
// writable mount; and no mount may hide the agent's files.
func (l *containerLint) checkMounts() {
	// Mounts that hide the agent folder or its config file.
	var protect []string
	if l.exact || (l.img != nil && l.img.Profile != nil) {
		protect = append(protect, l.profiles[0].InstallDir)
	}
	if l.img != nil && l.img.Labels[buildplan.LabelConfig] != "" {
		protect = append(protect, l.img.Labels[buildplan.LabelConfig])
	}
	for i, m := range l.c.VolumeMounts {
		mp := path.Clean(m.MountPath)
		for _, p := range protect {
			if under(p, mp) {
				l.add(SeverityError, RuleHiddenFiles, fmt.Sprintf("%s.volumeMounts[%d]", l.field, i),
					fmt.Sprintf("volume %s mounted at %s hides %s from the image: the agent's files are gone in the container", m.Name, m.MountPath, p),
					fmt.Sprintf("mount it elsewhere; for the agent's writable directories mount emptyDirs exactly at %s", strings.Join(l.mustVolumes(), ", ")))
				break
			}
		}
	}
	if !readOnlyRoot(l.c) {
		return
	}
	field := l.field + ".securityContext.readOnlyRootFilesystem"
	dirs, exact := l.requiredVolumes()
	if !exact {
		// Unknown profile: accept a writable mount under any profile's
		// folder, else say which one each runtime needs.
		var options []string
		for _, p := range l.profiles {
			for _, d := range ProfileVolumes(p) {
				if i, why := writableMount(l.w.Pod, l.c, d); i >= 0 && why == "" {
					return
				}
			}
			options = append(options, fmt.Sprintf("%s: %s", p.Name, strings.Join(ProfileVolumes(p), ", ")))
		}
		l.add(SeverityWarning, RuleReadOnlyRoot, field,
			"readOnlyRootFilesystem is true and no writable volume is mounted at an agent directory; lint cannot read the image to know which it needs",
			"mount an emptyDir at the agent's writable directories ("+strings.Join(options, "; ")+"), or let lint read the image")
		return
	}
	var missing []string
	for _, d := range dirs {
		i, why := writableMount(l.w.Pod, l.c, d)
		switch {
		case i < 0:
			missing = append(missing, d)
		case why != "":
			l.add(SeverityError, RuleReadOnlyRoot, fmt.Sprintf("%s.volumeMounts[%d]", l.field, i),
				fmt.Sprintf("%s must be writable for the agent, but %s", d, why),
				fmt.Sprintf("mount an emptyDir at %s", d))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		l.add(SeverityError, RuleReadOnlyRoot, field,
			fmt.Sprintf("readOnlyRootFilesystem is true but nothing writable is mounted at %s, where the agent writes (logs, its socket): it fails to start or to log", strings.Join(missing, ", ")),
			fmt.Sprintf("add an emptyDir volume and a volumeMount at each of %s (jbuild k8s renders them)", strings.Join(missing, ", ")))
	}
}

// mustVolumes are the required dirs for messages.
func (l *containerLint) mustVolumes() []string {
	d, _ := l.requiredVolumes()
	if len(d) == 0 {
		return []string{"the agent's writable directories"}
	}
	return d
}
