package buildplan

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// runtimeNames are the display names used in messages.
var runtimeNames = map[Runtime]string{
	RuntimeJava: "Java", RuntimeDotnet: ".NET", RuntimeNodejs: "Node.js",
	RuntimePython: "Python", RuntimePHP: "PHP", RuntimeNative: "native",
}

func runtimeName(rt Runtime) string {
	if n, ok := runtimeNames[rt]; ok {
		return n
	}
	return string(rt)
}

// Make decides every change to one image (one platform): it checks that the
// profile's agent can run there, resolves the runtime user, lays out the
// agent layer and merges the environment. It reads image files only for
// facts the config does not answer and the profile actually needs.
//
// A *RefusalError means the image cannot be monitored with this agent; any
// other error is wrapped as "planning IMAGE: ...".
func Make(img Image, prof *Profile, agent Agent, opts Options) (*Plan, error) {
	p, err := makePlan(img, prof, agent, opts)
	if err != nil {
		var r *RefusalError
		if errors.As(err, &r) {
			return nil, r
		}
		return nil, fmt.Errorf("planning %s: %w", img.Reference, err)
	}
	return p, nil
}

func makePlan(img Image, prof *Profile, agent Agent, opts Options) (*Plan, error) {
	if prof == nil {
		return nil, errors.New("no profile")
	}
	if err := prof.Validate(); err != nil {
		return nil, err
	}
	// The bundle alone can be refused before the image is read.
	if err := CheckMarkers(prof, agent); err != nil {
		return nil, err
	}
	// A server option the profile never uses would be dropped without a
	// word (a JENNIFER flag with an OpenTelemetry profile): refuse it.
	// Values carried from the image being upgraded are the image's own.
	if err := checkUsed(prof, opts); err != nil {
		return nil, err
	}
	carried, err := carryForward(&opts, prof)
	if err != nil {
		return nil, err
	}
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	n := opts.names()
	if os := img.Platform.OS; os != "" && os != "linux" {
		return nil, refuse(img, "wrap the linux variant of the image ("+n.Give(OptPlatform, "linux/amd64")+")",
			"it is a %s image; agents are only injected into Linux images", os)
	}
	for name := range opts.Params {
		if _, ok := prof.Params[name]; !ok {
			declared := strings.Join(sortedKeys(prof.Params), ", ")
			if declared == "" {
				declared = "none"
			}
			return nil, &OptionError{OptParam(name), fmt.Errorf("%s: profile %s has no such parameter (it declares: %s)", n.Name(OptParam(name)), prof.Name, declared)}
		}
	}

	// 0 is "not given": the image being upgraded, the bundle's config or
	// the profile's default supplies the value.
	if opts.ServerPort != 0 {
		if err := prof.CheckServerPort(n.Name(OptServerPort), opts.ServerPort); err != nil {
			return nil, &OptionError{OptServerPort, err}
		}
	}
	if opts.DomainID != 0 {
		if err := prof.CheckDomainID(n.Name(OptDomainID), opts.DomainID); err != nil {
			return nil, &OptionError{OptDomainID, err}
		}
	}
	plan := &Plan{
		SchemaVersion: SchemaVersion,
		Source:        img.Reference,
		SourceDigest:  img.Digest,
		Platform:      img.Platform,
		Profile:       prof.Name,
		InstallDir:    prof.InstallDir,
		Carried:       carried,
	}

	// Runtime.
	var libcKnown *Finding
	if opts.Runtime != RuntimeUnknown {
		if _, ok := runtimeNames[opts.Runtime]; !ok || opts.Runtime == RuntimeNative {
			return nil, &OptionError{OptRuntime, fmt.Errorf("%s %q: want java, dotnet, nodejs, python or php", n.Name(OptRuntime), opts.Runtime)}
		}
		if opts.Runtime != prof.Runtime {
			return nil, &OptionError{OptRuntime, fmt.Errorf("%s %s does not match profile %s, which is for %s; choose the %s profile",
				n.Name(OptRuntime), opts.Runtime, prof.Name, prof.Runtime, opts.Runtime)}
		}
		plan.Runtime = Finding{Value: string(opts.Runtime), Evidence: []string{
			"option: " + n.Name(OptRuntime) + " " + string(opts.Runtime),
			"config, files: not inspected: " + n.Name(OptRuntime) + " given",
		}}
	} else {
		f, libc, err := detectRuntime(img)
		if err != nil {
			return nil, fmt.Errorf("detecting the runtime: %w", err)
		}
		plan.Runtime, libcKnown = f, libc
		switch rt := Runtime(f.Value); rt {
		case RuntimeNative:
			return nil, refuse(img,
				"for Go services instrument the code at build time with JENNIFER's Go agent API instead; if the image does run a JVM, .NET, Node.js, Python or PHP, "+n.Give(OptRuntime, ""),
				"its command is a statically linked binary (Go or similar) with no language runtime in the image, so there is no agent to inject")
		case RuntimeUnknown:
			return nil, refuse(img,
				n.Give(OptRuntime, "java|dotnet|nodejs|python|php")+" if you know what it runs",
				"no supported runtime found (%s)", strings.Join(f.Evidence, "; "))
		case prof.Runtime:
		default:
			return nil, refuse(img,
				fmt.Sprintf("use the %s profile, or %s if detection is wrong", rt, n.Give(OptRuntime, string(prof.Runtime))),
				"it runs %s but profile %s is for %s", runtimeName(rt), prof.Name, runtimeName(prof.Runtime))
		}
	}
	rt := prof.Runtime
	agentDesc := fmt.Sprintf("the %s %s agent", prof.Agent, runtimeName(rt))

	// Architecture.
	plan.Arch = DetectArch(img)
	if len(prof.Arch) > 0 {
		switch {
		case plan.Arch.Value == "":
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("the image platform is not known: %s supports %s only", agentDesc, strings.Join(prof.Arch, ", ")))
		case !slices.Contains(prof.Arch, plan.Arch.Value):
			return nil, refuse(img,
				fmt.Sprintf("wrap a platform it supports (%s)", n.Give(OptPlatform, "linux/"+prof.Arch[0])),
				"%s is not supported by %s (supported: %s)", plan.Arch.Value, agentDesc, strings.Join(prof.Arch, ", "))
		}
	}

	// C library: only looked at when the profile cares.
	switch {
	case len(prof.Libc) == 0:
		if libcKnown != nil {
			plan.Libc = *libcKnown
		} else {
			plan.Libc = Finding{Evidence: []string{fmt.Sprintf("files: not inspected: profile %s works with any libc", prof.Name)}}
		}
	default:
		if libcKnown != nil {
			plan.Libc = *libcKnown
		} else {
			f, err := DetectLibc(img)
			if err != nil {
				return nil, fmt.Errorf("detecting the libc: %w", err)
			}
			plan.Libc = f
		}
		if err := checkLibc(img, prof, plan, agentDesc); err != nil {
			return nil, err
		}
	}

	// Runtime version: from the config when it says; from files only when
	// the profile needs it.
	needVersion := prof.usesVar(VarRuntimeVersion)
	switch {
	case opts.RuntimeVersion != "":
		plan.RuntimeVersion = Finding{Value: opts.RuntimeVersion, Evidence: []string{"option: " + n.Name(OptRuntimeVersion) + " " + opts.RuntimeVersion}}
	default:
		plan.RuntimeVersion = DetectRuntimeVersion(img, rt)
		if plan.RuntimeVersion.Value == "" && needVersion {
			f, err := DetectRuntimeVersionFiles(img, rt)
			if err != nil {
				return nil, fmt.Errorf("detecting the %s version: %w", runtimeName(rt), err)
			}
			plan.RuntimeVersion.Evidence = append(plan.RuntimeVersion.Evidence, f.Evidence...)
			plan.RuntimeVersion.Value = f.Value
		} else if plan.RuntimeVersion.Value == "" {
			plan.RuntimeVersion.Evidence = append(plan.RuntimeVersion.Evidence, "files: not inspected: the profile does not need the version")
		}
		if plan.RuntimeVersion.Value == "" && needVersion {
			return nil, fmt.Errorf("cannot tell which %s version the image runs (%s), and profile %s needs it; %s",
				runtimeName(rt), strings.Join(plan.RuntimeVersion.Evidence, "; "), prof.Name, n.Give(OptRuntimeVersion, "MAJOR.MINOR"))
		}
	}

	// Where the agent goes: the install dir as the image resolves it, and
	// the base's own folders above it, which must stay as they are.
	var parents []LayerEntry
	if img.FS != nil {
		dir, ps, notes, err := installParents(img, prof.InstallDir, n)
		if err != nil {
			return nil, err
		}
		if orig := prof.InstallDir; dir != orig {
			moved := *prof
			moved.InstallDir = dir
			prof = &moved
			plan.InstallDir = dir
			plan.Warnings = append(plan.Warnings, fmt.Sprintf("the agent goes to %s instead of the profile's installDir %s (%s), so this image's agent layer is its own rather than the one shared with other images", dir, orig, strings.Join(notes, "; ")))
		}
		parents = ps
	}

	vars := map[string]string{
		VarInstallDir:     prof.InstallDir,
		VarServerAddress:  opts.ServerAddress,
		VarServerPort:     itoaPositive(opts.ServerPort),
		VarDomainID:       itoaPositive(opts.DomainID),
		VarRuntimeVersion: plan.RuntimeVersion.Value,
		VarArch:           plan.Arch.Value,
	}
	builtins := make(map[string]string, len(vars))
	for k, v := range vars {
		builtins[k] = v
	}
	for name, def := range prof.Params {
		v, err := expand(def, builtins)
		if err != nil {
			return nil, fmt.Errorf("profile %s: params.%s: %w", prof.Name, name, err)
		}
		if o, ok := opts.Params[name]; ok {
			// A value given may name the profile's folders too
			// (--param entry=${INSTALL_DIR}/apm.js).
			if v, err = expand(o, builtins); err != nil {
				return nil, &OptionError{OptParam(name), fmt.Errorf("%s: %w", n.Name(OptParam(name)), err)}
			}
		}
		vars[name] = v
	}

	// Agent bundle checks.
	files := map[string]AgentFile{}
	for _, f := range agent.Files {
		files[f.Path] = f
	}
	if agent.Version == "" && prof.VersionFrom != nil {
		agent.Version = bundleVersion(prof.VersionFrom, agent)
	}
	for i, r := range prof.Requires {
		rel, err := expand(r, vars)
		if err != nil {
			return nil, fmt.Errorf("profile %s: requires[%d]: %w", prof.Name, i, err)
		}
		if f, ok := files[rel]; !ok || f.Mode.IsDir() {
			why := ""
			if strings.Contains(r, "${"+VarRuntimeVersion+"}") {
				why = fmt.Sprintf(" for %s %s", runtimeName(rt), plan.RuntimeVersion.Value)
			} else if strings.Contains(r, "${"+VarArch+"}") {
				why = " for " + plan.Arch.Value
			}
			return nil, refuse(img,
				"use an agent release that supports it, or "+n.Give(OptRuntimeVersion, "")+" if the detected version is wrong",
				"the agent bundle %s has no %s%s", agentSource(agent), rel, why)
		}
	}

	// Runtime user: only needed when the agent writes somewhere.
	if len(prof.WritableDirs) > 0 || !userNeedsFiles(img.Config.User) {
		u, err := ResolveUser(img)
		if err != nil {
			return nil, err
		}
		plan.User = u
	} else {
		plan.User = User{Spec: img.Config.User, Evidence: []string{
			"config: USER " + img.Config.User,
			"files: not inspected: the profile has no writable directories, everything is root-owned and read-only",
		}}
	}

	layer, configFile, warnings, err := buildLayer(prof, agent, plan.User, vars, n)
	if err != nil {
		return nil, err
	}
	plan.ConfigFile = configFile
	if plan.Layer, err = BundleLayer(prof, agent); err != nil {
		return nil, err
	}
	plan.Settings = settingsLayer(layer, plan.Layer)
	if keep := keepParents(parents, plan.Layer); len(keep) > 0 {
		plan.Settings = append(keep, plan.Settings...) // parents sort before their children
	}
	plan.Volumes = volumes(prof, layer)
	plan.Warnings = append(plan.Warnings, warnings...)

	changes, err := envChanges(prof, vars, img.Config.Env, n)
	if err != nil {
		return nil, err
	}
	if err := checkEnvPaths(img, prof, agent, changes, layer, n); err != nil {
		return nil, err
	}
	_, plan.Env = MergeEnv(img.Config.Env, changes)
	plan.Warnings = append(plan.Warnings, secretWarnings(plan.Env, nil, "")...)

	for _, e := range img.Config.Env {
		k, _, _ := strings.Cut(e, "=")
		for _, pre := range prof.WarnEnvPrefixes {
			if strings.HasPrefix(k, pre) && !profileSets(prof, k) {
				plan.Warnings = append(plan.Warnings, fmt.Sprintf("the image sets %s: variables starting with %s can make %s ignore its config file; remove it from the image", k, pre, agentDesc))
			}
		}
	}

	plan.Agent = agent
	plan.Labels = planLabels(img, prof, agent, rt, opts)
	if len(plan.Volumes) > 0 {
		plan.Labels[LabelVolumes] = strings.Join(plan.Volumes, ",")
	}
	if plan.ConfigFile != "" {
		plan.Labels[LabelConfig] = plan.ConfigFile
	}
	plan.Labels[LabelSettings] = effectiveSettings(prof, vars, configContent(layer, configFile), userParams(prof, opts.Params)).label()
	return plan, nil
}

// configContent is the generated config file's content in the layer.
func configContent(layer []LayerEntry, configFile string) string {
	for _, e := range layer {
		if e.Path == configFile && configFile != "" {
			return string(e.Content)
		}
	}
	return ""
}

// userParams are the parameters the user gave that the profile declares,
// to be recorded for upgrades. One that looks like a secret (by its name or
// value) is left out: a label is even easier to read than a layer, and an
// upgrade then asks for it again instead of copying it along.
func userParams(prof *Profile, params map[string]string) map[string]string {
	out := map[string]string{}
	for name, v := range params {
		if _, ok := prof.Params[name]; ok && !secretName(strings.ToUpper(name)) && !secretInValue(v) {
			out[name] = v
		}
	}
	return out
}

func checkLibc(img Image, prof *Profile, plan *Plan, agentDesc string) error {
	got := Libc(plan.Libc.Value)
	if slices.Contains(prof.Libc, got) {
		return nil
	}
	want := make([]string, len(prof.Libc))
	for i, l := range prof.Libc {
		want[i] = string(l)
	}
	hint := "use a base image with " + strings.Join(want, " or ")
	if slices.Contains(prof.Libc, LibcGlibc) {
		hint = "use a Debian/Ubuntu-based (glibc) image"
	}
	switch got {
	case LibcUnknown:
		plan.Warnings = append(plan.Warnings, fmt.Sprintf("the image's libc was not checked (image files not available): %s needs %s", agentDesc, strings.Join(want, " or ")))
		return nil
	case LibcMusl:
		return refuse(img, hint, "musl (Alpine) is not supported by %s", agentDesc)
	case LibcNone:
		return refuse(img, hint, "the image has no C library (static or distroless/static base), and %s needs %s", agentDesc, strings.Join(want, " or "))
	}
	return refuse(img, hint, "%s is not supported by %s", got, agentDesc)
}

// userNeedsFiles reports whether resolving USER reads /etc/passwd or
// /etc/group.
func userNeedsFiles(spec string) bool {
	if spec == "" || spec == "root" {
		return false
	}
	u, g, ok := strings.Cut(spec, ":")
	_, errU := parseID(u)
	_, errG := parseID(g)
	return !ok || errU != nil || errG != nil
}

func itoaPositive(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// CheckMarkers checks that the bundle has the profile's marker files, and
// that each is a regular file. The marker is what the runtime loads
// (jennifer.jar): a symlink (even one to itself), a folder or anything
// else would pass a presence check and fail only when the application
// starts. It depends on the bundle alone, so engines call it before
// building anything from the bundle.
func CheckMarkers(prof *Profile, agent Agent) error {
	for _, m := range prof.BundleMarkers {
		var f *AgentFile
		for i := range agent.Files {
			if MarkerMatches(m, agent.Files[i].Path) {
				f = &agent.Files[i]
				break
			}
		}
		if f == nil {
			return fmt.Errorf("the agent bundle %s has no %s, which profile %s expects; is it the %s agent folder (%s/) or its archive?",
				agentSource(agent), m, prof.Name, runtimeName(prof.Runtime), bundleRootName(prof))
		}
		if !f.Mode.IsRegular() {
			return fmt.Errorf("the agent bundle %s: %s is %s, not a regular file; profile %s needs the file itself (copy the agent again, following links)",
				agentSource(agent), m, fileKind(*f), prof.Name)
		}
	}
	return nil
}

func fileKind(f AgentFile) string {
	switch {
	case f.Mode&fs.ModeSymlink != 0:
		return "a symlink to " + strconv.Quote(f.Link)
	case f.Mode.IsDir():
		return "a folder"
	}
	return "a special file"
}

func agentSource(a Agent) string {
	if a.Source != "" {
		return a.Source
	}
	return "(unnamed)"
}

func bundleRootName(p *Profile) string {
	if p.BundleRoot != "" {
		return p.BundleRoot
	}
	return "agent"
}

func profileSets(p *Profile, name string) bool {
	for _, e := range p.Env {
		if e.Name == name {
			return true
		}
	}
	return false
}

// checkEnvPaths refuses an env that points inside the install dir at
// something the image will not have (a --require file, a -javaagent jar, a
// PYTHONPATH folder missing from the bundle, or named wrong in a --param):
// the container would exit at start, and a monitored image that cannot
// start is worse than none. final is the install dir as the image will
// hold it.
func checkEnvPaths(img Image, prof *Profile, agent Agent, changes []EnvChange, final []LayerEntry, n Namer) error {
	have := map[string]bool{prof.InstallDir: true}
	for _, e := range final {
		have[e.Path] = true
	}
	for _, c := range changes {
		for _, v := range []string{c.Value, c.ValueIfUnset} {
			for _, p := range pathsUnder(v, prof.InstallDir) {
				if !have[p] {
					return refuse(img, "check the profile's env and the "+n.Name(OptParam("NAME"))+" values that name files, or use an agent bundle that has it",
						"%s would point at %s, which the agent bundle %s does not have: the container would not start", c.Name, p, agentSource(agent))
				}
			}
		}
	}
	return nil
}

// pathsUnder finds the paths inside dir that a value names: dir followed
// by "/" and a path, up to a space, a list separator or a quote
// ("-javaagent:/opt/a/agent.jar=opts" names /opt/a/agent.jar).
func pathsUnder(value, dir string) []string {
	var out []string
	prefix := dir + "/"
	for rest := value; ; {
		i := strings.Index(rest, prefix)
		if i < 0 {
			return out
		}
		rest = rest[i:]
		end := strings.IndexAny(rest, " \t:;,=\"'")
		if end < 0 {
			end = len(rest)
		}
		if p := path.Clean(rest[:end]); p != dir {
			out = append(out, p)
		}
		rest = rest[end:]
	}
}

// checkUsed refuses a server address, port or domain id given for a
// profile that uses none of it, naming what the profile takes instead.
func checkUsed(prof *Profile, opts Options) error {
	n := opts.names()
	for _, o := range []struct {
		opt   Option
		v     string
		given bool
	}{
		{OptServerAddress, VarServerAddress, opts.ServerAddress != ""},
		{OptServerPort, VarServerPort, opts.ServerPort != 0},
		{OptDomainID, VarDomainID, opts.DomainID != 0},
	} {
		if !o.given || prof.usesVar(o.v) {
			continue
		}
		takes := "no parameters"
		if len(prof.Params) > 0 {
			var ps []string
			for _, name := range sortedKeys(prof.Params) {
				ps = append(ps, n.Name(OptParam(name)))
			}
			takes = strings.Join(ps, ", ")
		}
		return &OptionError{o.opt, fmt.Errorf("%s: profile %s does not use it (its %s agent is set with %s); leave it out", n.Name(o.opt), prof.Name, prof.Agent, takes)}
	}
	return nil
}

// usesVar reports whether any templated field of the profile references
// the variable (directly or through a param default).
func (p *Profile) usesVar(name string) bool {
	var all []string
	for _, v := range p.Params {
		all = append(all, v)
	}
	for _, e := range p.Env {
		all = append(all, e.Value, e.ValueIfUnset)
	}
	if c := p.Config; c != nil {
		for _, v := range c.Values {
			all = append(all, v)
		}
		for _, v := range c.Defaults {
			all = append(all, v)
		}
	}
	for _, f := range p.Files {
		all = append(all, f.Path, f.Content)
	}
	all = append(all, p.Requires...)
	for _, s := range all {
		if slices.Contains(templateVars(s), name) {
			return true
		}
	}
	return false
}

// envChanges templates the profile's env operations. An empty value skips
// the operation unless it is required.
func envChanges(prof *Profile, vars map[string]string, imageEnv []string, n Namer) ([]EnvChange, error) {
	var out []EnvChange
	for i, e := range prof.Env {
		v, err := expand(e.Value, vars)
		if err != nil {
			return nil, fmt.Errorf("profile %s: env[%d].value: %w", prof.Name, i, err)
		}
		unset, err := expand(e.ValueIfUnset, vars)
		if err != nil {
			return nil, fmt.Errorf("profile %s: env[%d].valueIfUnset: %w", prof.Name, i, err)
		}
		fallback, err := expand(e.Fallback, vars)
		if err != nil {
			return nil, fmt.Errorf("profile %s: env[%d].fallback: %w", prof.Name, i, err)
		}
		op := e.Op
		if op == "" {
			op = EnvSet
		}
		if strings.TrimSpace(v) == "" && fallback != "" {
			v, op = fallback, EnvDefault
		}
		if strings.TrimSpace(v) == "" {
			if have, _ := envValue(imageEnv, e.Name); e.Required && have == "" {
				return nil, fmt.Errorf("%s needs a value and profile %s gives none: %s", e.Name, prof.Name, emptyHint(e.Value, vars, n))
			}
			continue
		}
		// The parts were checked; what they expand to is checked again (a
		// param default of the profile is combined with user values).
		for _, x := range []struct{ field, v string }{{"value", v}, {"valueIfUnset", unset}} {
			if err := CheckValue(fmt.Sprintf("profile %s: env %s (%s after templating)", prof.Name, e.Name, x.field), x.v); err != nil {
				return nil, err
			}
		}
		out = append(out, EnvChange{Name: e.Name, Op: op, Value: v, Separator: e.Separator, ValueIfUnset: unset})
	}
	return out, nil
}

// emptyHint says which option fills the first empty variable of a
// template, in n's words.
func emptyHint(tmpl string, vars map[string]string, n Namer) string {
	for _, name := range templateVars(tmpl) {
		if vars[name] == "" {
			return giveVar(n, name)
		}
	}
	return "fix the profile"
}
