package buildplan

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// ContentPaths lists the image files whose content detection may read
// (the rest is only stat'ed or listed), so the I/O side can keep exactly
// these while it scans layers instead of buffering whole layers.
func ContentPaths() []string {
	return []string{passwdPath, groupPath}
}

// DetectRuntime finds the language runtime the image runs. The image config
// is consulted first (entrypoint/cmd, then well-known ENV set by official
// base images); the image's files are looked at only when the config is
// inconclusive, because reading files may mean downloading layers.
func DetectRuntime(img Image) (Finding, error) {
	f, _, err := detectRuntime(img)
	return f, err
}

// detectRuntime also returns the libc finding when it had to compute it
// (native detection needs it), so Make does not scan twice.
func detectRuntime(img Image) (Finding, *Finding, error) {
	f, conclusive := runtimeFromConfig(img.Config.Entrypoint, img.Config.Cmd, img.Config.Env)
	if conclusive {
		f.Evidence = append(f.Evidence, "files: not inspected: the config is conclusive")
		return f, nil, nil
	}
	if img.FS == nil {
		f.Value = string(RuntimeUnknown)
		f.Evidence = append(f.Evidence, "files: not inspected: image files not available")
		return f, nil, nil
	}
	return runtimeFromFiles(img, f)
}

// Known runtime executables and the usual launchers of each runtime. A
// launcher counts as the runtime because it embeds or execs it (gunicorn is
// Python, apache2-foreground is the PHP image's Apache with mod_php).
var (
	pythonWord = regexp.MustCompile(`^python([0-9]+(\.[0-9]+)*)?$`)
	phpWord    = regexp.MustCompile(`^php(-fpm|-cgi)?([0-9]+(\.[0-9]+)*)?$`)
	verInWord  = regexp.MustCompile(`[0-9]+\.[0-9]+`)

	commandRuntimes = map[string]Runtime{
		"java": RuntimeJava, "catalina.sh": RuntimeJava, "catalina": RuntimeJava,
		"dotnet": RuntimeDotnet,
		"node":   RuntimeNodejs, "nodejs": RuntimeNodejs, "npm": RuntimeNodejs, "npx": RuntimeNodejs,
		"yarn": RuntimeNodejs, "pnpm": RuntimeNodejs, "pm2": RuntimeNodejs, "pm2-runtime": RuntimeNodejs,
		"gunicorn": RuntimePython, "uvicorn": RuntimePython, "uwsgi": RuntimePython, "hypercorn": RuntimePython,
		"daphne": RuntimePython, "celery": RuntimePython, "flask": RuntimePython, "django-admin": RuntimePython,
		"apache2-foreground": RuntimePHP, "frankenphp": RuntimePHP,
	}
	shells   = map[string]bool{"sh": true, "bash": true, "dash": true, "ash": true, "zsh": true}
	wrappers = map[string]bool{"tini": true, "tini-static": true, "dumb-init": true, "catatonit": true, "exec": true, "env": true, "nohup": true}
	// takeArg: wrappers whose next argument is a user, not the command.
	userWrappers = map[string]bool{"gosu": true, "su-exec": true}
)

// envRuntimes maps variables official images set to the runtime they prove.
var envRuntimes = []struct {
	name   string
	prefix bool
	rt     Runtime
}{
	{"JAVA_HOME", false, RuntimeJava},
	{"JAVA_VERSION", false, RuntimeJava},
	{"DOTNET_VERSION", false, RuntimeDotnet},
	{"ASPNET_VERSION", false, RuntimeDotnet},
	{"ASPNETCORE_", true, RuntimeDotnet},
	{"DOTNET_RUNNING_IN_CONTAINER", false, RuntimeDotnet},
	{"NODE_VERSION", false, RuntimeNodejs},
	{"PYTHON_VERSION", false, RuntimePython},
	{"PHP_VERSION", false, RuntimePHP},
}

func runtimeFromCommandWord(word string) Runtime {
	b := path.Base(word)
	if rt, ok := commandRuntimes[b]; ok {
		return rt
	}
	if pythonWord.MatchString(b) {
		return RuntimePython
	}
	if phpWord.MatchString(b) {
		return RuntimePHP
	}
	return RuntimeUnknown
}

// effectiveCommand returns the word that actually runs: it looks through
// init wrappers (tini, dumb-init), user switchers (gosu), "sh -c" strings
// and the entrypoint scripts of official images, which exec their arguments.
func effectiveCommand(words []string) string {
	for depth := 0; len(words) > 0 && depth < 8; depth++ {
		w := words[0]
		b := path.Base(w)
		switch {
		case w == "--" || strings.HasPrefix(w, "-") || (strings.Contains(w, "=") && !strings.Contains(w, "/")):
			// wrapper flags and VAR=value assignments
			words = words[1:]
			depth--
		case shells[b]:
			if len(words) >= 3 && strings.HasPrefix(words[1], "-") && strings.Contains(words[1], "c") {
				words = strings.Fields(words[2])
				for i := range words {
					words[i] = strings.Trim(words[i], `"'`)
				}
				continue
			}
			if len(words) >= 2 {
				return words[1] // a script run by a shell: the script is the command
			}
			return w
		case wrappers[b]:
			words = words[1:]
		case userWrappers[b]:
			if len(words) < 2 {
				return w
			}
			words = words[2:]
		case strings.Contains(b, "entrypoint") && len(words) > 1:
			// docker-entrypoint.sh, docker-php-entrypoint: exec "$@".
			words = words[1:]
		default:
			return w
		}
	}
	if len(words) > 0 {
		return words[0]
	}
	return ""
}

// runtimeFromConfig reports the runtime the config proves and whether that
// is conclusive (no need to look at files).
func runtimeFromConfig(entrypoint, cmd, env []string) (Finding, bool) {
	var f Finding
	words := append(append([]string(nil), entrypoint...), cmd...)
	cmdWord := effectiveCommand(words)
	cmdRt := RuntimeUnknown
	if cmdWord != "" {
		cmdRt = runtimeFromCommandWord(cmdWord)
	}

	envFound := map[Runtime]bool{}
	var envEvidence []string
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		for _, er := range envRuntimes {
			if k == er.name || (er.prefix && strings.HasPrefix(k, er.name)) {
				envFound[er.rt] = true
				envEvidence = append(envEvidence, fmt.Sprintf("config: ENV %s=%s", k, v))
				break
			}
		}
	}

	if cmdRt != RuntimeUnknown {
		f.Value = string(cmdRt)
		f.Evidence = append(f.Evidence, fmt.Sprintf("config: command %s runs %s", describeCommand(entrypoint, cmd), cmdRt))
		f.Evidence = append(f.Evidence, envEvidence...)
		return f, true
	}
	if cmdWord != "" {
		f.Evidence = append(f.Evidence, fmt.Sprintf("config: command %s: %s is not a known runtime", describeCommand(entrypoint, cmd), path.Base(cmdWord)))
	} else {
		f.Evidence = append(f.Evidence, "config: no ENTRYPOINT or CMD")
	}
	f.Evidence = append(f.Evidence, envEvidence...)
	if len(envFound) == 1 {
		for rt := range envFound {
			f.Value = string(rt)
		}
		return f, true
	}
	if len(envFound) > 1 {
		f.Evidence = append(f.Evidence, "config: ENV names several runtimes: "+joinRuntimes(envFound))
	}
	return f, false
}

func describeCommand(entrypoint, cmd []string) string {
	all := append(append([]string(nil), entrypoint...), cmd...)
	s := fmt.Sprintf("%q", all)
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func joinRuntimes(m map[Runtime]bool) string {
	var names []string
	for rt := range m {
		names = append(names, string(rt))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// runtimeBinaries are where distributions and official images put each
// runtime. "*" entries are listed with ReadDir (/usr/lib/jvm/<jdk>/bin/java).
var runtimeBinaries = []struct {
	rt    Runtime
	paths []string
}{
	{RuntimeJava, []string{"/usr/bin/java", "/usr/local/bin/java", "/opt/java/openjdk/bin/java", "/usr/lib/jvm/*/bin/java", "/usr/lib/jvm/*/jre/bin/java"}},
	{RuntimeDotnet, []string{"/usr/bin/dotnet", "/usr/share/dotnet/dotnet", "/usr/lib/dotnet/dotnet", "/usr/local/bin/dotnet", "/opt/dotnet/dotnet"}},
	{RuntimeNodejs, []string{"/usr/bin/node", "/usr/local/bin/node", "/usr/bin/nodejs", "/nodejs/bin/node"}},
	{RuntimePython, []string{"/usr/bin/python3", "/usr/local/bin/python3", "/usr/bin/python", "/usr/local/bin/python"}},
	{RuntimePHP, []string{"/usr/bin/php", "/usr/local/bin/php", "/usr/local/sbin/php-fpm", "/usr/sbin/php-fpm*"}},
}

func runtimeFromFiles(img Image, f Finding) (Finding, *Finding, error) {
	found := map[Runtime]bool{}
	for _, rb := range runtimeBinaries {
		for _, p := range rb.paths {
			hits, err := globStat(img.FS, p)
			if err != nil {
				return f, nil, err
			}
			for _, h := range hits {
				f.Evidence = append(f.Evidence, "file: "+h)
				found[rb.rt] = true
			}
			if len(hits) > 0 {
				break
			}
		}
	}
	switch len(found) {
	case 1:
		for rt := range found {
			f.Value = string(rt)
		}
		return f, nil, nil
	case 0:
	default:
		f.Value = string(RuntimeUnknown)
		f.Evidence = append(f.Evidence, "files: several runtimes installed: "+joinRuntimes(found))
		return f, nil, nil
	}
	f.Evidence = append(f.Evidence, "files: no java, dotnet, node, python3 or php binary in the usual places")

	// No runtime at all: a binary entrypoint without a dynamic loader is a
	// Go or otherwise static program.
	libc, err := DetectLibc(img)
	if err != nil {
		return f, nil, err
	}
	f.Value = string(RuntimeUnknown)
	cmd := effectiveCommand(append(append([]string(nil), img.Config.Entrypoint...), img.Config.Cmd...))
	if cmd != "" && Libc(libc.Value) == LibcNone {
		f.Value = string(RuntimeNative)
		f.Evidence = append(f.Evidence, "files: no dynamic loader: "+path.Base(cmd)+" is a statically linked binary")
	}
	return f, &libc, nil
}

// globStat stats p, or, when p contains "*", lists the parent of the first
// wildcard component and stats each match of the remaining path.
func globStat(fsys ImageFS, p string) ([]string, error) {
	i := strings.Index(p, "*")
	if i < 0 {
		fi, err := fsys.Stat(p)
		if err != nil {
			if isNotExist(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("inspecting %s: %w", p, err)
		}
		if fi.IsDir() {
			return nil, nil
		}
		return []string{p}, nil
	}
	dir := path.Dir(p[:i+1])
	rest := strings.TrimPrefix(p, dir+"/")
	pattern, tail, _ := strings.Cut(rest, "/")
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		if isNotExist(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		if ok, _ := path.Match(pattern, e.Name()); !ok {
			continue
		}
		next := path.Join(dir, e.Name())
		if tail != "" {
			next = path.Join(next, tail)
		}
		hits, err := globStat(fsys, next)
		if err != nil {
			return nil, err
		}
		out = append(out, hits...)
	}
	sort.Strings(out)
	return out, nil
}

// isNotExist: a missing path, or a path through a non-directory.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist)
}

// DetectLibc looks for the dynamic loader: ld-musl-<arch>.so.1 means musl
// (Alpine), ld-linux*.so.* means glibc; neither means a static-only image
// (scratch, distroless/static). musl wins when both exist, because glibc
// compatibility shims on Alpine (gcompat) do not make glibc-only agents work.
func DetectLibc(img Image) (Finding, error) {
	var f Finding
	if img.FS == nil {
		f.Evidence = []string{"files: not inspected: image files not available"}
		return f, nil
	}
	var musl, glibc []string
	for _, dir := range libcDirs {
		entries, err := img.FS.ReadDir(dir)
		if err != nil {
			if isNotExist(err) {
				continue
			}
			return f, fmt.Errorf("listing %s: %w", dir, err)
		}
		for _, e := range entries {
			name := e.Name()
			p := path.Join(dir, name)
			switch {
			case strings.HasPrefix(name, "ld-musl-") && strings.HasSuffix(name, ".so.1"):
				musl = append(musl, p)
			case strings.HasPrefix(name, "ld-linux") && strings.Contains(name, ".so."):
				glibc = append(glibc, p)
			}
		}
		if len(musl)+len(glibc) > 0 {
			// The first directory with a loader decides; the others are
			// not listed (fewer layer reads).
			break
		}
	}
	switch {
	case len(musl) > 0:
		f.Value = string(LibcMusl)
		for _, p := range musl {
			f.Evidence = append(f.Evidence, "file: "+p)
		}
	case len(glibc) > 0:
		f.Value = string(LibcGlibc)
		for _, p := range glibc {
			f.Evidence = append(f.Evidence, "file: "+p)
		}
	default:
		f.Value = string(LibcNone)
		f.Evidence = append(f.Evidence, "files: no ld-musl-*.so.1 or ld-linux*.so.* in /lib, /lib64, /usr/lib, /usr/lib64")
	}
	return f, nil
}

// DetectArch reads the CPU architecture from the image platform.
func DetectArch(img Image) Finding {
	p := img.Platform
	if p.Architecture == "" {
		return Finding{Evidence: []string{"platform: not given"}}
	}
	desc := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		desc += "/" + p.Variant
	}
	return Finding{Value: normArch(p.Architecture), Evidence: []string{"platform: " + desc}}
}

// versionNumber extracts major.minor ("8.2") from strings like "8.2.12",
// "jdk-17.0.9+9", "3.11.4" or "php8.2"; a lone major ("8u292", "21") stays a
// major.
var versionNumber = regexp.MustCompile(`([0-9]+)(\.([0-9]+))?`)

func majorMinor(s string) string {
	m := versionNumber.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	if m[3] == "" {
		return m[1]
	}
	return m[1] + "." + m[3]
}

// versionEnv names, per runtime, the variables official images set to the
// runtime's version.
var versionEnv = map[Runtime][]string{
	RuntimeJava:   {"JAVA_VERSION"},
	RuntimeDotnet: {"DOTNET_VERSION", "ASPNET_VERSION"},
	RuntimeNodejs: {"NODE_VERSION"},
	RuntimePython: {"PYTHON_VERSION"},
	RuntimePHP:    {"PHP_VERSION"},
}

// DetectRuntimeVersion finds the runtime's major.minor version from the
// config: the version variables official images set, or a versioned command
// (python3.11, php-fpm8.2). Use DetectRuntimeVersionFiles when that fails
// and the version is actually needed.
func DetectRuntimeVersion(img Image, rt Runtime) Finding {
	var f Finding
	for _, name := range versionEnv[rt] {
		if v, ok := envValue(img.Config.Env, name); ok && majorMinor(v) != "" {
			f.Value = majorMinor(v)
			f.Evidence = append(f.Evidence, fmt.Sprintf("config: ENV %s=%s", name, v))
			return f
		}
	}
	word := path.Base(effectiveCommand(append(append([]string(nil), img.Config.Entrypoint...), img.Config.Cmd...)))
	if runtimeFromCommandWord(word) == rt {
		if v := verInWord.FindString(word); v != "" {
			f.Value = v
			f.Evidence = append(f.Evidence, "config: command "+word)
			return f
		}
	}
	f.Evidence = append(f.Evidence, "config: no version variable or versioned command")
	return f
}

// versionDirs are directories whose entries are named after the installed
// runtime version (Debian's /etc/php/8.2, /usr/lib/python3.11).
var versionDirs = map[Runtime][]struct {
	dir    string
	prefix string
}{
	RuntimePHP:    {{"/etc/php", ""}, {"/usr/bin", "php"}, {"/usr/local/bin", "php"}},
	RuntimePython: {{"/usr/local/lib", "python"}, {"/usr/lib", "python"}},
	RuntimeDotnet: {{"/usr/share/dotnet/shared/Microsoft.NETCore.App", ""}, {"/usr/lib/dotnet/shared/Microsoft.NETCore.App", ""}},
	RuntimeJava:   {{"/usr/lib/jvm", "java-"}},
}

// libcDirs are the folders DetectLibc lists.
var libcDirs = []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64"}

var exactVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

// DetectRuntimeVersionFiles finds the version from directory names in the
// image. Several different versions installed side by side are reported
// as unknown with the candidates in the evidence.
func DetectRuntimeVersionFiles(img Image, rt Runtime) (Finding, error) {
	var f Finding
	if img.FS == nil {
		f.Evidence = []string{"files: not inspected: image files not available"}
		return f, nil
	}
	found := map[string]string{}
	for _, vd := range versionDirs[rt] {
		entries, err := img.FS.ReadDir(vd.dir)
		if err != nil {
			if isNotExist(err) {
				continue
			}
			return f, fmt.Errorf("listing %s: %w", vd.dir, err)
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasPrefix(name, vd.prefix) {
				continue
			}
			rest := strings.TrimPrefix(name, vd.prefix)
			if rt == RuntimeJava {
				// java-17-openjdk-amd64
				rest, _, _ = strings.Cut(rest, "-")
			}
			if !exactVersion.MatchString(rest) {
				continue
			}
			if rt != RuntimeJava && !strings.Contains(rest, ".") {
				continue // python3 is not a version directory
			}
			v := majorMinor(rest)
			if _, ok := found[v]; !ok {
				found[v] = path.Join(vd.dir, name)
			}
		}
		if len(found) > 0 {
			break
		}
	}
	keys := sortedKeys(found)
	for _, k := range keys {
		f.Evidence = append(f.Evidence, "file: "+found[k])
	}
	switch len(keys) {
	case 0:
		f.Evidence = append(f.Evidence, "files: no versioned runtime directory found")
	case 1:
		f.Value = keys[0]
	default:
		f.Evidence = append(f.Evidence, "files: several versions installed: "+strings.Join(keys, ", "))
	}
	return f, nil
}
