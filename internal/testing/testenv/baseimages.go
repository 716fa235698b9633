package testenv

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BusyboxBinary is Debian's busybox-static: one static binary, so an image
// of it runs RUN steps without any libc in the image.
const BusyboxBinary = "/bin/busybox"

// BusyboxHint says how to get BusyboxBinary on Debian.
const BusyboxHint = "install it with `apt-get install busybox-static` or `make test-deps`"

// Fixed values of the base images, so they have the same digest on every run.
var (
	baseImageTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	basePath      = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// JavaLikeHome is JAVA_HOME of JavaLikeImage, where Debian's
// openjdk-17-jre-headless installs on amd64.
const JavaLikeHome = "/usr/lib/jvm/java-17-openjdk-amd64"

// fakeJava stands in for a JVM in JavaLikeImage: it says what a JVM would
// (the JAVA_TOOL_OPTIONS it picked up, to stderr as HotSpot does) so a RUN
// step can show the settings an injected image carries.
const fakeJava = `#!/bin/sh
# Fake java for jbuild tests: not a JVM.
if [ -n "$JAVA_TOOL_OPTIONS" ]; then
  echo "Picked up JAVA_TOOL_OPTIONS: $JAVA_TOOL_OPTIONS" >&2
fi
case "$1" in
  -version|--version)
    echo 'openjdk version "17.0.9" 2023-10-17 (fake, jbuild testenv)' >&2
    exit 0 ;;
esac
echo "fake java $*"
`

// busyboxLayer is built once per process: reading the 2 MB binary and
// listing its applets is the same for every image.
var busyboxLayer struct {
	once  sync.Once
	layer v1.Layer
	err   error
}

// BusyboxImage returns an image made of one layer: /bin/busybox (Debian's
// busybox-static) with a /bin symlink for each applet (`busybox --list`,
// so /bin/sh works), /usr/bin/env, /etc/passwd and /etc/group with root and
// app (uid 1000, gid 1000, home /home/app) and /tmp (1777). Config: Env
// PATH, Cmd ["sh"], fixed created time; OCI media types. The busybox
// binary is the host's, so only the host's architecture (amd64 here) is
// available: a multi-platform test uses FROM scratch stages instead.
func BusyboxImage(platform v1.Platform) (v1.Image, error) {
	if platform.OS == "" {
		platform.OS = "linux"
	}
	if platform.OS != "linux" || platform.Architecture != runtime.GOARCH {
		return nil, fmt.Errorf("busybox image for %s: only linux/%s is available (the host's busybox-static); use FROM scratch for other platforms", platform, runtime.GOARCH)
	}
	busyboxLayer.once.Do(func() { busyboxLayer.layer, busyboxLayer.err = newBusyboxLayer() })
	if busyboxLayer.err != nil {
		return nil, busyboxLayer.err
	}
	cfg := &v1.ConfigFile{
		Architecture: platform.Architecture,
		OS:           platform.OS,
		Variant:      platform.Variant,
		Created:      v1.Time{Time: baseImageTime},
		Config: v1.Config{
			Env: []string{basePath},
			Cmd: []string{"sh"},
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	img, err := ociImage(cfg)
	if err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{Layer: busyboxLayer.layer, History: v1.History{
		Created:   cfg.Created,
		CreatedBy: "testenv: busybox-static, /etc/passwd (root, app 1000), /tmp",
	}})
}

// JavaLikeImage is BusyboxImage plus a fake JVM: an executable shell
// script at JavaLikeHome/bin/java (and /usr/bin/java linking to it), ENV
// JAVA_HOME and JAVA_TOOL_OPTIONS=-Xmx256m, Entrypoint
// ["java","-jar","/app/app.jar"] and an empty /app/app.jar. It is
// detected as a Java 17 image by its config and files; it cannot run Java.
func JavaLikeImage(platform v1.Platform) (v1.Image, error) {
	base, err := BusyboxImage(platform)
	if err != nil {
		return nil, err
	}
	layer, err := tarLayer([]tarEntry{
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/lib/", mode: 0o755, dir: true},
		{name: "usr/lib/jvm/", mode: 0o755, dir: true},
		{name: JavaLikeHome[1:] + "/", mode: 0o755, dir: true},
		{name: JavaLikeHome[1:] + "/bin/", mode: 0o755, dir: true},
		{name: JavaLikeHome[1:] + "/bin/java", mode: 0o755, data: []byte(fakeJava)},
		{name: "usr/bin/", mode: 0o755, dir: true},
		{name: "usr/bin/java", link: JavaLikeHome + "/bin/java"},
		{name: "app/", mode: 0o755, dir: true},
		{name: "app/app.jar", mode: 0o644},
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created:   v1.Time{Time: baseImageTime},
		CreatedBy: "testenv: fake JVM at " + JavaLikeHome,
	}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config.Env = append(cf.Config.Env, "JAVA_HOME="+JavaLikeHome, "JAVA_TOOL_OPTIONS=-Xmx256m")
	cf.Config.Entrypoint = []string{"java", "-jar", "/app/app.jar"}
	cf.Config.Cmd = nil
	return mutate.ConfigFile(img, cf)
}

// PushBusybox pushes BusyboxImage(linux/amd64) to ref and returns its digest.
func PushBusybox(t testing.TB, ref string) v1.Hash {
	t.Helper()
	img, err := BusyboxImage(v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	return PushImage(t, ref, img)
}

// PushJavaLike pushes JavaLikeImage(linux/amd64) to ref and returns its digest.
func PushJavaLike(t testing.TB, ref string) v1.Hash {
	t.Helper()
	img, err := JavaLikeImage(v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	return PushImage(t, ref, img)
}

func ociImage(cfg *v1.ConfigFile) (v1.Image, error) {
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	return mutate.ConfigFile(base, cfg)
}

func newBusyboxLayer() (v1.Layer, error) {
	bin, err := os.ReadFile(BusyboxBinary)
	if err != nil {
		return nil, fmt.Errorf("busybox image: %w; %s", err, BusyboxHint)
	}
	out, err := exec.Command(BusyboxBinary, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox image: %s --list: %w", BusyboxBinary, err)
	}
	applets := strings.Fields(string(out))
	sort.Strings(applets)

	entries := []tarEntry{
		{name: "bin/", mode: 0o755, dir: true},
		{name: "bin/busybox", mode: 0o755, data: bin},
	}
	for _, a := range applets {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		entries = append(entries, tarEntry{name: "bin/" + a, link: "busybox"})
	}
	entries = append(entries,
		tarEntry{name: "usr/", mode: 0o755, dir: true},
		tarEntry{name: "usr/bin/", mode: 0o755, dir: true},
		tarEntry{name: "usr/bin/env", link: "/bin/busybox"},
		tarEntry{name: "etc/", mode: 0o755, dir: true},
		tarEntry{name: "etc/passwd", mode: 0o644, data: []byte(
			"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")},
		tarEntry{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\napp:x:1000:\n")},
		tarEntry{name: "root/", mode: 0o700, dir: true},
		tarEntry{name: "home/", mode: 0o755, dir: true},
		tarEntry{name: "home/app/", mode: 0o755, dir: true, uid: 1000, gid: 1000},
		tarEntry{name: "tmp/", mode: 0o1777, dir: true},
	)
	return tarLayer(entries)
}

// tarEntry is one file of a test layer: a directory, a regular file or
// (link != "") a symbolic link.
type tarEntry struct {
	name     string
	mode     int64
	dir      bool
	data     []byte
	link     string
	uid, gid int
}

// tarLayer builds an OCI gzip layer from entries with fixed times, so the
// same entries give the same digest.
func tarLayer(entries []tarEntry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: baseImageTime,
			Format:  tar.FormatPAX,
		}
		switch {
		case e.dir:
			h.Typeflag = tar.TypeDir
		case e.link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.link, 0o777
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", path.Clean(e.name), err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithCompressedCaching, tarball.WithMediaType(types.OCILayer))
}
