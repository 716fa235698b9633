package buildplan

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Modes of the agent layer. They are fixed, not copied from the bundle, so
// the layer is the same whatever archive format delivered the agent, and
// setuid/setgid/sticky or world-writable bits cannot get in.
const (
	modeDir         fs.FileMode = 0o755
	modeFile        fs.FileMode = 0o644
	modeExec        fs.FileMode = 0o755
	modeWritableDir fs.FileMode = 0o775 // group-writable: OpenShift-style random uids run with gid 0
	modeWritable    fs.FileMode = 0o664
	modeWritableX   fs.FileMode = 0o775
	modeSymlink     fs.FileMode = 0o777
)

// buildLayer lays out the agent layer: the parents of the install dir, the
// bundle, the generated config and files, the writable dirs. It returns the
// entries sorted by path (so parents come before children) plus the
// absolute path of the generated config file and warnings.
func buildLayer(prof *Profile, agent Agent, user User, vars map[string]string, n Namer) ([]LayerEntry, string, []string, error) {
	l := &layout{prof: prof, user: user, entries: map[string]*LayerEntry{}}
	var warnings []string

	// Parents of the install dir: root-owned 0755, which is what every base
	// image has for /opt and what a later `mkdir -p` would create.
	for dir := path.Dir(prof.InstallDir); dir != "/"; dir = path.Dir(dir) {
		l.entries[dir] = &LayerEntry{Path: dir, Type: TypeDir, Mode: modeDir}
	}
	l.entries[prof.InstallDir] = &LayerEntry{Path: prof.InstallDir, Type: TypeDir, Mode: modeDir}

	for _, f := range agent.Files {
		if err := l.addBundleFile(f); err != nil {
			return nil, "", nil, err
		}
	}
	for _, d := range prof.WritableDirs {
		l.ensureDir(d)
	}

	var configFile string
	if c := prof.Config; c != nil {
		content, w, err := renderConfigFile(prof, agent, vars, n)
		if err != nil {
			return nil, "", nil, err
		}
		warnings = append(warnings, w...)
		l.addGenerated(c.Path, []byte(content), false)
		configFile = path.Join(prof.InstallDir, c.Path)
	}
	for i, f := range prof.Files {
		rel, err := expand(f.Path, vars)
		if err != nil {
			return nil, "", nil, fmt.Errorf("profile %s: files[%d].path: %w", prof.Name, i, err)
		}
		if !validRel(rel) {
			return nil, "", nil, fmt.Errorf("profile %s: files[%d].path: %q is not a clean relative path", prof.Name, i, rel)
		}
		content, err := expand(f.Content, vars)
		if err != nil {
			return nil, "", nil, fmt.Errorf("profile %s: files[%d].content: %w", prof.Name, i, err)
		}
		mode, _ := parseMode(f.Mode) // validated with the profile
		l.addGenerated(rel, []byte(content), mode&0o111 != 0)
	}

	out := make([]LayerEntry, 0, len(l.entries))
	for _, e := range l.entries {
		out = append(out, *e)
	}
	// Plain byte order puts every directory before its children, since a
	// parent path is a prefix of its children's paths.
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, configFile, warnings, nil
}

type layout struct {
	prof    *Profile
	user    User
	entries map[string]*LayerEntry
}

func validRel(rel string) bool {
	return rel != "" && rel != "." && !path.IsAbs(rel) && path.Clean(rel) == rel && rel != ".." && !strings.HasPrefix(rel, "../")
}

func (l *layout) writable(rel string) bool {
	for _, d := range l.prof.WritableDirs {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

func (l *layout) executable(rel string) bool {
	for _, g := range l.prof.Executables {
		if ok, _ := path.Match(g, rel); ok {
			return true
		}
	}
	return false
}

// owner gives writable paths to the runtime user, everything else to root.
func (l *layout) owner(e *LayerEntry, rel string) {
	if l.writable(rel) {
		e.UID, e.GID = l.user.UID, l.user.GID
	}
}

func (l *layout) abs(rel string) string { return path.Join(l.prof.InstallDir, rel) }

// ensureDir adds rel and its parents (inside the install dir) as dirs.
// It stops at the first one already there: every dir inside the install
// dir is added here, parents included, so the rest are there too. (Walking
// on made a bundle of N nested folders cost O(N³): an agent archive with
// 4,000 nested folders kept jbuild busy for hours; found by the hostile
// corpus's long-name case.)
func (l *layout) ensureDir(rel string) {
	for ; rel != "." && rel != ""; rel = path.Dir(rel) {
		p := l.abs(rel)
		if e, ok := l.entries[p]; ok && e.Type == TypeDir {
			break
		}
		e := &LayerEntry{Path: p, Type: TypeDir, Mode: modeDir}
		if l.writable(rel) {
			e.Mode = modeWritableDir
		}
		l.owner(e, rel)
		l.entries[p] = e
	}
}

func (l *layout) fileMode(rel string, exec bool) fs.FileMode {
	exec = exec || l.executable(rel)
	switch {
	case l.writable(rel) && exec:
		return modeWritableX
	case l.writable(rel):
		return modeWritable
	case exec:
		return modeExec
	}
	return modeFile
}

func (l *layout) addBundleFile(f AgentFile) error {
	rel := strings.TrimSuffix(f.Path, "/")
	if !validRel(rel) {
		return fmt.Errorf("agent bundle entry %q: not a clean path inside the agent folder", f.Path)
	}
	if dir := path.Dir(rel); dir != "." {
		l.ensureDir(dir)
	}
	switch {
	case f.Mode.IsDir():
		l.ensureDir(rel)
	case f.Mode&fs.ModeSymlink != 0:
		if f.Link == "" || path.IsAbs(f.Link) || !validRel(path.Join(path.Dir(rel), f.Link)) {
			return fmt.Errorf("agent bundle entry %q: symlink to %q leaves the agent folder", f.Path, f.Link)
		}
		e := &LayerEntry{Path: l.abs(rel), Type: TypeSymlink, Mode: modeSymlink, Link: f.Link}
		l.owner(e, rel)
		l.entries[e.Path] = e
	case f.Mode.IsRegular():
		e := &LayerEntry{Path: l.abs(rel), Type: TypeFile, Mode: l.fileMode(rel, false), From: rel, Size: f.Size}
		l.owner(e, rel)
		l.entries[e.Path] = e
	default:
		return fmt.Errorf("agent bundle entry %q is a %s; only files, directories and symlinks can be installed", f.Path, f.Mode.Type())
	}
	return nil
}

// addGenerated adds (or replaces a bundle file with) generated content.
func (l *layout) addGenerated(rel string, content []byte, exec bool) {
	if dir := path.Dir(rel); dir != "." {
		l.ensureDir(dir)
	}
	e := &LayerEntry{Path: l.abs(rel), Type: TypeFile, Mode: l.fileMode(rel, exec), Content: content, Size: int64(len(content))}
	l.owner(e, rel)
	l.entries[e.Path] = e
}

// renderConfigFile merges the profile's config values into the bundle's own
// config file and checks the required keys.
func renderConfigFile(prof *Profile, agent Agent, vars map[string]string, n Namer) (string, []string, error) {
	c := prof.Config
	var base []byte
	inBundle := false
	for _, f := range agent.Files {
		if f.Path == c.Path && f.Mode.IsRegular() {
			inBundle = true
		}
	}
	if inBundle {
		if agent.ReadFile == nil {
			return "", nil, fmt.Errorf("reading %s from the agent bundle: the bundle cannot be read", c.Path)
		}
		data, err := agent.ReadFile(c.Path)
		if err != nil {
			return "", nil, fmt.Errorf("reading %s from the agent bundle: %w", c.Path, err)
		}
		base = data
	}
	values := map[string]string{}
	for _, k := range sortedKeys(c.Values) {
		v, err := expand(c.Values[k], vars)
		if err != nil {
			return "", nil, fmt.Errorf("profile %s: config.values.%s: %w", prof.Name, k, err)
		}
		if err := CheckValue(fmt.Sprintf("profile %s: config.values.%s (after templating)", prof.Name, k), v); err != nil {
			return "", nil, err
		}
		values[k] = v
	}
	defaults := map[string]string{}
	for _, k := range sortedKeys(c.Defaults) {
		v, err := expand(c.Defaults[k], vars)
		if err != nil {
			return "", nil, fmt.Errorf("profile %s: config.defaults.%s: %w", prof.Name, k, err)
		}
		if err := CheckValue(fmt.Sprintf("profile %s: config.defaults.%s (after templating)", prof.Name, k), v); err != nil {
			return "", nil, err
		}
		defaults[k] = v
	}
	content := MergeConfig(base, c.Format, c.Section, values, defaults)

	written := map[string]string{}
	for _, k := range configKeyOrder(values, defaults) {
		if v := configValue(content, c.Format, c.Section, k); v != "" && (v == values[k] || v == defaults[k]) {
			written[k] = v
		}
	}
	warnings := configSecretWarnings(content, c, written)
	var errs []error
	for _, k := range c.Required {
		v := configValue(content, c.Format, c.Section, k)
		if v == "" {
			hint := "set it in the agent bundle's " + c.Path
			if tmpl, ok := c.Values[k]; ok {
				hint = emptyHint(tmpl, vars, n) + " or " + hint
			}
			errs = append(errs, fmt.Errorf("%s needs %s and neither the options nor the agent bundle's %s set it: %s", prof.Name, k, c.Path, hint))
			continue
		}
		if isLoopback(v) {
			warnings = append(warnings, fmt.Sprintf("%s = %s in %s points at the container itself: the agent reaches a data server only on the same host network (docker run --network host); use the server's address otherwise", k, v, c.Path))
		}
	}
	return content, warnings, errors.Join(errs...)
}

func isLoopback(v string) bool {
	if v == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(v)
	return err == nil && ip.IsLoopback()
}

// bundleVersion reads the agent version as the profile says; "" when not
// found (the version is informative, not required).
func bundleVersion(vs *VersionSpec, agent Agent) string {
	if vs.FileName != "" {
		re := regexp.MustCompile(vs.FileName) // validated with the profile
		paths := make([]string, 0, len(agent.Files))
		for _, f := range agent.Files {
			paths = append(paths, f.Path)
		}
		sort.Strings(paths)
		for _, p := range paths {
			if m := re.FindStringSubmatch(p); m != nil {
				return m[1]
			}
		}
		// A single-file agent installed under another name keeps its
		// version in the name it was given as.
		if m := re.FindStringSubmatch(path.Base(agent.Source)); m != nil && agent.Source != "" {
			return m[1]
		}
		return ""
	}
	if agent.ReadFile == nil {
		return ""
	}
	data, err := agent.ReadFile(vs.File)
	if err != nil {
		return ""
	}
	if vs.Regex == "" {
		return strings.TrimSpace(string(data))
	}
	if m := regexp.MustCompile(vs.Regex).FindSubmatch(data); m != nil {
		return string(m[1])
	}
	return ""
}

// BundleLayer lays out the bundle as shipped under the profile's install
// dir, for agent images (`jbuild agent push`): no generated config or files,
// no writable directories, everything root:root with the standard modes. The
// wrap plan later re-owns what the image's user must write.
func BundleLayer(prof *Profile, agent Agent) ([]LayerEntry, error) {
	if err := prof.Validate(); err != nil {
		return nil, err
	}
	plain := *prof
	plain.WritableDirs = nil
	l := &layout{prof: &plain, entries: map[string]*LayerEntry{}}
	for dir := path.Dir(prof.InstallDir); dir != "/"; dir = path.Dir(dir) {
		l.entries[dir] = &LayerEntry{Path: dir, Type: TypeDir, Mode: modeDir}
	}
	l.entries[prof.InstallDir] = &LayerEntry{Path: prof.InstallDir, Type: TypeDir, Mode: modeDir}
	for _, f := range agent.Files {
		if err := l.addBundleFile(f); err != nil {
			return nil, err
		}
	}
	out := make([]LayerEntry, 0, len(l.entries))
	for _, e := range l.entries {
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// BundleVersion reads the agent version from the bundle as the profile's
// versionFrom says; "" when the profile has none or the bundle does not tell.
func BundleVersion(prof *Profile, agent Agent) string {
	if prof.VersionFrom == nil {
		return ""
	}
	return bundleVersion(prof.VersionFrom, agent)
}

// settingsLayer returns the entries of the final view that the agent layer
// does not already have exactly (same type, mode, owner and content source).
// Applied on top of the agent layer they give precisely the final view:
// every path of the agent layer is also in the final view, and each entry
// that differs is overridden by its settings entry.
func settingsLayer(final, agent []LayerEntry) []LayerEntry {
	have := make(map[string]LayerEntry, len(agent))
	for _, e := range agent {
		have[e.Path] = e
	}
	var out []LayerEntry
	for _, e := range final {
		if a, ok := have[e.Path]; ok && sameEntry(a, e) {
			continue
		}
		out = append(out, e)
	}
	return out
}

func sameEntry(a, b LayerEntry) bool {
	return a.Type == b.Type && a.Mode == b.Mode && a.UID == b.UID && a.GID == b.GID &&
		a.From == b.From && a.Link == b.Link && a.Content == nil && b.Content == nil
}

// volumes lists the writable dirs of the final view that hold no file (a
// mount over them hides nothing), then the profile's own volumes, sorted.
func volumes(prof *Profile, final []LayerEntry) []string {
	var out []string
	for _, d := range prof.WritableDirs {
		dir := path.Join(prof.InstallDir, d)
		empty := true
		for _, e := range final {
			if e.Type != TypeDir && strings.HasPrefix(e.Path, dir+"/") {
				empty = false
				break
			}
		}
		if empty {
			out = append(out, dir)
		}
	}
	out = append(out, prof.Volumes...)
	sort.Strings(out)
	return out
}
