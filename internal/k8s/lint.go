package k8s

import (
	"context"
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// Lookup reads an image named in a manifest; an error means it could not
// be read (lint then falls back to the profiles).
type Lookup func(ctx context.Context, image string) (*Image, error)

// LintOptions say what lint knows beyond the manifests.
type LintOptions struct {
	// Lookup reads images; nil: images are not read (--offline).
	Lookup Lookup
	// Profile is assumed for images that cannot be read (--profile); nil:
	// every built-in profile in Profiles.
	Profile *buildplan.Profile
	// Profiles are the built-in profiles.
	Profiles []*buildplan.Profile
}

// Lint checks every container of the workloads for what silently defeats
// build-time injection. Images are looked up once each.
func Lint(ctx context.Context, ws []Workload, o LintOptions) *Report {
	r := &Report{}
	cache := map[string]lookupResult{}
	for _, w := range ws {
		for i := range w.Pod.Containers {
			c := &w.Pod.Containers[i]
			lr, ok := cache[c.Image]
			if !ok {
				lr = lookupResult{}
				if o.Lookup != nil {
					lr.img, lr.err = o.Lookup(ctx, c.Image)
				}
				cache[c.Image] = lr
			}
			l := &containerLint{r: r, w: w, c: c, field: fmt.Sprintf("%s.containers[%d]", w.PodPath, i), o: o, img: lr.img, lookupErr: lr.err}
			l.run()
			r.Checked++
		}
	}
	r.sort()
	return r
}

type lookupResult struct {
	img *Image
	err error
}

// containerLint holds what the rules of one container share.
type containerLint struct {
	r         *Report
	w         Workload
	c         *corev1.Container
	field     string
	o         LintOptions
	img       *Image // nil: not read
	lookupErr error
	// profiles the image may have been wrapped with: the one its label
	// names, else --profile, else all built-ins (exact is false then).
	profiles []*buildplan.Profile
	exact    bool
}

func (l *containerLint) add(sev Severity, rule, field, msg, fix string) {
	if field == "" {
		field = l.field
	}
	l.r.add(Finding{Severity: sev, Rule: rule, File: l.w.File, Resource: l.w.Resource(), Container: l.c.Name, Image: l.c.Image, Field: field, Message: msg, Fix: fix})
}

func (l *containerLint) run() {
	if !l.checkImage() {
		return
	}
	l.checkEnv()
	l.checkCommand()
	l.checkMounts()
	l.checkUser()
}

// checkImage: a readable image must be a monitored variant; an unreadable
// one gets a hint. It picks the profiles the other rules use and reports
// whether they should run.
func (l *containerLint) checkImage() bool {
	img := l.img
	switch {
	case img != nil && !img.Monitored():
		l.add(SeverityError, RuleNotMonitored, l.field+".image",
			fmt.Sprintf("image %s has no jbuild labels (%s): it is not a monitored variant, so the pods run without the agent", l.c.Image, buildplan.LabelProfile),
			fmt.Sprintf("wrap it (jbuild wrap %s) and deploy the output, pinned by the digest jbuild wrap prints", l.c.Image))
		return false
	case img != nil && img.Profile != nil:
		l.profiles, l.exact = []*buildplan.Profile{img.Profile}, true
		return true
	case img != nil:
		// A user profile: its volumes are in the label, its env unknown.
		l.profiles = l.o.Profiles
		return true
	}
	if l.o.Profile != nil {
		l.profiles, l.exact = []*buildplan.Profile{l.o.Profile}, true
	} else {
		l.profiles = l.o.Profiles
	}
	var hint []string
	if l.lookupErr != nil {
		hint = append(hint, fmt.Sprintf("could not read image %s (%v)", l.c.Image, l.lookupErr))
	}
	// No guess from the name alone: images built with the frontend
	// (# syntax=.../jbuild/frontend) keep their own tag, and a -jennifer
	// tag proves nothing either. Only the labels tell, read when the image
	// is reachable.
	if len(hint) > 0 {
		what := "every built-in profile"
		if l.exact {
			what = "profile " + l.o.Profile.Name
		}
		l.add(SeverityWarning, RuleUnreadable, l.field+".image",
			strings.Join(hint, "; ")+"; checked against "+what,
			"make the registry reachable (credentials from the Docker config) so lint reads the image's labels, or pass --profile NAME; deploy jbuild wrap's output")
	}
	return true
}

// expand fills ${INSTALL_DIR} and the profile's param defaults into a
// profile value; ok is false when it still depends on wrap-time settings
// (server address, port...).
func expand(p *buildplan.Profile, s string) (string, bool) {
	s = strings.ReplaceAll(s, "${"+buildplan.VarInstallDir+"}", p.InstallDir)
	for k, v := range p.Params {
		s = strings.ReplaceAll(s, "${"+k+"}", strings.ReplaceAll(v, "${"+buildplan.VarInstallDir+"}", p.InstallDir))
	}
	return s, !strings.Contains(s, "${")
}

// checkEnv: a pod's env replaces the image's value of the same name; for
// a variable the plan appended to or set, that drops the agent.
func (l *containerLint) checkEnv() {
	for i, e := range l.c.Env {
		field := fmt.Sprintf("%s.env[%d]", l.field, i)
		for _, p := range l.profiles {
			for _, pre := range p.WarnEnvPrefixes {
				// Only for the image's own profile: JENNIFER_* is the Python
				// agent's normal configuration.
				if strings.HasPrefix(e.Name, pre) && l.exact {
					l.add(SeverityWarning, RuleEnvPrefix, field,
						fmt.Sprintf("%s starts with %s, which is reported to make the %s agent ignore its config file", e.Name, pre, p.Runtime),
						fmt.Sprintf("rename or remove %s", e.Name))
				}
			}
		}
		spec, prof := l.envSpec(e.Name)
		if spec == nil {
			continue
		}
		imageValue, inImage := "", false
		if l.img != nil {
			imageValue, inImage = l.img.Env[e.Name]
			if !inImage {
				continue // the plan did not set it (an empty optional value)
			}
		}
		want, concrete := expand(prof, spec.Value)
		given := e.Value
		if e.ValueFrom != nil {
			given = ""
		}
		op := spec.Op
		if op == "" {
			op = buildplan.EnvSet
		}
		switch {
		case op == buildplan.EnvDefault:
		case !concrete && op == buildplan.EnvSet:
			l.add(SeverityWarning, RuleEnvOverride, field,
				fmt.Sprintf("%s replaces the value the image was wrapped with%s", e.Name, quoteImage(imageValue, inImage)),
				fmt.Sprintf("remove it unless these pods should use another value (e.g. report to another data server); jbuild wrap --server-address etc. set it in the image"))
		case e.ValueFrom == nil && concrete && strings.Contains(given, want):
			// Carries the agent's part: fine.
		case op == buildplan.EnvSet:
			l.add(SeverityError, RuleEnvOverride, field,
				fmt.Sprintf("%s replaces the image's %s=%q%s, which activates the agent: the pods run unmonitored", e.Name, e.Name, want, valueFromNote(e)),
				fmt.Sprintf("remove the %s entry", e.Name))
		default:
			l.add(SeverityError, RuleEnvOverride, field,
				fmt.Sprintf("%s replaces the image's value%s, which carries the agent's %q: the pods run unmonitored (Kubernetes cannot append to an image variable; $(%s) does not expand to the image's value)", e.Name, quoteImage(imageValue, inImage), want, e.Name),
				appendFix(e.Name, imageValue, inImage, want, spec.Separator, given))
		}
	}
	if len(l.c.EnvFrom) > 0 {
		var names []string
		for _, p := range l.profiles {
			for _, s := range p.Env {
				if v, concrete := expand(p, s.Value); concrete && v != "" && s.Op != buildplan.EnvDefault {
					names = appendUniq(names, s.Name)
				}
			}
		}
		if len(names) > 0 {
			l.add(SeverityWarning, RuleEnvFrom, l.field+".envFrom",
				fmt.Sprintf("envFrom may set %s and replace the image's value, which lint cannot see", strings.Join(names, ", ")),
				"make sure the referenced ConfigMaps and Secrets do not define these variables")
		}
	}
}

// envSpec finds the env operation of the candidate profiles for name.
func (l *containerLint) envSpec(name string) (*buildplan.EnvSpec, *buildplan.Profile) {
	for _, p := range l.profiles {
		for i := range p.Env {
			if p.Env[i].Name == name {
				return &p.Env[i], p
			}
		}
	}
	return nil, nil
}

func quoteImage(v string, ok bool) string {
	if !ok {
		return ""
	}
	return fmt.Sprintf(" %q", v)
}

func valueFromNote(e corev1.EnvVar) string {
	if e.ValueFrom != nil {
		return " (with a value from valueFrom)"
	}
	return ""
}

func appendFix(name, imageValue string, inImage bool, agent, sep, given string) string {
	if name == "JAVA_TOOL_OPTIONS" {
		alt := "remove it and put your JVM options in JDK_JAVA_OPTIONS (read by the java launcher of JDK 9+, next to JAVA_TOOL_OPTIONS)"
		if inImage && given != "" {
			return fmt.Sprintf("%s, or write the image's value plus yours: %q", alt, imageValue+sep+given)
		}
		return alt + ", or include " + agent
	}
	if inImage && given != "" {
		return fmt.Sprintf("remove it, or write the image's value plus yours: %q", imageValue+sep+given)
	}
	return fmt.Sprintf("remove it, or make the value include %q", agent)
}

func appendUniq(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// runtime is the runtime the agent attaches to, when known.
func (l *containerLint) runtime() buildplan.Runtime {
	if l.img != nil && l.img.Labels[buildplan.LabelRuntime] != "" {
		return buildplan.Runtime(l.img.Labels[buildplan.LabelRuntime])
	}
	if l.exact {
		return l.profiles[0].Runtime
	}
	return ""
}

// checkCommand: command: replaces the image's ENTRYPOINT; the agent only
// works if what runs instead is the runtime with the image's environment.
func (l *containerLint) checkCommand() {
	argv, field := l.c.Command, l.field+".command"
	var entrypoint []string
	if l.img != nil {
		entrypoint = l.img.Entrypoint
		if len(argv) == 0 && len(entrypoint) == 0 && len(l.c.Args) > 0 {
			argv, field = l.c.Args, l.field+".args" // args replace CMD, the whole command here
		}
	}
	if len(argv) == 0 {
		return
	}
	rt := l.runtime()
	v := judgeCommand(argv, rt, entrypoint)
	want := "the runtime"
	if rt != "" {
		want = string(rt)
	}
	switch {
	case v.ok:
	case v.clearsEnv:
		l.add(SeverityError, RuleCommand, field,
			"env -i starts the process with an empty environment: the agent's variables from the image are gone, the pods run unmonitored",
			"drop env -i (set variables with env NAME=VALUE or the pod's env instead)")
	case v.other != "":
		l.add(SeverityError, RuleCommand, field,
			fmt.Sprintf("the command runs %s (%s), but the agent in the image attaches to %s: the pods run unmonitored", path.Base(v.program), v.other, want),
			fmt.Sprintf("deploy an image wrapped for %s, or run %s", v.other, want))
	default:
		ep := "the image's ENTRYPOINT"
		if len(entrypoint) > 0 {
			ep = fmt.Sprintf("the image's ENTRYPOINT %q", strings.Join(entrypoint, " "))
		}
		l.add(SeverityWarning, RuleCommand, field,
			fmt.Sprintf("%s replaces %s; lint cannot tell whether %s starts %s, and the agent is only active if it does (with the image's environment)", strings.Join(argv, " "), ep, path.Base(v.program), want),
			"drop command: and pass arguments with args:, or make sure the command starts "+want)
	}
}
