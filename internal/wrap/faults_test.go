package wrap

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcrtransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/jbuild-dev/jbuild/internal/testing/faultproxy"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// Fault tests: a wrap through faultproxy in front of the real loopback
// registry, with each fault kind at each point of a wrap, once (transient)
// and on every attempt (persistent). Whatever happens, the source is
// untouched and the target is what it was before or the complete new image.

// assertTargetConsistent fails t unless ref (on reg itself, not through a
// proxy) names what it named before, or a complete image whose every blob
// the registry holds. It returns what ref names now.
func assertTargetConsistent(t testing.TB, reg, ref string, before faultproxy.State) faultproxy.State {
	t.Helper()
	now, err := faultproxy.CheckConsistent(reg+"/"+ref, before)
	if err != nil {
		t.Fatalf("target not consistent: %v", err)
	}
	return now
}

func snapshot(t testing.TB, reg, ref string) faultproxy.State {
	t.Helper()
	s, err := faultproxy.Snapshot(reg + "/" + ref)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fastRetries keeps the fault tests quick: 4 attempts 10ms, 20ms, 40ms
// apart; Retry-After waits of at most 50ms; a stalled answer gives up
// after 2s (the cases run in parallel on a
// loaded machine).
func fastRetries() transport.Options {
	b := ggcrtransport.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 4}
	return transport.Options{Registry: transport.RegistryOptions{
		Transport:     &http.Transport{ResponseHeaderTimeout: 2 * time.Second, MaxIdleConnsPerHost: 16},
		Backoff:       &b,
		MaxRetryAfter: 50 * time.Millisecond,
	}}
}

// faultBase is a Java image whose user is named, so that the wrap reads
// its layers (the config and the /etc/passwd layer) to resolve it.
func faultBase(t testing.TB) v1.Image {
	t.Helper()
	passwd := fileLayer(t, map[string]string{"/etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n"})
	img, err := testenv.RandomImage(testenv.Spec{Layers: 1, LayerSize: 64 << 10, Base: []v1.Layer{passwd}, Config: javaConfig("app")})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

type faultPoint struct {
	name   string
	method string
	path   string
	// config: only the upload committing the config blob.
	config bool
}

var faultPoints = []faultPoint{
	{"manifest-GET", http.MethodGet, faultproxy.PathManifest, false},
	{"blob-GET", http.MethodGet, faultproxy.PathBlob, false},
	{"blob-HEAD", http.MethodHead, faultproxy.PathBlob, false},
	{"upload-POST", http.MethodPost, faultproxy.PathUploadStart, false},
	{"upload-PATCH", http.MethodPatch, faultproxy.PathUpload, false},
	{"upload-PUT", http.MethodPut, faultproxy.PathUpload, false},
	{"config-PUT", http.MethodPut, faultproxy.PathUpload, true},
	{"manifest-PUT", http.MethodPut, faultproxy.PathManifest, false},
}

// expectedWrap wraps src without faults to dst, a repository of its own
// (so the faulted wrap to src's repository still uploads every blob), and
// returns the image digest and config digest every wrap of src must
// produce: wrapping is reproducible.
func expectedWrap(t *testing.T, src, dst, agentDir string) (img v1.Hash, config v1.Hash) {
	t.Helper()
	res, err := Wrap(context.Background(), store(t, src), store(t, dst), javaOptions(t, agentDir))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := getImage(t, dst).ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	h, err := v1.NewHash(res.TargetDigest)
	if err != nil {
		t.Fatal(err)
	}
	return h, cfg
}

func TestWrapUnderFaults(t *testing.T) {
	reg := testenv.Registry(t)
	base := faultBase(t)
	// An agent layer past the size that goes up in one PUT: its upload is
	// a streamed PATCH and the commit, both on the path under test.
	agentDir := testenv.LargerSampleJavaAgent(t, 2<<20)
	// An older agent: its output is the "before" of the cases that
	// replace an existing target (an agent upgrade under faults).
	oldAgent := copyAgent(t, map[string]string{"lib/old.txt": "previous agent"})

	kinds := []faultproxy.Kind{faultproxy.Status500, faultproxy.Status502, faultproxy.Status503, faultproxy.Status429,
		faultproxy.Reset, faultproxy.Stall, faultproxy.Truncate, faultproxy.Corrupt, faultproxy.CorruptUpload}
	n := 0
	for _, pt := range faultPoints {
		for _, kind := range kinds {
			for _, persistent := range []bool{false, true} {
				if !applicable(kind, pt) || (persistent && kind == faultproxy.Stall) {
					continue
				}
				n++
				mode := "once"
				if persistent {
					mode = "always"
				}
				c, existing := n, n%2 == 0
				pt, kind, persistent := pt, kind, persistent
				name := fmt.Sprintf("%s/%s/%s", pt.name, kind, mode)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					repo := fmt.Sprintf("faults/c%d/app", c)
					srcDigest := testenv.PushImage(t, reg+"/"+repo+":1", base)
					if existing {
						if _, err := Wrap(context.Background(), store(t, reg+"/"+repo+":1"), store(t, reg+"/"+repo+":1-jennifer"), javaOptions(t, oldAgent)); err != nil {
							t.Fatal(err)
						}
					}
					before := snapshot(t, reg, repo+":1-jennifer")

					p := faultproxy.Start(t, reg)
					// The image the faulted wrap must write (the source
					// reference, proxy address included, is in its labels).
					want, wantConfig := expectedWrap(t, p.Addr()+"/"+repo+":1", fmt.Sprintf("%s/faults/c%d/expected:1-jennifer", p.Addr(), c), agentDir)
					rule := faultproxy.Rule{Method: pt.method, Path: pt.path, Kind: kind, Stall: 4 * time.Second}
					if persistent {
						rule.Times = -1
					}
					if pt.config {
						rule.Match = func(r *http.Request) bool { return r.URL.Query().Get("digest") == wantConfig.String() }
					}
					p.Add(rule)

					opts := fastRetries()
					_, err := Wrap(context.Background(), storeWith(t, p.Addr()+"/"+repo+":1", opts), storeWith(t, p.Addr()+"/"+repo+":1-jennifer", opts), javaOptions(t, agentDir))
					stats := p.Stats()
					t.Logf("%v; wrap error: %v", stats, err)

					if got := snapshot(t, reg, repo+":1"); !got.Exists || got.Digest != srcDigest {
						t.Fatalf("source changed: %s, was %s", got, srcDigest)
					}
					now := assertTargetConsistent(t, reg, repo+":1-jennifer", before)
					if err == nil && now.Digest != want {
						t.Fatalf("wrap succeeded but the target is %s, want %s", now, want)
					}
					if err != nil && now != before {
						t.Fatalf("wrap failed (%v) but the target moved from %s to %s", err, before, now)
					}
					if stats.Total() == 0 {
						// The point is not on this wrap's path (e.g. no HEAD
						// of a blob): nothing to check beyond the above.
						if err != nil {
							t.Fatalf("no fault injected, yet the wrap failed: %v", err)
						}
						return
					}
					switch {
					case !persistent && transientRetried(kind, pt):
						if err != nil {
							t.Fatalf("a transient %s at %s was not retried: %v", kind, pt.name, err)
						}
					case persistent && isStatus(kind):
						if err == nil {
							t.Fatalf("a persistent %s at %s did not fail the wrap", kind, pt.name)
						}
						if strings.Contains(err.Error(), "faultproxy: injected") && !strings.Contains(err.Error(), "attempts") {
							t.Errorf("error does not say how many attempts were made: %v", err)
						}
					case kind == faultproxy.Corrupt || kind == faultproxy.Truncate:
						if err == nil {
							t.Fatalf("a corrupted blob read went unnoticed")
						}
					}
				})
			}
		}
	}
}

func applicable(k faultproxy.Kind, pt faultPoint) bool {
	switch k {
	case faultproxy.Truncate, faultproxy.Corrupt:
		return pt.method == http.MethodGet && pt.path == faultproxy.PathBlob
	case faultproxy.CorruptUpload:
		return pt.method == http.MethodPatch
	case faultproxy.Reset:
		return pt.method == http.MethodPatch || pt.method == http.MethodPut && pt.path == faultproxy.PathManifest ||
			pt.method == http.MethodGet && pt.path == faultproxy.PathBlob
	}
	return true
}

func isStatus(k faultproxy.Kind) bool {
	switch k {
	case faultproxy.Status500, faultproxy.Status502, faultproxy.Status503, faultproxy.Status429:
		return true
	}
	return false
}

// transientRetried: a fault that fires once and must not fail the wrap.
// A blob body cut short or damaged on the way down is detected but not
// retried (ggcr verifies as it reads, after the request has succeeded).
func transientRetried(k faultproxy.Kind, pt faultPoint) bool {
	if pt.method == http.MethodGet && pt.path == faultproxy.PathBlob {
		return isStatus(k) || k == faultproxy.Stall
	}
	return true
}
