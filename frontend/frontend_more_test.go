package frontend

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// lastLayerFiles lists the tar headers of an image's n-th layer from the top
// (0 = the last).
func layerHeaders(t *testing.T, img v1.Image, fromTop int) map[string]*tar.Header {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[len(layers)-1-fromTop].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")] = h
	}
}

// Multi-stage with --target, a non-root USER, the agent from a local named
// context: the target stage is wrapped, the agent's writable dirs belong to
// the stage's user.
func TestFrontendTargetUserAndLocalAgent(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:2")
	out := reg + "/fe/app:target"
	df := "FROM " + reg + "/fe/javabase:2 AS build\nCOPY app.jar /out/app.jar\n" +
		"FROM " + reg + "/fe/javabase:2 AS runtime\nCOPY --from=build /out/app.jar /app/app.jar\nUSER app\n" +
		"FROM runtime AS debug\nENV DEBUG=1\n"
	build{
		dockerfile: df,
		files:      map[string]string{"app.jar": "jar"},
		args:       map[string]string{ArgServerAddress: "10.0.0.5"},
		attrs:      map[string]string{"target": "runtime"},
		agentDir:   sampleAgentDir(t),
		push:       out,
	}.mustRun(t)
	img := image(t, out)
	cf, _ := img.ConfigFile()
	if envOf(cf, "DEBUG") != "" {
		t.Error("the debug stage was built: --target runtime must stop at runtime")
	}
	if cf.Config.User != "app" || !strings.Contains(envOf(cf, "JAVA_TOOL_OPTIONS"), "-javaagent:") {
		t.Errorf("user %q, JAVA_TOOL_OPTIONS %q", cf.Config.User, envOf(cf, "JAVA_TOOL_OPTIONS"))
	}
	settings := layerHeaders(t, img, 0)
	logs := settings["opt/jennifer/agent.java/logs"]
	if logs == nil || logs.Uid != 1000 || logs.Gid != 1000 {
		t.Errorf("logs dir in the settings layer = %+v, want owned by app (1000:1000)", logs)
	}
	agentFiles := layerHeaders(t, img, 1)
	jar := agentFiles["opt/jennifer/agent.java/jennifer.jar"]
	if jar == nil || jar.Uid != 0 || jar.Mode&0o022 != 0 {
		t.Errorf("jennifer.jar in the agent layer = %+v, want root-owned, not group/world-writable", jar)
	}
}

// Multi-platform from a FROM scratch stage: every platform is wrapped.
func TestFrontendMultiPlatformScratch(t *testing.T) {
	reg := testenv.RealRegistry(t)
	pushAgentImage(t, reg+"/fe/agent:java-mp")
	out := reg + "/fe/app:multi"
	build{
		dockerfile: "FROM scratch\nCOPY app.jar /app/app.jar\nENTRYPOINT [\"java\", \"-jar\", \"/app/app.jar\"]\n",
		files:      map[string]string{"app.jar": "jar"},
		args:       map[string]string{ArgAgent: reg + "/fe/agent:java-mp", ArgServerAddress: "10.0.0.5", "SOURCE_DATE_EPOCH": "0"},
		attrs:      map[string]string{"platform": "linux/amd64,linux/arm64"},
		push:       out,
	}.mustRun(t)
	a, err := openStore(t, out).Get(t.Context())
	if err != nil || a.Index == nil {
		t.Fatalf("want an index at %s: %v", out, err)
	}
	im, _ := a.Index.IndexManifest()
	seen := map[string]bool{}
	for _, d := range im.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" {
			continue
		}
		img, _ := a.Index.Image(d.Digest)
		cf, _ := img.ConfigFile()
		if !strings.Contains(envOf(cf, "JAVA_TOOL_OPTIONS"), "-javaagent:") {
			t.Errorf("%s not wrapped", d.Platform)
		}
		seen[d.Platform.Architecture] = true
	}
	if !seen["amd64"] || !seen["arm64"] {
		t.Errorf("platforms wrapped: %v", seen)
	}

	// The index unwraps to the index the same build makes without the
	// agent, digest for digest.
	plain := build{
		dockerfile: "FROM scratch\nCOPY app.jar /app/app.jar\nENTRYPOINT [\"java\", \"-jar\", \"/app/app.jar\"]\n",
		files:      map[string]string{"app.jar": "jar"},
		args:       map[string]string{ArgDisable: "1", "SOURCE_DATE_EPOCH": "0"},
		attrs:      map[string]string{"platform": "linux/amd64,linux/arm64"},
		push:       reg + "/fe/app:multi-plain",
	}.mustRun(t)
	res, err := wrap.Unwrap(t.Context(), openStore(t, out), openStore(t, reg+"/fe/app:multi-back"), wrap.Options{})
	if err != nil {
		t.Fatalf("unwrap: %v", err)
	}
	if res.TargetDigest != plain.digest {
		t.Errorf("unwrap wrote %s, the JENNIFER_DISABLE=1 build is %s: want the same index", res.TargetDigest, plain.digest)
	}
}

// JENNIFER_DISABLE=1 gives exactly what BuildKit's own Dockerfile frontend
// gives: the same image digest.
func TestFrontendDisableIsPlainDockerfile(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:3")
	df := "FROM " + reg + "/fe/javabase:3\nCOPY app.jar /app/app.jar\n"
	args := map[string]string{"SOURCE_DATE_EPOCH": "0"}
	plain := build{dockerfile: df, files: map[string]string{"app.jar": "x"}, args: args, frontend: "dockerfile.v0", push: reg + "/fe/app:plain-v0"}.mustRun(t)
	disabled := build{dockerfile: df, files: map[string]string{"app.jar": "x"}, args: map[string]string{"SOURCE_DATE_EPOCH": "0", ArgDisable: "1"}, push: reg + "/fe/app:disabled"}.mustRun(t)
	if plain.digest == "" || plain.digest != disabled.digest {
		t.Errorf("JENNIFER_DISABLE=1 digest %s, plain dockerfile.v0 digest %s: want equal", disabled.digest, plain.digest)
	}
}

// A second build with no change is answered from the cache entirely.
func TestFrontendSecondBuildCached(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:4")
	pushAgentImage(t, reg+"/fe/agent:java-cache")
	b := build{
		dockerfile: "FROM " + reg + "/fe/javabase:4\nCOPY app.jar /app/app.jar\n",
		files:      map[string]string{"app.jar": "cached"},
		args:       map[string]string{ArgAgent: reg + "/fe/agent:java-cache", ArgServerAddress: "10.0.0.5"},
	}
	b.mustRun(t)
	second := b.mustRun(t)
	// A vertex is reported several times. Its result came from the cache
	// if a report says so. Inputs of a cached MergeOp are not loaded at
	// all, so they only show their cache-key pass (never "cached"): what
	// must be cached is the merge itself and every Dockerfile step.
	cached, names := map[string]bool{}, map[string]string{}
	for _, s := range second.statuses {
		for _, v := range s.Vertexes {
			names[v.Digest.String()] = v.Name
			cached[v.Digest.String()] = cached[v.Digest.String()] || v.Cached
		}
	}
	var merge, steps int
	for d, name := range names {
		isStep := strings.HasPrefix(name, "[") && strings.Contains(name, "/") && !strings.Contains(name, "] FROM ") && !strings.HasPrefix(name, "[internal]") && !strings.HasPrefix(name, "[jbuild]")
		isMerge := strings.HasPrefix(name, "[jbuild] add the")
		if isStep {
			steps++
		}
		if isMerge {
			merge++
		}
		if (isStep || isMerge) && !cached[d] {
			t.Errorf("second build ran %q again instead of using the cache", name)
		}
	}
	if merge != 1 || steps == 0 {
		t.Errorf("second build shows %d merge and %d Dockerfile steps; want 1 and some", merge, steps)
	}
}

// Errors fail the build with a message that says what to fix, in build
// args: never a flag of jbuild's CLI, nor buildplan's neutral words.
func TestFrontendErrors(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:5")
	java := "FROM " + reg + "/fe/javabase:5\n"
	for _, tc := range []struct {
		name, dockerfile string
		args             map[string]string
		agentDir         bool
		want             string
	}{
		{"missing agent image", java, map[string]string{ArgAgent: reg + "/fe/no-such-agent:1", ArgServerAddress: "10.0.0.5"}, false, "agent image " + reg + "/fe/no-such-agent:1"},
		{"no agent at all", java, map[string]string{ArgServerAddress: "10.0.0.5"}, false, "no agent"},
		{"bad port", java, map[string]string{ArgServerPort: "http"}, true, ArgServerPort},
		{"bad runtime", java, map[string]string{ArgRuntime: "cobol"}, true, ArgRuntime},
		{"unsupported runtime", "FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n", map[string]string{ArgServerAddress: "10.0.0.5"}, true, "set build-arg " + ArgRuntime},
		{"missing server address", java, nil, true, "set build-arg " + ArgServerAddress + " or set it in the agent bundle's conf/jennifer.conf"},
		{"domain id above the agent's range", java, map[string]string{ArgServerAddress: "10.0.0.5", ArgDomainID: "40000"}, true, "build-arg " + ArgDomainID + " 40000: the JENNIFER agent takes domain ids from 1 to 32767"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := build{dockerfile: tc.dockerfile, files: map[string]string{"app": "x"}, args: tc.args}
			if tc.agentDir {
				b.agentDir = sampleAgentDir(t)
			}
			_, err := b.run(t)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
			if err != nil && cliWords.MatchString(err.Error()) {
				t.Errorf("err = %v names a flag of the CLI or an option in buildplan's words", err)
			}
		})
	}
}

// cliWords are how the CLI and buildplan's own text name options.
var cliWords = regexp.MustCompile(`--(server-address|server-port|domain-id|runtime|param|profile)\b|set option `)

// RUN steps with a secret and a cache mount build as with BuildKit's own
// frontend, and the result is wrapped.
func TestFrontendSecretsAndCacheMounts(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:run")
	out := reg + "/fe/app:run"
	df := "FROM " + reg + "/fe/javabase:run\n" +
		"RUN --mount=type=secret,id=token test \"$(cat /run/secrets/token)\" = s3cret && touch /secret-was-readable\n" +
		"RUN --mount=type=cache,target=/var/cache/app echo cached > /var/cache/app/x && cp /var/cache/app/x /cache-was-mounted\n"
	build{
		dockerfile: df,
		args:       map[string]string{ArgServerAddress: "10.0.0.5"},
		agentDir:   sampleAgentDir(t),
		secrets:    map[string][]byte{"token": []byte("s3cret")},
		push:       out,
	}.mustRun(t)
	img := image(t, out)
	layers, _ := img.Layers()
	found := map[string]bool{}
	for i := 2; i < len(layers); i++ { // the RUN layers sit below agent + settings
		for name := range layerHeaders(t, img, i) {
			found[name] = true
		}
	}
	for _, f := range []string{"secret-was-readable", "cache-was-mounted"} {
		if !found[f] {
			t.Errorf("no /%s in the image: the RUN step did not see its mount", f)
		}
	}
	if found["run/secrets/token"] {
		t.Error("the secret leaked into a layer")
	}
	cf, _ := img.ConfigFile()
	if !strings.Contains(envOf(cf, "JAVA_TOOL_OPTIONS"), "-javaagent:") {
		t.Error("not wrapped")
	}
}

// An agent file over BuildKit's 16 MiB single-read limit is read in chunks.
func TestFrontendLargeAgentFile(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:large")
	dir := filepath.Join(t.TempDir(), "agent.java")
	if err := os.CopyFS(dir, os.DirFS(sampleAgentDir(t))); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), (17<<20)/16)
	if err := os.WriteFile(filepath.Join(dir, "lib-big.jar"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	out := reg + "/fe/app:large"
	build{
		dockerfile: "FROM " + reg + "/fe/javabase:large\n",
		args:       map[string]string{ArgServerAddress: "10.0.0.5"},
		agentDir:   dir,
		push:       out,
	}.mustRun(t)
	h := layerHeaders(t, image(t, out), 1)["opt/jennifer/agent.java/lib-big.jar"]
	if h == nil || h.Size != int64(len(big)) {
		t.Errorf("lib-big.jar in the agent layer = %+v, want %d bytes", h, len(big))
	}
}
