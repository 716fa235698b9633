package k8s

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/templates"
)

// fakeFiles is an image filesystem of owners and modes.
type fakeFiles map[string]fakeInfo

type fakeInfo struct {
	name     string
	mode     fs.FileMode
	uid, gid int
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return imagefs.Owner{UID: f.uid, GID: f.gid} }

func (f fakeFiles) Stat(p string) (fs.FileInfo, error) {
	if fi, ok := f[p]; ok {
		return fi, nil
	}
	return nil, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
}

func (f fakeFiles) ReadDir(dir string) ([]fs.DirEntry, error) {
	var out []fs.DirEntry
	for p, fi := range f {
		if path.Dir(p) == dir && p != dir {
			out = append(out, fs.FileInfoToDirEntry(fi))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func files(entries ...string) fakeFiles {
	f := fakeFiles{}
	for _, e := range entries { // "path uid:gid mode", dirs end in /
		var p string
		var uid, gid int
		var mode uint32
		fmt.Sscanf(e, "%s %d:%d %o", &p, &uid, &gid, &mode)
		m := fs.FileMode(mode)
		if strings.HasSuffix(p, "/") {
			m |= fs.ModeDir
			p = strings.TrimSuffix(p, "/")
		}
		f[p] = fakeInfo{name: path.Base(p), mode: m, uid: uid, gid: gid}
	}
	return f
}

// lintImages are the images the testdata manifests name.
func lintImages(t testing.TB) map[string]*Image {
	java := monitored(t, "reg.example/shop/java:1-jennifer", "jennifer-java", 1000, 1000, "/opt/jennifer/agent.java/logs",
		"JAVA_TOOL_OPTIONS=-Xmx512m -javaagent:/opt/jennifer/agent.java/jennifer.jar -Djennifer.config=/opt/jennifer/agent.java/conf/jennifer.conf")
	java.Entrypoint = []string{"/usr/bin/java-launcher"}
	java.Labels[buildplan.LabelConfig] = "/opt/jennifer/agent.java/conf/jennifer.conf"
	java.Files = files(
		"/opt/jennifer/ 0:0 0755", "/opt/jennifer/agent.java/ 0:0 0755", "/opt/jennifer/agent.java/jennifer.jar 0:0 0644",
		"/opt/jennifer/agent.java/conf/ 1000:1000 0775", "/opt/jennifer/agent.java/conf/jennifer.conf 1000:1000 0664",
		"/opt/jennifer/agent.java/logs/ 1000:1000 0775")
	razor := monitored(t, "reg.example/shop/razor:1-jennifer", "jennifer-dotnet", 1000, 1000, "/opt/jennifer/agent.dotnet/logs",
		"CORECLR_ENABLE_PROFILING=1", "CORECLR_PROFILER={6C7CAF0F-D0E5-4274-A71B-6551761BBDC8}",
		"CORECLR_PROFILER_PATH=/opt/jennifer/agent.dotnet/bin/libAriesProfiler.so", "ARIES_SERVER_ADDRESS=10.0.0.5")
	python := monitored(t, "reg.example/shop/python:1-jennifer", "jennifer-python", 1000, 1000, "/opt/jennifer/agent.python/logs,/tmp",
		"PYTHONPATH=/opt/jennifer/agent.python/jennifer/admin")
	plain := &Image{Ref: "reg.example/shop/plain:1", Reachable: true, Labels: map[string]string{}, UID: i64(0), GID: i64(0)}
	return map[string]*Image{java.Ref: java, razor.Ref: razor, python.Ref: python, plain.Ref: plain}
}

func fakeLookup(imgs map[string]*Image) Lookup {
	return func(_ context.Context, ref string) (*Image, error) {
		if img, ok := imgs[ref]; ok {
			return img, nil
		}
		return nil, errors.New("no such host")
	}
}

// TestLintTable: each manifest in testdata/lint gives exactly these
// findings ("severity rule resource container field").
func TestLintTable(t *testing.T) {
	tests := map[string][]string{
		"clean.yaml": nil,
		"env.yaml": {
			"error env-override Deployment/java-env app spec.template.spec.containers[0].env[0]",
			"warning env-prefix Deployment/java-env app spec.template.spec.containers[0].env[1]",
			"error env-override StatefulSet/dotnet web spec.template.spec.containers[0].env[0]",
			"error env-override StatefulSet/dotnet web spec.template.spec.containers[0].env[2]",
			"warning env-override StatefulSet/dotnet web spec.template.spec.containers[0].env[1]",
			"warning env-from StatefulSet/dotnet web spec.template.spec.containers[0].envFrom",
		},
		"command.yaml": {
			"error command Job/other-runtime job spec.template.spec.containers[0].command",
			"warning command Pod/opaque app spec.containers[0].command",
			"error command DaemonSet/clears-env app spec.template.spec.containers[0].command",
		},
		"mounts.yaml": {
			"error read-only-root Deployment/no-volume app spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem",
			"error read-only-root Deployment/configmap-logs app spec.template.spec.containers[0].volumeMounts[0]",
			"error mount-hides-agent Deployment/hides-agent app spec.template.spec.containers[0].volumeMounts[0]",
		},
		"user.yaml": {
			"error user Deployment/other-user app spec.template.spec.securityContext.runAsUser",
			"error not-monitored Pod/plain app spec.containers[0].image",
		},
		"unreadable.yaml": {
			"warning image-unreadable Deployment/unknown app spec.template.spec.containers[0].image",
			"error env-override Deployment/unknown app spec.template.spec.containers[0].env[0]",
			"warning read-only-root Deployment/unknown app spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem",
		},
	}
	all, err := templates.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	imgs := lintImages(t)
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			p := filepath.Join("testdata", "lint", file)
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ws, err := ReadWorkloads(p, f)
			if err != nil {
				t.Fatal(err)
			}
			r := Lint(context.Background(), ws, LintOptions{Lookup: fakeLookup(imgs), Profiles: all})
			var got []string
			for _, fd := range r.Findings {
				got = append(got, fmt.Sprintf("%s %s %s %s %s", fd.Severity, fd.Rule, fd.Resource, fd.Container, fd.Field))
				if fd.File != p || fd.Message == "" || fd.Fix == "" {
					t.Errorf("finding %+v lacks file, message or fix", fd)
				}
			}
			sort.Strings(got)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				var b strings.Builder
				r.WriteText(&b)
				t.Errorf("findings:\n%s\nwant:\n%s\n\nreport:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), b.String())
			}
			wantErrors := 0
			for _, w := range want {
				if strings.HasPrefix(w, "error ") {
					wantErrors++
				}
			}
			if r.Errors != wantErrors {
				t.Errorf("Errors = %d, want %d", r.Errors, wantErrors)
			}
		})
	}
}

// Messages say what to do, with the image's own value when it is known.
func TestLintFixTexts(t *testing.T) {
	all, _ := templates.Profiles()
	p := filepath.Join("testdata", "lint", "env.yaml")
	f, _ := os.Open(p)
	defer f.Close()
	ws, err := ReadWorkloads(p, f)
	if err != nil {
		t.Fatal(err)
	}
	r := Lint(context.Background(), ws, LintOptions{Lookup: fakeLookup(lintImages(t)), Profiles: all})
	fd := r.Findings[0]
	if fd.Rule != RuleEnvOverride || !strings.Contains(fd.Fix, "JDK_JAVA_OPTIONS") || !strings.Contains(fd.Fix, `-Xmx512m -javaagent:/opt/jennifer/agent.java/jennifer.jar -Djennifer.config=/opt/jennifer/agent.java/conf/jennifer.conf -Xmx1g`) {
		t.Errorf("first finding %+v: want the JAVA_TOOL_OPTIONS fix with the image's value plus -Xmx1g", fd)
	}
}

// Offline with --profile: the profile's log dir is required.
func TestLintOfflineProfile(t *testing.T) {
	p := filepath.Join("testdata", "lint", "mounts.yaml")
	f, _ := os.Open(p)
	defer f.Close()
	ws, err := ReadWorkloads(p, f)
	if err != nil {
		t.Fatal(err)
	}
	r := Lint(context.Background(), ws[:1], LintOptions{Profile: profile(t, "jennifer-python")})
	if r.Errors != 1 || !strings.Contains(r.Findings[0].Message, "/opt/jennifer/agent.python/logs") || strings.Contains(r.Findings[0].Message, "/tmp") {
		var b strings.Builder
		r.WriteText(&b)
		t.Errorf("want one error naming the python logs dir (and not /tmp, which is mounted):\n%s", b.String())
	}
}

func TestReadWorkloadsErrors(t *testing.T) {
	_, err := ReadWorkloads("bad.yaml", strings.NewReader("kind: Deployment\nspec: [\n"))
	if err == nil || !strings.Contains(err.Error(), "bad.yaml: document 1") {
		t.Errorf("error %v: want one naming the file and document", err)
	}
	ws, err := ReadWorkloads("x.yaml", strings.NewReader("---\n---\nkind: ConfigMap\n---\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: i}]}\n"))
	if err != nil || len(ws) != 1 || ws[0].Doc != 2 || ws[0].Resource() != "Pod/p" {
		t.Errorf("workloads %+v, %v: want Pod/p as document 2", ws, err)
	}
}

func TestJudgeCommand(t *testing.T) {
	java := buildplan.RuntimeJava
	for _, tt := range []struct {
		argv []string
		rt   buildplan.Runtime
		want string // ok, other, clears, opaque
	}{
		{[]string{"java", "-jar", "a.jar"}, java, "ok"},
		{[]string{"/opt/java/openjdk/bin/java", "-jar", "a.jar"}, java, "ok"},
		{[]string{"dumb-init", "--", "catalina.sh", "run"}, java, "ok"},
		{[]string{"env", "A=b", "java"}, java, "ok"},
		{[]string{"bash", "-c", "env -i java -jar a.jar"}, java, "clears"},
		{[]string{"sh", "-c", "node server.js"}, java, "other"},
		{[]string{"python3.11", "-m", "app"}, buildplan.RuntimePython, "ok"},
		{[]string{"gunicorn", "app:app"}, buildplan.RuntimePython, "ok"},
		{[]string{"php-fpm8.2", "-F"}, buildplan.RuntimePHP, "ok"},
		{[]string{"dotnet", "app.dll"}, buildplan.RuntimeDotnet, "ok"},
		{[]string{"npm", "start"}, buildplan.RuntimeNodejs, "ok"},
		{[]string{"/app/Web"}, buildplan.RuntimeDotnet, "opaque"},
		{[]string{"sh", "/start.sh"}, java, "opaque"},
		{[]string{"node", "x.js"}, "", "ok"},
	} {
		v := judgeCommand(tt.argv, tt.rt, nil)
		got := "opaque"
		switch {
		case v.ok:
			got = "ok"
		case v.clearsEnv:
			got = "clears"
		case v.other != "":
			got = "other"
		}
		if got != tt.want {
			t.Errorf("judgeCommand(%q, %s) = %s, want %s", tt.argv, tt.rt, got, tt.want)
		}
	}
}

// An image built with the frontend keeps its own tag (no -jennifer): lint
// tells it by its labels when it can read it, and does not guess from the
// name when it only has the manifest (offline).
func TestLintByLabelsNotName(t *testing.T) {
	manifest := func(image string) []Workload {
		doc := "kind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true, runAsUser: 1000}\n  containers:\n  - name: app\n    image: " + image +
			"\n    securityContext: {readOnlyRootFilesystem: true}\n    volumeMounts: [{name: logs, mountPath: /opt/jennifer/agent.java/logs}]\n  volumes: [{name: logs, emptyDir: {}}]\n"
		ws, err := ReadWorkloads("p.yaml", strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		return ws
	}
	imgs := lintImages(t)
	built := *imgs["reg.example/shop/java:1-jennifer"]
	built.Ref = "reg.example/shop/java:2" // what `docker buildx build` with the frontend tags
	imgs[built.Ref] = &built
	all, _ := templates.Profiles()
	for _, tt := range []struct {
		name, image string
		o           LintOptions
		rules       []string
	}{
		{"reachable, monitored, own tag", built.Ref, LintOptions{Lookup: fakeLookup(imgs), Profiles: all}, nil},
		{"reachable, plain, -jennifer tag", "reg.example/shop/fake:1-jennifer", LintOptions{Lookup: fakeLookup(map[string]*Image{
			"reg.example/shop/fake:1-jennifer": {Ref: "reg.example/shop/fake:1-jennifer", Reachable: true, Labels: map[string]string{}, UID: i64(1000)},
		}), Profiles: all}, []string{RuleNotMonitored}},
		{"offline, own tag", "reg.example/shop/java:2", LintOptions{Profile: profile(t, "jennifer-java")}, nil},
		{"offline, no profile, own tag", "reg.example/shop/java:2", LintOptions{Profiles: all}, nil},
	} {
		r := Lint(context.Background(), manifest(tt.image), tt.o)
		var rules []string
		for _, f := range r.Findings {
			if f.Rule == RuleNotMonitored || f.Rule == RuleUnreadable {
				rules = append(rules, f.Rule)
			}
		}
		if strings.Join(rules, ",") != strings.Join(tt.rules, ",") {
			var b strings.Builder
			r.WriteText(&b)
			t.Errorf("%s: image findings %v, want %v:\n%s", tt.name, rules, tt.rules, b.String())
		}
	}
}
