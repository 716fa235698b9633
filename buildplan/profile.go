package buildplan

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// Profile declares how one agent attaches to one runtime: which files go
// where, which of them the agent writes at run time, which environment
// variables activate it and which config file carries the server settings.
// Profiles are data (YAML, embedded from templates/profiles or passed with
// --profile) so the same engine injects any agent; nothing agent-specific is
// hard-coded in buildplan.
//
// Every string marked "templated" may use ${NAME} and ${NAME:-default} with
// NAME one of INSTALL_DIR, SERVER_ADDRESS, SERVER_PORT, DOMAIN_ID,
// RUNTIME_VERSION, ARCH or a name declared under params. An unknown name is a
// parse error.
type Profile struct {
	// Name identifies the profile (--profile-name, the io.jbuild.profile
	// label), e.g. "jennifer-java". Lowercase letters, digits, ".", "_", "-".
	Name string `json:"name"`
	// Agent is the product name recorded in the io.jbuild.agent label when
	// the bundle does not name itself, e.g. "JENNIFER".
	Agent string `json:"agent"`
	// Runtime the agent attaches to: java, dotnet, nodejs, python or php.
	// The image's detected runtime must match unless --runtime overrides it.
	Runtime Runtime `json:"runtime"`
	// Description is one line for `jbuild profiles` and the plan output.
	Description string `json:"description,omitempty"`
	// TargetSuffix is appended to the source tag when no target is given
	// ("-jennifer"); empty: "-" and the agent's name in lowercase letters
	// and digits ("-opentelemetry"), so two agents' wraps of one image do
	// not land on one tag.
	TargetSuffix string `json:"targetSuffix,omitempty"`

	// BundleRoot is the folder an agent archive unpacks to ("agent.java");
	// internal/agent strips it when an archive's only top-level entry is a
	// folder of this name, so bundle paths below are relative to the agent
	// folder itself. Empty: the archive content is the bundle as is.
	BundleRoot string `json:"bundleRoot,omitempty"`
	// AgentFile, when set, says the agent is one file (a -javaagent jar as
	// a registry serves it, with its version in the name): given as --agent,
	// that file is installed under this name, which the env activates.
	AgentFile string `json:"agentFile,omitempty"`
	// BundleMarkers are bundle-relative paths (or path.Match patterns,
	// "opentelemetry-javaagent*.jar") whose presence identifies this
	// agent ("jennifer.jar"); a bundle matches the profile when it has all of
	// them. Used to pick a profile for a bundle given without --profile.
	BundleMarkers []string `json:"bundleMarkers,omitempty"`

	// InstallDir is the absolute directory the bundle is installed to
	// ("/opt/jennifer/agent.java"). Its parents are added as root-owned 0755
	// directories, which is what every base image already has for /opt.
	InstallDir string `json:"installDir"`

	// Libc lists the C libraries the agent's native parts work with
	// (glibc, musl); empty means any. Images with another libc are refused.
	Libc []Libc `json:"libc,omitempty"`
	// Arch lists the supported CPU architectures in OCI spelling (amd64,
	// arm64); empty means any. Images for another platform are refused.
	Arch []string `json:"arch,omitempty"`

	// WritableDirs are bundle-relative directories the agent writes at run
	// time (logs, a config it rewrites). They and everything in them are owned
	// by the image's runtime user (dirs 0775, files 0664) and created when the
	// bundle lacks them. Everything else is root:root and read-only.
	WritableDirs []string `json:"writableDirs,omitempty"`
	// Volumes are absolute directories outside the install dir that the
	// agent writes at run time (the Python agent's temp dir for its socket).
	// Under a read-only root filesystem they need a writable mount, like the
	// writable dirs that ship no files (see Plan.Volumes).
	Volumes []string `json:"volumes,omitempty"`
	// ServerPortMax, when set, is the highest data server port the agent
	// can use (the Python agent's native part reads the port as a signed
	// 16-bit number: 32767). A higher --server-port is refused.
	ServerPortMax int `json:"serverPortMax,omitempty"`
	// DomainIDRange, when set, is the lowest and highest domain id the
	// agent accepts ([1, 32767] for JENNIFER); --domain-id outside it is
	// refused. Unset: 1 to MaxDomainID.
	DomainIDRange []int `json:"domainIdRange,omitempty"`
	// Executables are path.Match globs of bundle files that get mode 0755;
	// other files get 0644 and directories 0755. The bundle's own modes are
	// ignored on purpose: the same agent unpacked from a zip made on Windows
	// or from a tarball gives the same layer, and setuid/setgid/sticky and
	// world-writable bits can never slip in.
	Executables []string `json:"executables,omitempty"`

	// Params are profile-specific variables with their defaults, settable
	// with --param NAME=VALUE (e.g. the Node.js entry module). Defaults are
	// templated with the built-in variables (not with other params).
	Params map[string]string `json:"params,omitempty"`

	// Env lists the environment operations that activate the agent, applied
	// in order (see EnvSpec).
	Env []EnvSpec `json:"env,omitempty"`

	// Config is the agent's own config file, written from the bundle's copy
	// with the server settings filled in (see ConfigSpec).
	Config *ConfigSpec `json:"config,omitempty"`

	// Files are extra files generated into the install dir, e.g. a PHP ini.
	Files []FileSpec `json:"files,omitempty"`

	// Requires are templated bundle-relative paths that must exist, e.g. the
	// PHP extension for the image's PHP version; a missing one is an error
	// naming the path and the runtime version.
	Requires []string `json:"requires,omitempty"`

	// VersionFrom tells how to read the agent version out of the bundle when
	// the bundle source does not say.
	VersionFrom *VersionSpec `json:"versionFrom,omitempty"`

	// WarnEnvPrefixes: image variables starting with one of these produce a
	// warning (JENNIFER_ makes the Java agent ignore its config file).
	WarnEnvPrefixes []string `json:"warnEnvPrefixes,omitempty"`

	// DownwardEnv are variables a Kubernetes manifest sets from the pod's own
	// fields through the downward API (`jbuild k8s`), so the agents of
	// scaled pods tell themselves apart in the console (pod name, namespace,
	// node). They are not written into the image, and never name a variable
	// of Env: a pod's env replaces the image's value, and the plan's values
	// must win.
	DownwardEnv []DownwardEnvSpec `json:"downwardEnv,omitempty"`

	// RunCheck says how `jbuild verify --run` points the agent at a
	// throw-away receiver and what counts as the agent having reported
	// (see RunCheck); nil: a TCP connection, the receiver given through
	// the values that take ${SERVER_ADDRESS} and ${SERVER_PORT}.
	RunCheck *RunCheck `json:"runCheck,omitempty"`

	// Source is where the profile was read from, for messages.
	Source string `json:"source,omitempty"`
}

// DownwardEnvSpec is one container variable taken from the pod through the
// Kubernetes downward API (env[].valueFrom.fieldRef).
type DownwardEnvSpec struct {
	// Name of the variable.
	Name string `json:"name"`
	// FieldPath is the pod field: metadata.name, metadata.namespace,
	// metadata.uid, metadata.labels['KEY'], metadata.annotations['KEY'],
	// spec.nodeName, spec.serviceAccountName, status.hostIP, status.podIP.
	FieldPath string `json:"fieldPath"`
}

// downwardFieldPath matches the pod fields Kubernetes accepts in an env
// fieldRef.
var downwardFieldPath = regexp.MustCompile(`^(metadata\.(name|namespace|uid)|metadata\.(labels|annotations)\['[A-Za-z0-9./_-]+'\]|spec\.(nodeName|serviceAccountName)|status\.(hostIP|hostIPs|podIP|podIPs))$`)

// EnvSpec is one environment operation of a profile.
type EnvSpec struct {
	// Name of the variable.
	Name string `json:"name"`
	// Op is set (replace), default (only when the image has no value), append
	// or prepend (merge with the image's value, never adding a value that is
	// already there). Empty means set.
	Op EnvOp `json:"op,omitempty"`
	// Separator between elements for append/prepend: " " for option strings
	// (JAVA_TOOL_OPTIONS, NODE_OPTIONS), ":" for path lists.
	Separator string `json:"separator,omitempty"`
	// Value, templated. An operation whose value is empty after templating is
	// skipped: some agents treat any non-empty value as "on".
	Value string `json:"value"`
	// ValueIfUnset, templated, replaces Value for append/prepend when the
	// image does not set the variable, e.g. ":${INSTALL_DIR}/php.d" so that
	// PHP_INI_SCAN_DIR keeps PHP's compiled-in scan directory.
	ValueIfUnset string `json:"valueIfUnset,omitempty"`
	// Fallback, templated, is used when Value is empty after templating, and
	// only if the image does not set the variable (op default): an explicit
	// --server-port overrides the image, a port the image already has is
	// kept, and otherwise the agent's default applies.
	Fallback string `json:"fallback,omitempty"`
	// Required makes an empty value an error (with a hint naming the flag)
	// instead of skipping the operation, unless the image already sets the
	// variable to a non-empty value.
	Required bool `json:"required,omitempty"`
}

// ConfigFormat is the syntax of an agent config file.
type ConfigFormat string

const (
	// FormatKeyValue is "key = value" lines, "#" comments (JENNIFER Java, PHP).
	FormatKeyValue ConfigFormat = "keyvalue"
	// FormatINI is an ini file with [section]s (JENNIFER Python).
	FormatINI ConfigFormat = "ini"
)

// ConfigSpec describes the agent config file jbuild writes. The content is
// the bundle's own file at Path with Values replaced in place (or appended
// when absent); every other line is kept, so settings shipped in the bundle
// survive. A value that is empty after templating keeps the bundle's value.
type ConfigSpec struct {
	// Path of the file, relative to the bundle root ("conf/jennifer.conf").
	Path string `json:"path"`
	// Format: keyvalue or ini.
	Format ConfigFormat `json:"format"`
	// Section for ini files ("JENNIFER"); required for ini, unused otherwise.
	Section string `json:"section,omitempty"`
	// Values, templated, override the bundle's values.
	Values map[string]string `json:"values,omitempty"`
	// Defaults, templated, are written only when neither Values nor the
	// bundle's file give the key a non-empty value (server_port: 5000).
	Defaults map[string]string `json:"defaults,omitempty"`
	// Required keys must end up non-empty, e.g. server_address: the agent
	// cannot report anywhere without it.
	Required []string `json:"required,omitempty"`
}

// FileSpec is a file generated into the install dir.
type FileSpec struct {
	// Path relative to the bundle root, templated ("php.d/jennifer.ini").
	Path string `json:"path"`
	// Content, templated.
	Content string `json:"content"`
	// Mode as an octal string ("0644", the default). Only 0755 and 0644 make
	// sense; other bits are masked to keep the layer safe.
	Mode string `json:"mode,omitempty"`
}

// VersionSpec says where the agent version is written in a bundle.
// Exactly one of FileName and File is set.
type VersionSpec struct {
	// FileName is a regular expression over bundle paths whose first
	// capture group is the version ("^jennifer\.agent\.java-(.+)\.jar$").
	FileName string `json:"fileName,omitempty"`
	// File is a bundle path whose content holds the version: the whole
	// trimmed content, or the first capture group of Regex when set.
	File  string `json:"file,omitempty"`
	Regex string `json:"regex,omitempty"`
}

var profileName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ParseProfile decodes a YAML (or JSON) profile strictly, unknown fields and
// duplicate keys are errors, and validates it. source names the file in
// error messages.
func ParseProfile(data []byte, source string) (*Profile, error) {
	var p Profile
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("profile %s: %w", source, err)
	}
	p.Source = source
	modesAsWritten(data, &p)
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks a profile; errors name the source and the field.
func (p *Profile) Validate() error {
	v := &validator{src: p.Source}
	if p.Source == "" {
		v.src = p.Name
	}
	if !profileName.MatchString(p.Name) {
		v.fail("name", "%q must be lowercase letters, digits, '.', '_' or '-'", p.Name)
	}
	switch p.Runtime {
	case RuntimeJava, RuntimeDotnet, RuntimeNodejs, RuntimePython, RuntimePHP:
	default:
		v.fail("runtime", "%q is not one of java, dotnet, nodejs, python, php", p.Runtime)
	}
	if p.Agent == "" {
		v.fail("agent", "must not be empty")
	}
	if p.AgentFile != "" && (path.Base(p.AgentFile) != p.AgentFile || p.AgentFile == "." || p.AgentFile == "..") {
		v.fail("agentFile", "%q must be a file name (the agent file is installed at the top of installDir)", p.AgentFile)
	}
	if p.TargetSuffix != "" && !targetSuffix.MatchString(p.TargetSuffix) {
		v.fail("targetSuffix", "%q must be \"-\" and up to 40 lowercase letters, digits, '.', '_' or '-' (it ends image tags)", p.TargetSuffix)
	}
	if !path.IsAbs(p.InstallDir) || path.Clean(p.InstallDir) != p.InstallDir {
		v.fail("installDir", "%q must be a clean absolute path below /", p.InstallDir)
	} else if why := installDirProblem(p.InstallDir); why != "" {
		v.fail("installDir", "%q cannot hold the agent: %s; install it below /opt, as the built-in profiles do (/opt/jennifer/agent.java)", p.InstallDir, why)
	}
	if strings.Contains(p.BundleRoot, "/") || p.BundleRoot == "." || p.BundleRoot == ".." {
		v.fail("bundleRoot", "%q must be a single folder name", p.BundleRoot)
	}
	for i, m := range p.BundleMarkers {
		v.relPath(fmt.Sprintf("bundleMarkers[%d]", i), m)
		if _, err := path.Match(m, ""); err != nil {
			v.fail(fmt.Sprintf("bundleMarkers[%d]", i), "%q is not a valid pattern: %v", m, err)
		}
	}
	for i, l := range p.Libc {
		if l != LibcGlibc && l != LibcMusl {
			v.fail(fmt.Sprintf("libc[%d]", i), "%q is not glibc or musl", l)
		}
	}
	for i, a := range p.Arch {
		if a == "" || normArch(a) != a {
			v.fail(fmt.Sprintf("arch[%d]", i), "%q is not an OCI architecture name (amd64, arm64, ...)", a)
		}
	}
	for i, d := range p.WritableDirs {
		v.relPath(fmt.Sprintf("writableDirs[%d]", i), d)
	}
	for i, d := range p.Volumes {
		if !path.IsAbs(d) || path.Clean(d) != d || d == "/" {
			v.fail(fmt.Sprintf("volumes[%d]", i), "%q is not a clean absolute directory", d)
		}
	}
	if r := p.DomainIDRange; r != nil && (len(r) != 2 || r[0] < 1 || r[0] > r[1] || r[1] > MaxDomainID) {
		v.fail("domainIdRange", "%v must be [LOWEST, HIGHEST] with 1 <= LOWEST <= HIGHEST <= %d", r, MaxDomainID)
	}
	if p.ServerPortMax < 0 || p.ServerPortMax > 65535 {
		v.fail("serverPortMax", "%d is not a TCP port (1-65535)", p.ServerPortMax)
	}
	for i, g := range p.Executables {
		if _, err := path.Match(g, ""); err != nil {
			v.fail(fmt.Sprintf("executables[%d]", i), "%q: %v", g, err)
		}
	}

	vars := map[string]bool{}
	for _, b := range builtinVars {
		vars[b] = true
	}
	for _, name := range sortedKeys(p.Params) {
		f := "params." + name
		if !paramName.MatchString(name) {
			v.fail(f, "name must be letters, digits and '_'")
		}
		if vars[name] {
			v.fail(f, "shadows the built-in variable ${%s}", name)
		}
		// Param defaults see the built-ins only.
		v.templ(f, p.Params[name], vars)
		v.value(f, p.Params[name])
	}
	for name := range p.Params {
		vars[name] = true
	}

	for i, e := range p.Env {
		f := fmt.Sprintf("env[%d]", i)
		if !envName.MatchString(e.Name) {
			v.fail(f+".name", "%q is not a valid variable name", e.Name)
		}
		switch e.Op {
		case "", EnvSet, EnvDefault:
			if e.ValueIfUnset != "" {
				v.fail(f+".valueIfUnset", "only applies to append and prepend")
			}
		case EnvAppend, EnvPrepend:
			if e.Separator == "" {
				v.fail(f+".separator", "required for %s", e.Op)
			} else if !validSeparator(e.Separator) {
				v.fail(f+".separator", "%q must be one character that is not a letter or digit (\" \", \":\", \";\", \",\")", e.Separator)
			}
		default:
			v.fail(f+".op", "%q is not set, default, append or prepend", e.Op)
		}
		v.templ(f+".value", e.Value, vars)
		v.templ(f+".valueIfUnset", e.ValueIfUnset, vars)
		v.templ(f+".fallback", e.Fallback, vars)
		v.value(f+".value", e.Value)
		v.value(f+".valueIfUnset", e.ValueIfUnset)
		v.value(f+".fallback", e.Fallback)
		v.value(f+".separator", e.Separator)
	}

	if c := p.Config; c != nil {
		v.relPath("config.path", c.Path)
		switch c.Format {
		case FormatKeyValue:
			if c.Section != "" {
				v.fail("config.section", "only applies to format ini")
			}
		case FormatINI:
			if c.Section == "" {
				v.fail("config.section", "required for format ini")
			}
		default:
			v.fail("config.format", "%q is not keyvalue or ini", c.Format)
		}
		for _, k := range sortedKeys(c.Values) {
			v.configKey("config.values."+k, k)
			v.templ("config.values."+k, c.Values[k], vars)
			v.value("config.values."+k, c.Values[k])
		}
		for _, k := range sortedKeys(c.Defaults) {
			v.configKey("config.defaults."+k, k)
			v.templ("config.defaults."+k, c.Defaults[k], vars)
			v.value("config.defaults."+k, c.Defaults[k])
		}
		for i, k := range c.Required {
			v.configKey(fmt.Sprintf("config.required[%d]", i), k)
		}
	}

	for i, f := range p.Files {
		fld := fmt.Sprintf("files[%d]", i)
		v.templ(fld+".path", f.Path, vars)
		// Validate the path shape with placeholders filled in.
		v.relPath(fld+".path", varRef.ReplaceAllString(f.Path, "x"))
		v.templ(fld+".content", f.Content, vars)
		if _, err := parseMode(f.Mode); err != nil {
			v.fail(fld+".mode", "%v", err)
		}
	}
	for i, r := range p.Requires {
		fld := fmt.Sprintf("requires[%d]", i)
		v.templ(fld, r, vars)
		v.relPath(fld, varRef.ReplaceAllString(r, "x"))
	}
	if vf := p.VersionFrom; vf != nil {
		switch {
		case (vf.FileName == "") == (vf.File == ""):
			v.fail("versionFrom", "set exactly one of fileName and file")
		case vf.FileName != "":
			v.regex("versionFrom.fileName", vf.FileName, true)
			if vf.Regex != "" {
				v.fail("versionFrom.regex", "only applies with file")
			}
		default:
			v.relPath("versionFrom.file", vf.File)
			if vf.Regex != "" {
				v.regex("versionFrom.regex", vf.Regex, true)
			}
		}
	}
	for i, w := range p.WarnEnvPrefixes {
		if w == "" {
			v.fail(fmt.Sprintf("warnEnvPrefixes[%d]", i), "must not be empty")
		}
		v.value(fmt.Sprintf("warnEnvPrefixes[%d]", i), w)
	}
	v.downwardEnv(p)
	v.runCheck(p)
	return errors.Join(v.errs...)
}

// validSeparator: one character that cannot be part of an element. A
// longer or alphanumeric separator can overlap the values it joins
// ("0" + "00" + "1" splits back differently), and MergeEnv could no longer
// tell that a value is already there (found by FuzzMergeEnv).
func validSeparator(sep string) bool {
	r, n := utf8.DecodeRuneInString(sep)
	return n == len(sep) && r != utf8.RuneError && !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '=' && !unicode.IsControl(r)
}

// validator collects every problem so a profile author sees them all at once.
type validator struct {
	src  string
	errs []error
}

func (v *validator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf("profile %s: %s: %s", v.src, field, fmt.Sprintf(format, args...)))
}

// downwardEnv: valid names and pod fields, no duplicates, and never a
// variable the profile's env sets or one its warnEnvPrefixes warn about.
func (v *validator) downwardEnv(p *Profile) {
	own := map[string]bool{}
	for _, e := range p.Env {
		own[e.Name] = true
	}
	seen := map[string]bool{}
	for i, d := range p.DownwardEnv {
		f := fmt.Sprintf("downwardEnv[%d]", i)
		if !envName.MatchString(d.Name) {
			v.fail(f+".name", "%q is not a valid variable name", d.Name)
		}
		if own[d.Name] {
			v.fail(f+".name", "%s is set by env: a pod variable would replace the image's value; pick another name", d.Name)
		}
		if seen[d.Name] {
			v.fail(f+".name", "%s is listed twice", d.Name)
		}
		seen[d.Name] = true
		for _, pre := range p.WarnEnvPrefixes {
			if strings.HasPrefix(d.Name, pre) {
				v.fail(f+".name", "%s starts with %s, which warnEnvPrefixes says the agent must not see", d.Name, pre)
			}
		}
		if !downwardFieldPath.MatchString(d.FieldPath) {
			v.fail(f+".fieldPath", "%q is not a pod field the downward API gives to env (metadata.name, metadata.namespace, metadata.uid, metadata.labels['KEY'], spec.nodeName, status.podIP, ...)", d.FieldPath)
		}
	}
}

// value refuses what cannot be written into an image config or a config
// file line (see CheckValue).
func (v *validator) value(field, s string) {
	if err := CheckValue(field, s); err != nil {
		v.errs = append(v.errs, fmt.Errorf("profile %s: %w", v.src, err))
	}
}

func (v *validator) relPath(field, p string) {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../") {
		v.fail(field, "%q must be a clean path relative to the agent folder", p)
	}
}

func (v *validator) configKey(field, k string) {
	if k == "" || strings.ContainsAny(k, "=:[]#;\n") || strings.TrimSpace(k) != k {
		v.fail(field, "%q is not a valid config key", k)
	}
}

func (v *validator) templ(field, s string, vars map[string]bool) {
	for _, name := range templateVars(s) {
		if !vars[name] {
			v.fail(field, "unknown variable ${%s} (declare it under params or use one of %s)", name, strings.Join(builtinVars, ", "))
		}
	}
	// A "${" that is not a well-formed reference is almost surely a typo.
	if strings.Count(s, "${") != len(varRef.FindAllStringIndex(s, -1)) {
		v.fail(field, "malformed ${...} in %q", s)
	}
}

func (v *validator) regex(field, expr string, wantGroup bool) {
	re, err := regexp.Compile(expr)
	if err != nil {
		v.fail(field, "%v", err)
		return
	}
	if wantGroup && re.NumSubexp() < 1 {
		v.fail(field, "%q needs a capture group for the version", expr)
	}
}

// parseMode reads an octal mode string as written ("0644", "644" or YAML
// 1.2's "0o644"); "" is 0644.
func parseMode(s string) (uint32, error) {
	if s == "" {
		return 0o644, nil
	}
	digits := s
	if len(s) > 2 && (s[:2] == "0o" || s[:2] == "0O") {
		digits = s[2:]
	}
	m, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("%q is not an octal file mode like 0644 or 0755", s)
	}
	return uint32(m), nil
}

// normArch maps common aliases to OCI architecture names.
func normArch(a string) string {
	switch strings.ToLower(a) {
	case "x86_64", "x86-64", "x64":
		return "amd64"
	case "aarch64":
		return "arm64"
	}
	return strings.ToLower(a)
}

// BundleReads are the bundle files a plan with this profile reads the
// content of (the config file and the version file), bundle-relative.
func (p *Profile) BundleReads() []string {
	var out []string
	if p.Config != nil && p.Config.Path != "" {
		out = append(out, p.Config.Path)
	}
	if p.VersionFrom != nil && p.VersionFrom.File != "" {
		out = append(out, p.VersionFrom.File)
	}
	return out
}

var targetSuffix = regexp.MustCompile(`^-[a-z0-9][a-z0-9._-]{0,39}$`)

// Suffix is the tag suffix of this profile's outputs (TargetSuffix, else
// derived from the agent's name).
func (p *Profile) Suffix() string {
	if p.TargetSuffix != "" {
		return p.TargetSuffix
	}
	return AgentSuffix(p.Agent)
}

// AgentSuffix is the default tag suffix for an agent's name: "-" and the
// name in lowercase letters and digits ("JENNIFER" gives "-jennifer").
func AgentSuffix(agent string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(agent) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "-monitored"
	}
	return "-" + b.String()
}

// MarkerMatches reports whether the bundle path p (a folder's ending in
// "/") is what the marker names: the path itself, or a match of it as a
// path.Match pattern.
func MarkerMatches(marker, p string) bool {
	p = strings.TrimSuffix(p, "/")
	if p == marker {
		return true
	}
	ok, err := path.Match(marker, p)
	return err == nil && ok
}
