package e2e

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Runtime is one language runtime of the end-to-end tests: a Debian base
// with the runtime's packages, a sample HTTP app on it, and the jbuild
// profile its agent uses.
type Runtime struct {
	Name    string
	Profile string
	Rootfs  Rootfs
	// Volumes are directories the app itself (not the agent) writes, so
	// they need a writable mount under a read-only root, as in any
	// restricted pod of this app.
	Volumes []string
	// app returns the files under /app (name -> content) and the config.
	app func() (map[string][]byte, v1.Config, error)
}

// AppPortEnv is the variable the sample apps read their port from; they
// listen on 127.0.0.1 only (host networking in the tests).
const AppPortEnv = "APP_PORT"

// BaseMarker is the value of the app.marker system property the Java base
// sets through its own JAVA_TOOL_OPTIONS; the Java app answers with it.
const BaseMarker = "from-base"

const debianPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// The runtimes, with Debian bookworm's packages.
var (
	Java = Runtime{
		Name: "java", Profile: "jennifer-java",
		Rootfs: Rootfs{Name: "java", Packages: []string{"openjdk-17-jre-headless"}},
		app: func() (map[string][]byte, v1.Config, error) {
			jar, err := buildJar("apps/java/src", "jbuildapp.App", nil)
			return map[string][]byte{"app.jar": jar}, v1.Config{
				Env: []string{debianPath, "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64",
					"JAVA_TOOL_OPTIONS=-Dapp.marker=" + BaseMarker},
				Entrypoint: []string{"java", "-jar", "/app/app.jar"},
			}, err
		},
	}
	Nodejs = Runtime{
		Name: "nodejs", Profile: "jennifer-nodejs",
		Rootfs: Rootfs{Name: "nodejs", Packages: []string{"nodejs"}},
		app: func() (map[string][]byte, v1.Config, error) {
			return appFiles("apps/nodejs", "app.js", v1.Config{Env: []string{debianPath}, Entrypoint: []string{"node", "/app/app.js"}})
		},
	}
	Python = Runtime{
		Name: "python", Profile: "jennifer-python",
		Rootfs: Rootfs{Name: "python", Packages: []string{"python3"}},
		app: func() (map[string][]byte, v1.Config, error) {
			return appFiles("apps/python", "app.py", v1.Config{Env: []string{debianPath, "PYTHONUNBUFFERED=1"}, Entrypoint: []string{"python3", "/app/app.py"}})
		},
	}
	PHP = Runtime{
		Name: "php", Profile: "jennifer-php",
		Rootfs: Rootfs{Name: "php", Packages: []string{"php-cli"}},
		// OPcache (on in Debian's php-cli) creates its lock file in /tmp.
		Volumes: []string{"/tmp"},
		app: func() (map[string][]byte, v1.Config, error) {
			return appFiles("apps/php", "index.php", v1.Config{Env: []string{debianPath},
				// php -S takes its address as an argument: a shell reads APP_PORT.
				Entrypoint: []string{"/bin/sh", "-c", "exec php -S 127.0.0.1:${" + AppPortEnv + ":-8080} -t /app"}})
		},
	}
)

// Runtimes lists every runtime with a real base image.
var Runtimes = []Runtime{Java, Nodejs, Python, PHP}

// AppImage is the runtime's base plus its sample app in /app: USER app,
// WorkingDir /app, the app as entrypoint, listening on 127.0.0.1:$APP_PORT.
func (r Runtime) AppImage() (v1.Image, error) {
	base, err := r.Rootfs.Layer()
	if err != nil {
		return nil, err
	}
	files, cfg, err := r.app()
	if err != nil {
		return nil, fmt.Errorf("%s app: %w", r.Name, err)
	}
	app, err := appLayer(files)
	if err != nil {
		return nil, err
	}
	cfg.User = "app"
	cfg.WorkingDir = "/app"
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: runtime.GOARCH, OS: "linux",
		Created: v1.Time{Time: fixedTime},
		Config:  cfg,
		RootFS:  v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: v1.Time{Time: fixedTime}, CreatedBy: fmt.Sprintf("debootstrap --variant=minbase %s + %v, user app", Suite, r.Rootfs.Packages)}},
		mutate.Addendum{Layer: app, History: v1.History{Created: v1.Time{Time: fixedTime}, CreatedBy: "e2e: the sample app in /app"}},
	)
}

var fixedTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// TestdataDir is this package's testdata folder, found from the source
// file so helpers work from any test package.
func TestdataDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata")
}

func appFiles(dir, name string, cfg v1.Config) (map[string][]byte, v1.Config, error) {
	b, err := os.ReadFile(filepath.Join(TestdataDir(), dir, name))
	return map[string][]byte{name: b}, cfg, err
}

// appLayer puts files into /app, root-owned and read-only for others.
func appLayer(files map[string][]byte) (v1.Layer, error) {
	all := map[string][]byte{}
	for n, b := range files {
		all["app/"+n] = b
	}
	return filesLayer(all)
}

// filesLayer is a layer of root-owned files (paths relative to /, parent
// directories added, 0755), mode 0644, or 0755 for paths ending in "*"
// (the "*" is dropped).
func filesLayer(files map[string][]byte) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := func(h *tar.Header) error {
		h.ModTime, h.Format = fixedTime, tar.FormatPAX
		return tw.WriteHeader(h)
	}
	dirs := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		data := files[name]
		mode := int64(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		for i := range len(name) {
			if d := name[:i+1]; name[i] == '/' && !dirs[d] {
				dirs[d] = true
				if err := hdr(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
					return nil, err
				}
			}
		}
		if err := hdr(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(data))}); err != nil {
			return nil, err
		}
		tw.Write(data)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithCompressedCaching, tarball.WithMediaType(types.OCILayer))
}

// buildJar compiles the Java sources under testdata/srcDir for Java 17 with
// the host's javac and returns a jar; mainClass sets Main-Class, manifest
// adds other manifest lines (Premain-Class: ...).
func buildJar(srcDir, mainClass string, manifest []string) ([]byte, error) {
	for _, tool := range []string{"javac", "jar"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s not found: the Java parts of the end-to-end tests are compiled with the host's JDK (apt-get install openjdk-17-jdk-headless)", tool)
		}
	}
	work, err := os.MkdirTemp("", "e2e-jar-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	var srcs []string
	root := filepath.Join(TestdataDir(), srcDir)
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && filepath.Ext(p) == ".java" {
			srcs = append(srcs, p)
		}
		return nil
	})
	classes := filepath.Join(work, "classes")
	if out, err := exec.Command("javac", append([]string{"--release", "17", "-d", classes}, srcs...)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("javac: %w\n%s", err, out)
	}
	mf := filepath.Join(work, "MANIFEST.MF")
	var m bytes.Buffer
	if mainClass != "" {
		fmt.Fprintf(&m, "Main-Class: %s\n", mainClass)
	}
	for _, l := range manifest {
		fmt.Fprintln(&m, l)
	}
	if err := os.WriteFile(mf, m.Bytes(), 0o644); err != nil {
		return nil, err
	}
	jar := filepath.Join(work, "out.jar")
	if out, err := exec.Command("jar", "--create", "--file", jar, "--manifest", mf, "-C", classes, ".").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("jar: %w\n%s", err, out)
	}
	return os.ReadFile(jar)
}
