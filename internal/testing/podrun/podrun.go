// Package podrun translates a Kubernetes pod template into a runcheck run:
// the container started the way kubelet starts it, so a test (or
// `jbuild verify --run`) can check a rendered Deployment against a real
// container runtime without a cluster.
//
// What is carried over, as kubelet applies it: the user and group
// (runAsUser/runAsGroup, container over pod), fsGroup (volumes group-owned
// by it with the setgid bit, and a supplementary group of the process),
// supplementalGroups, readOnlyRootFilesystem, allowPrivilegeEscalation and
// dropped capabilities, every emptyDir volumeMount as a writable tmpfs, and
// the container's env on top of the image's (with $(VAR) references and the
// downward API's pod fields). The readiness probe, when it is an HTTP GET,
// becomes the run's probe. The network is the host's (runcheck's way).
//
// What a run cannot reproduce is refused with the field that asks for it
// rather than silently dropped: command and args (they replace the image's
// entrypoint, which is what is under test), other volume types, envFrom,
// and env sources other than pod fields.
package podrun

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/jbuild-dev/jbuild/internal/runcheck"
)

// Pod is what the downward API tells a container about its pod.
type Pod struct {
	Name, Namespace string
	// NodeName and ServiceAccount default to "node" and "default".
	NodeName, ServiceAccount string
}

// Options are the runcheck options that run the named container of spec
// (the first container when name is empty) as kubelet would. Image is the
// container's image; callers usually replace it with the name the image has
// in the engine, and set Engine, addresses, Listener and Config.
func Options(spec *corev1.PodSpec, name string, pod Pod) (runcheck.Options, error) {
	var opts runcheck.Options
	c, err := container(spec, name)
	if err != nil {
		return opts, err
	}
	field := func(f string) string { return fmt.Sprintf("container %q: %s", c.Name, f) }
	if len(c.Command) > 0 || len(c.Args) > 0 {
		return opts, fmt.Errorf("%s: command and args are not supported: the run checks the image's own entrypoint", field("command/args"))
	}
	if c.WorkingDir != "" {
		return opts, fmt.Errorf("%s: not supported", field("workingDir"))
	}
	if len(c.EnvFrom) > 0 {
		return opts, fmt.Errorf("%s: not supported", field("envFrom"))
	}
	opts.Image = c.Image

	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	csc := c.SecurityContext
	if csc == nil {
		csc = &corev1.SecurityContext{}
	}
	uid, gid := psc.RunAsUser, psc.RunAsGroup
	if csc.RunAsUser != nil {
		uid = csc.RunAsUser
	}
	if csc.RunAsGroup != nil {
		gid = csc.RunAsGroup
	}
	switch {
	case uid != nil && gid != nil:
		opts.User = fmt.Sprintf("%d:%d", *uid, *gid)
	case uid != nil:
		// The group comes from the image's /etc/passwd, as with kubelet.
		opts.User = strconv.FormatInt(*uid, 10)
	case gid != nil:
		return opts, fmt.Errorf("%s: runAsGroup without runAsUser is not supported", field("securityContext"))
	}
	nonRoot := psc.RunAsNonRoot
	if csc.RunAsNonRoot != nil {
		nonRoot = csc.RunAsNonRoot
	}
	if nonRoot != nil && *nonRoot && uid != nil && *uid == 0 {
		return opts, fmt.Errorf("%s: runAsNonRoot with runAsUser 0: kubelet would not start it", field("securityContext"))
	}
	if psc.FSGroup != nil {
		g := int(*psc.FSGroup)
		opts.FSGroup = &g
	}
	for _, g := range psc.SupplementalGroups {
		opts.SupplementalGroups = append(opts.SupplementalGroups, int(g))
	}
	opts.ReadOnlyRoot = csc.ReadOnlyRootFilesystem != nil && *csc.ReadOnlyRootFilesystem
	opts.NoNewPrivileges = csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation
	if csc.Capabilities != nil {
		for _, d := range csc.Capabilities.Drop {
			if d == "ALL" {
				opts.DropAllCapabilities = true
			}
		}
		if len(csc.Capabilities.Add) > 0 {
			return opts, fmt.Errorf("%s: added capabilities are not supported", field("securityContext.capabilities.add"))
		}
	}

	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			return opts, fmt.Errorf("%s: volume %q is not defined in the pod", field("volumeMounts"), m.Name)
		}
		if v.EmptyDir == nil {
			return opts, fmt.Errorf("%s: volume %q is not an emptyDir: only emptyDirs are supported", field("volumeMounts"), m.Name)
		}
		if m.SubPath != "" || m.SubPathExpr != "" || m.ReadOnly {
			return opts, fmt.Errorf("%s: %q: subPath and readOnly mounts are not supported", field("volumeMounts"), m.Name)
		}
		opts.Volumes = append(opts.Volumes, m.MountPath)
	}

	if opts.Env, err = env(c, pod); err != nil {
		return opts, fmt.Errorf("%s: %w", field("env"), err)
	}
	if opts.ProbeURL, err = probeURL(c); err != nil {
		return opts, fmt.Errorf("%s: %w", field("readinessProbe"), err)
	}
	return opts, nil
}

func container(spec *corev1.PodSpec, name string) (*corev1.Container, error) {
	if spec == nil || len(spec.Containers) == 0 {
		return nil, fmt.Errorf("the pod has no containers")
	}
	if name == "" {
		return &spec.Containers[0], nil
	}
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i], nil
		}
	}
	return nil, fmt.Errorf("the pod has no container %q", name)
}

// env is the container's env as kubelet computes it: in order, each value
// expanded against the variables defined before it, pod fields resolved.
func env(c *corev1.Container, pod Pod) ([]string, error) {
	if pod.NodeName == "" {
		pod.NodeName = "node"
	}
	if pod.ServiceAccount == "" {
		pod.ServiceAccount = "default"
	}
	defined := map[string]string{}
	var out []string
	for _, e := range c.Env {
		val := e.Value
		if e.ValueFrom != nil {
			ref := e.ValueFrom.FieldRef
			if ref == nil {
				return nil, fmt.Errorf("%s: only valueFrom.fieldRef is supported", e.Name)
			}
			switch ref.FieldPath {
			case "metadata.name":
				val = pod.Name
			case "metadata.namespace":
				val = pod.Namespace
			case "spec.nodeName":
				val = pod.NodeName
			case "spec.serviceAccountName":
				val = pod.ServiceAccount
			case "status.podIP", "status.hostIP":
				val = "127.0.0.1" // host network
			default:
				return nil, fmt.Errorf("%s: fieldRef %q is not supported", e.Name, ref.FieldPath)
			}
		} else {
			val = expand(val, defined)
		}
		defined[e.Name] = val
		out = append(out, e.Name+"="+val)
	}
	return out, nil
}

// expand replaces $(NAME) with NAME's value when defined, keeps unknown
// references as written, and turns $$ into $ (Kubernetes' rules).
func expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

// probeURL is the readiness probe's HTTP GET as a URL on 127.0.0.1 (host
// network), a named port resolved through the container's ports.
func probeURL(c *corev1.Container) (string, error) {
	p := c.ReadinessProbe
	if p == nil || p.HTTPGet == nil {
		return "", nil
	}
	g := p.HTTPGet
	port := g.Port.IntValue()
	if g.Port.StrVal != "" {
		port = 0
		for _, cp := range c.Ports {
			if cp.Name == g.Port.StrVal {
				port = int(cp.ContainerPort)
			}
		}
		if port == 0 {
			return "", fmt.Errorf("httpGet port %q names no container port", g.Port.StrVal)
		}
	}
	if port <= 0 {
		return "", fmt.Errorf("httpGet has no port")
	}
	if g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP {
		return "", fmt.Errorf("httpGet scheme %s is not supported", g.Scheme)
	}
	path := g.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil
}
