package k8s

import (
	"path"
	"regexp"
	"strings"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// launchers are programs that start a runtime, or are the runtime, and
// pass it the container's environment (JAVA_TOOL_OPTIONS, NODE_OPTIONS,
// PYTHONPATH, PHP_INI_SCAN_DIR and CORECLR_* all reach the process).
var launchers = map[buildplan.Runtime]*regexp.Regexp{
	buildplan.RuntimeJava:   regexp.MustCompile(`^(java|catalina\.sh|catalina|startup\.sh|standalone\.sh|mvn|mvnw|gradle|gradlew|jshell|kotlin|jbang)$`),
	buildplan.RuntimeDotnet: regexp.MustCompile(`^dotnet$`),
	buildplan.RuntimeNodejs: regexp.MustCompile(`^(node|nodejs|npm|npx|yarn|pnpm|pm2|pm2-runtime|ts-node|tsx|nodemon)$`),
	buildplan.RuntimePython: regexp.MustCompile(`^(python[0-9.]*|gunicorn|uvicorn|hypercorn|daphne|celery|flask|django-admin|waitress-serve|uwsgi|fastapi|streamlit)$`),
	buildplan.RuntimePHP:    regexp.MustCompile(`^(php[0-9.]*|php-fpm[0-9.]*|php-cgi[0-9.]*|apache2-foreground|apache2|apache2ctl|apachectl|httpd|frankenphp|rr)$`),
}

// envClear finds `env -i` in a shell script.
var envClear = regexp.MustCompile(`(^|[\s;&|(])env\s+(-i|--ignore-environment|-)(\s|$)`)

var shells = regexp.MustCompile(`^(sh|bash|ash|dash|zsh|busybox)$`)

// commandVerdict is what lint concludes about a container's command.
type commandVerdict struct {
	ok        bool
	clearsEnv bool              // env -i
	other     buildplan.Runtime // the command starts another runtime
	program   string            // the program that finally runs
	opaque    bool              // a shell script lint cannot see into
}

// runtimeOf names the runtime a program starts ("" when unknown).
func runtimeOf(prog string) buildplan.Runtime {
	base := path.Base(prog)
	for rt, re := range launchers {
		if re.MatchString(base) {
			return rt
		}
	}
	return ""
}

// judgeCommand looks at argv (a container's command, or its args when the
// image has no ENTRYPOINT) for runtime rt. entrypoint is the image's own,
// when known: running it is always fine.
func judgeCommand(argv []string, rt buildplan.Runtime, entrypoint []string) commandVerdict {
	argv = unwrapLaunch(argv)
	if len(argv) == 0 {
		return commandVerdict{ok: true}
	}
	if argv[0] == "\x00env-i" {
		return commandVerdict{clearsEnv: true, program: "env -i"}
	}
	prog := path.Base(argv[0])
	v := commandVerdict{program: argv[0]}
	if len(entrypoint) > 0 && path.Base(entrypoint[0]) == prog {
		v.ok = true
		return v
	}
	if shells.MatchString(prog) {
		script := ""
		for i, a := range argv[1:] {
			if a == "-c" && i+2 < len(argv) {
				script = argv[i+2]
				break
			}
		}
		if script == "" {
			v.opaque = true
			return v
		}
		if envClear.MatchString(script) {
			return commandVerdict{clearsEnv: true, program: "env -i"}
		}
		var found []buildplan.Runtime
		for _, word := range strings.FieldsFunc(script, func(r rune) bool { return strings.ContainsRune(" \t\n;&|()`'\"", r) }) {
			if r := runtimeOf(word); r != "" {
				found = append(found, r)
			}
		}
		for _, r := range found {
			if r == rt || rt == "" {
				v.ok = true
				return v
			}
		}
		if len(found) > 0 {
			v.other = found[0]
			return v
		}
		v.opaque = true
		return v
	}
	switch r := runtimeOf(prog); {
	case r == "":
		v.opaque = true
	case r == rt || rt == "":
		v.ok = true
	default:
		v.other = r
	}
	return v
}

// unwrapLaunch skips process wrappers that keep the environment (tini,
// dumb-init, env NAME=VALUE, exec, nice) and reports env -i as "\x00env-i".
func unwrapLaunch(argv []string) []string {
	for len(argv) > 0 {
		switch path.Base(argv[0]) {
		case "tini", "dumb-init", "exec", "nice", "nohup", "setpriv":
			argv = argv[1:]
			for len(argv) > 0 && strings.HasPrefix(argv[0], "-") {
				stop := argv[0] == "--"
				argv = argv[1:]
				if stop {
					break
				}
			}
		case "env":
			argv = argv[1:]
			for len(argv) > 0 && (strings.HasPrefix(argv[0], "-") || strings.Contains(argv[0], "=")) {
				if argv[0] == "-i" || argv[0] == "--ignore-environment" || argv[0] == "-" {
					return []string{"\x00env-i"}
				}
				argv = argv[1:]
			}
		default:
			return argv
		}
	}
	return argv
}
