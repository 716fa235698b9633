package agentlayer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// fakeBundle serves files from memory and counts opens.
type fakeBundle struct {
	files map[string][]byte
	opens atomic.Int64
}

func (f *fakeBundle) open(rel string) (io.ReadCloser, error) {
	f.opens.Add(1)
	b, ok := f.files[rel]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func sampleEntries(t testing.TB) ([]buildplan.LayerEntry, *fakeBundle) {
	b := &fakeBundle{files: map[string][]byte{
		"jennifer.jar":       []byte("PK jar bytes"),
		"conf/jennifer.conf": []byte("server_port = 5000\n"),
	}}
	const root = "/opt/jennifer/agent.java"
	return []buildplan.LayerEntry{
		{Path: "/opt/jennifer", Type: buildplan.TypeDir, Mode: 0o755},
		{Path: root, Type: buildplan.TypeDir, Mode: 0o755},
		{Path: root + "/conf", Type: buildplan.TypeDir, Mode: 0o755, UID: 1000, GID: 1000},
		{Path: root + "/conf/jennifer.conf", Type: buildplan.TypeFile, Mode: 0o644, UID: 1000, GID: 1000, Content: []byte("server_address = 10.0.0.1\n")},
		{Path: root + "/jennifer.jar", Type: buildplan.TypeFile, Mode: 0o644, From: "jennifer.jar", Size: 12},
		{Path: root + "/current.jar", Type: buildplan.TypeSymlink, Mode: 0o777, Link: "jennifer.jar"},
		{Path: root + "/logs", Type: buildplan.TypeDir, Mode: 0o755, UID: 1000, GID: 1000},
	}, b
}

func digests(t testing.TB, l v1.Layer) (v1.Hash, v1.Hash) {
	t.Helper()
	d, err := l.Digest()
	if err != nil {
		t.Fatal(err)
	}
	id, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	return d, id
}

// The sample entries' layer as every build of it, on any machine and at
// any time, must come out: two builds compared with each other run within
// the same second, so a time stamp of the build's (a gzip or tar mtime)
// would pass that comparison but not this one. The digest depends on the
// compressor too (gzipLevel, the klauspost/compress version in go.mod):
// when either changes on purpose, every agent layer digest changes with
// it, and these values are updated with the change.
const (
	sampleLayerDigest = "sha256:a18435cd6fbff7eec87f566fb0b5e51a0f1335d239335296534091fc658ddaae"
	sampleLayerDiffID = "sha256:ce15927399aa33bffb73e6fab76c5fc867bc99b8cdf9c7e479da96b780219897"
)

func TestBuildIsDeterministic(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	entries, b := sampleEntries(t)
	cache := t.TempDir()
	l1, err := Build(entries, b.open, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	d1, id1 := digests(t, l1)
	if d1.String() != sampleLayerDigest || id1.String() != sampleLayerDiffID {
		t.Errorf("the sample layer is %s (diff ID %s), want %s (%s): something of the build's own (a time, the machine) got into the bytes, or the compressor changed", d1, id1, sampleLayerDigest, sampleLayerDiffID)
	}
	if err := validate.Layer(l1); err != nil {
		t.Fatalf("layer does not validate: %v", err)
	}
	if mt, _ := l1.MediaType(); mt != types.OCILayer {
		t.Errorf("media type %s, want %s", mt, types.OCILayer)
	}

	// Same entries, cache removed: recomputed from scratch, same bytes.
	if err := os.RemoveAll(cache); err != nil {
		t.Fatal(err)
	}
	l2, err := Build(entries, b.open, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if d2, id2 := digests(t, l2); d1 != d2 || id1 != id2 {
		t.Errorf("rebuild differs: %s/%s vs %s/%s", d1, id1, d2, id2)
	}

	// Another cache directory, and an explicit epoch equal to the default.
	l3, err := Build(entries, b.open, Options{CacheDir: t.TempDir(), Epoch: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if d3, _ := digests(t, l3); d3 != d1 {
		t.Errorf("explicit zero epoch gives %s, want %s", d3, d1)
	}
}

func TestSourceDateEpochChangesDigest(t *testing.T) {
	entries, b := sampleEntries(t)
	t.Setenv("SOURCE_DATE_EPOCH", "")
	l1, err := Build(entries, b.open, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	cache := t.TempDir()
	l2, err := Build(entries, b.open, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := digests(t, l1)
	d2, _ := digests(t, l2)
	if d1 == d2 {
		t.Fatal("SOURCE_DATE_EPOCH did not change the digest")
	}
	for _, h := range readTar(t, l2) {
		if !h.ModTime.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s: mtime %v", h.Name, h.ModTime)
		}
	}
	// Same epoch through the environment and the cache: same layer.
	l3, err := Build(entries, b.open, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if d3, _ := digests(t, l3); d3 != d2 {
		t.Errorf("cached build %s, want %s", d3, d2)
	}
}

func TestEpochFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int64
		bad  bool
	}{
		{"", 0, false},
		{"1700000000", 1700000000, false},
		{" 42 ", 42, false},
		{"yesterday", 0, true},
		{"1.5", 0, true},
		{"-1", 0, true},
	} {
		t.Setenv("SOURCE_DATE_EPOCH", tc.env)
		got, err := EpochFromEnv()
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
				t.Errorf("%q: error %v, want one naming SOURCE_DATE_EPOCH", tc.env, err)
			}
			continue
		}
		if err != nil || got.Unix() != tc.want {
			t.Errorf("%q: got %v, %v; want %d", tc.env, got, err, tc.want)
		}
	}
	t.Setenv("SOURCE_DATE_EPOCH", "junk")
	entries, b := sampleEntries(t)
	if _, err := Build(entries, b.open, Options{CacheDir: t.TempDir()}); err == nil {
		t.Error("Build accepted a junk SOURCE_DATE_EPOCH")
	}
}

func TestCacheHitDoesNotReopen(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	entries, b := sampleEntries(t)
	cache := t.TempDir()
	opts := Options{CacheDir: cache, ContentDigest: "sha256:feedface"}
	l1, err := Build(entries, b.open, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := b.opens.Load(); n != 1 {
		t.Fatalf("first build opened %d files, want 1", n)
	}
	l2, err := Build(entries, b.open, opts)
	if err != nil {
		t.Fatal(err)
	}
	if n := b.opens.Load(); n != 1 {
		t.Errorf("cache hit opened files: %d opens in total", n)
	}
	if d1, _ := digests(t, l1); true {
		if d2, _ := digests(t, l2); d1 != d2 {
			t.Errorf("cache hit %s, want %s", d2, d1)
		}
	}
	if err := validate.Layer(l2); err != nil {
		t.Fatalf("cached layer does not validate: %v", err)
	}

	// Without ContentDigest a hit hashes each From file once but does not
	// recompress (the cache file stays untouched).
	opts.ContentDigest = ""
	if _, err := Build(entries, b.open, opts); err != nil {
		t.Fatal(err)
	}
	blobs, _ := filepath.Glob(filepath.Join(cache, "*.tar.gz"))
	before := b.opens.Load()
	fi1, _ := os.Stat(blobs[0])
	if _, err := Build(entries, b.open, opts); err != nil {
		t.Fatal(err)
	}
	if n := b.opens.Load() - before; n != 1 {
		t.Errorf("hashing hit opened %d files, want 1", n)
	}
	blobs2, _ := filepath.Glob(filepath.Join(cache, "*.tar.gz"))
	if len(blobs2) != 2 {
		t.Errorf("cache holds %d layers, want 2 (one per key)", len(blobs2))
	}
	fi2, _ := os.Stat(blobs[0])
	if !fi1.ModTime().Equal(fi2.ModTime()) {
		t.Error("cache file rewritten on a hit")
	}
	tmps, _ := filepath.Glob(filepath.Join(cache, "*tmp*"))
	if len(tmps) != 0 {
		t.Errorf("temporary files left in the cache: %v", tmps)
	}
}

func TestDamagedCacheFails(t *testing.T) {
	entries, b := sampleEntries(t)
	cache := t.TempDir()
	if _, err := Build(entries, b.open, Options{CacheDir: cache}); err != nil {
		t.Fatal(err)
	}
	blobs, _ := filepath.Glob(filepath.Join(cache, "*.tar.gz"))
	data, _ := os.ReadFile(blobs[0])
	data[len(data)/2] ^= 0xff
	os.WriteFile(blobs[0], data, 0o644)
	l, err := Build(entries, b.open, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := l.Compressed()
	defer rc.Close()
	if _, err := io.ReadAll(rc); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("reading a damaged cache file: %v", err)
	}
}

func TestTarContents(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	entries, b := sampleEntries(t)
	l, err := Build(entries, b.open, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	hdrs := readTar(t, l)
	var got []string
	for _, h := range hdrs {
		got = append(got, fmt.Sprintf("%c %s %o %d:%d %q %q %q %d", h.Typeflag, h.Name, h.Mode, h.Uid, h.Gid, h.Linkname, h.Uname, h.Gname, h.Size))
		if !h.ModTime.Equal(time.Unix(0, 0)) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: times %v %v %v", h.Name, h.ModTime, h.AccessTime, h.ChangeTime)
		}
		if h.Format != tar.FormatUSTAR {
			t.Errorf("%s: format %v, want USTAR for a short name", h.Name, h.Format)
		}
	}
	want := []string{
		`5 opt/jennifer/ 755 0:0 "" "" "" 0`,
		`5 opt/jennifer/agent.java/ 755 0:0 "" "" "" 0`,
		`5 opt/jennifer/agent.java/conf/ 755 1000:1000 "" "" "" 0`,
		`0 opt/jennifer/agent.java/conf/jennifer.conf 644 1000:1000 "" "" "" 26`,
		`0 opt/jennifer/agent.java/jennifer.jar 644 0:0 "" "" "" 12`,
		`2 opt/jennifer/agent.java/current.jar 777 0:0 "jennifer.jar" "" "" 0`,
		`5 opt/jennifer/agent.java/logs/ 755 1000:1000 "" "" "" 0`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tar entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The gzip header carries no name and no time.
	rc, _ := l.Compressed()
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || zr.Comment != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header %+v", zr.Header)
	}
}

func TestLongNameUsesPAX(t *testing.T) {
	long := "/opt/jennifer/agent.java/" + strings.Repeat("d/", 60) + "f"
	l, err := Build([]buildplan.LayerEntry{{Path: long, Type: buildplan.TypeFile, Mode: 0o644, Content: []byte("x")}}, nil, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h := readTar(t, l)
	if len(h) != 1 || h[0].Name != long[1:] {
		t.Fatalf("got %+v", h)
	}
}

func TestBuildErrors(t *testing.T) {
	_, b := sampleEntries(t)
	for _, tc := range []struct {
		name  string
		entry buildplan.LayerEntry
		want  string
	}{
		{"size too small", buildplan.LayerEntry{Path: "/a/jennifer.jar", Type: buildplan.TypeFile, Mode: 0o644, From: "jennifer.jar", Size: 5}, `"/a/jennifer.jar": "jennifer.jar" is larger`},
		{"size too large", buildplan.LayerEntry{Path: "/a/jennifer.jar", Type: buildplan.TypeFile, Mode: 0o644, From: "jennifer.jar", Size: 50}, `"/a/jennifer.jar": "jennifer.jar" has 12 bytes but the plan says 50`},
		{"missing file", buildplan.LayerEntry{Path: "/a/x", Type: buildplan.TypeFile, Mode: 0o644, From: "nope"}, `"/a/x": opening "nope"`},
		{"relative path", buildplan.LayerEntry{Path: "a/x", Type: buildplan.TypeDir, Mode: 0o755}, `"a/x": path must be absolute`},
		{"unclean path", buildplan.LayerEntry{Path: "/a/../x", Type: buildplan.TypeDir, Mode: 0o755}, `"/a/../x": path must be absolute`},
		{"type bits", buildplan.LayerEntry{Path: "/a", Type: buildplan.TypeDir, Mode: fs.ModeDir | 0o755}, `"/a": mode`},
		{"bad type", buildplan.LayerEntry{Path: "/a", Type: "fifo", Mode: 0o644}, `unknown type`},
		{"link without target", buildplan.LayerEntry{Path: "/a", Type: buildplan.TypeSymlink}, `only Link`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, digest := range []string{"", "sha256:abc"} { // hashing and writing paths
				_, err := Build([]buildplan.LayerEntry{tc.entry}, b.open, Options{CacheDir: t.TempDir(), ContentDigest: digest})
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want it to contain %s", err, tc.want)
				}
			}
		})
	}
	dup := []buildplan.LayerEntry{{Path: "/a", Type: buildplan.TypeDir, Mode: 0o755}, {Path: "/a", Type: buildplan.TypeDir, Mode: 0o755}}
	if _, err := Build(dup, nil, Options{CacheDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: %v", err)
	}
}

func TestUnwritableCacheFallsBackToMemory(t *testing.T) {
	entries, b := sampleEntries(t)
	file := filepath.Join(t.TempDir(), "not-a-dir")
	os.WriteFile(file, nil, 0o644)
	l, err := Build(entries, b.open, Options{CacheDir: filepath.Join(file, "layers")})
	if err != nil {
		t.Fatal(err)
	}
	l2, err := Build(entries, b.open, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Layer(l); err != nil {
		t.Fatal(err)
	}
	d1, _ := digests(t, l)
	d2, _ := digests(t, l2)
	if d1 != d2 {
		t.Errorf("memory layer %s, cached layer %s", d1, d2)
	}
}

func readTar(t testing.TB, l v1.Layer) []*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var hdrs []*tar.Header
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		hdrs = append(hdrs, h)
	}
	return hdrs
}

// BenchmarkBuild20MB builds a layer of ~20 MB, the size of a Java agent:
// mostly incompressible (jars are already deflated) plus some text.
func BenchmarkBuild20MB(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	fb := &fakeBundle{files: map[string][]byte{}}
	entries := []buildplan.LayerEntry{{Path: "/opt/jennifer/agent.java", Type: buildplan.TypeDir, Mode: 0o755}}
	var total int64
	for i := 0; total < 20<<20; i++ {
		data := make([]byte, 256<<10)
		if i%4 == 0 {
			copy(data, bytes.Repeat([]byte("key = value\n"), len(data)/12))
		} else {
			rng.Read(data)
		}
		rel := fmt.Sprintf("lib/part-%03d.jar", i)
		fb.files[rel] = data
		total += int64(len(data))
		entries = append(entries, buildplan.LayerEntry{Path: "/opt/jennifer/agent.java/" + rel, Type: buildplan.TypeFile, Mode: 0o644, From: rel, Size: int64(len(data))})
	}
	b.SetBytes(total)
	b.Run("cold", func(b *testing.B) {
		b.SetBytes(total)
		for i := 0; i < b.N; i++ {
			if _, err := Build(entries, fb.open, Options{CacheDir: b.TempDir()}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.SetBytes(total)
		opts := Options{CacheDir: b.TempDir(), ContentDigest: "sha256:" + fmt.Sprintf("%x", sha256.Sum256(nil))}
		if _, err := Build(entries, fb.open, opts); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := Build(entries, fb.open, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
}
