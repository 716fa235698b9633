// Command soak wraps many small images through faultproxy in front of a
// loopback registry with random faults, and checks after every wrap that
// the source is untouched and the target is what it was before or the
// complete new image. It prints the figures of the README's Reliability
// section:
//
//	go run ./bench/soak                 # 1000 wraps, seed 1, 4% faulty requests
//	go run ./bench/soak -n 200 -seed 7 -p 0.1
//
// Every other wrap replaces the previous wrap's target with a different
// agent (an agent upgrade), so targets that existed before are covered as
// well as new ones. Exit status 1 when a partial target is found.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	ggcrtransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/testing/faultproxy"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

func main() {
	n := flag.Int("n", 1000, "number of wraps")
	seed := flag.Int64("seed", 1, "seed of the random faults (the run can be replayed with it)")
	prob := flag.Float64("p", 0.04, "probability that a request gets a fault")
	flag.Parse()
	if err := run(*n, *seed, *prob); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// failCounter counts failed attempts (connection errors and retryable
// answers) under the store, i.e. what the retries had to deal with.
type failCounter struct {
	inner http.RoundTripper
	mu    sync.Mutex
	n     int
	by    map[string]int
}

func (c *failCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.inner.RoundTrip(r)
	if r.URL.Scheme == "https" {
		// ggcr's ping tries https first on a loopback registry: not a fault.
		return resp, err
	}
	if err != nil || resp.StatusCode >= 500 || resp.StatusCode == 429 || resp.StatusCode == 408 || resp.StatusCode == 400 {
		c.mu.Lock()
		c.n++
		if os.Getenv("SOAK_DEBUG") != "" {
			k := r.Method + " err"
			if err == nil {
				k = fmt.Sprintf("%s %d", r.Method, resp.StatusCode)
			}
			if c.by == nil {
				c.by = map[string]int{}
			}
			c.by[k]++
		}
		c.mu.Unlock()
	}
	return resp, err
}

func run(n int, seed int64, prob float64) error {
	reg, stop, err := testenv.StartRegistry()
	if err != nil {
		return err
	}
	defer stop()
	p, err := faultproxy.New(reg)
	if err != nil {
		return err
	}
	defer p.Close()

	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "jbuild-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	agentA, err := agentDir(tmp, "")
	if err != nil {
		return err
	}
	agentB, err := agentDir(tmp, "upgrade")
	if err != nil {
		return err
	}
	base, err := testenv.RandomImage(testenv.Spec{Layers: 1, LayerSize: 16 << 10, Config: func(cf *v1.ConfigFile) {
		cf.Config.Env = append(cf.Config.Env, "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64")
		cf.Config.Entrypoint = []string{"java", "-jar", "/app/app.jar"}
		cf.Config.User = "1000:1000"
	}})
	if err != nil {
		return err
	}

	fails := &failCounter{inner: &http.Transport{ResponseHeaderTimeout: 300 * time.Millisecond, MaxIdleConnsPerHost: 16}}
	backoff := ggcrtransport.Backoff{Duration: 5 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 5}
	stores := transport.Options{Registry: transport.RegistryOptions{Transport: fails, Backoff: &backoff, MaxRetryAfter: 20 * time.Millisecond}}
	open := func(ref string) (transport.Store, error) {
		r, err := transport.Parse(ref)
		if err != nil {
			return nil, err
		}
		return transport.Open(r, stores)
	}

	fmt.Printf("soak: %d wraps through faultproxy, seed %d, fault probability %.2f per request, registry %s\n", n, seed, prob, reg)
	p.Random(seed, prob, time.Second) // stalls outlast the 300ms response timeout
	var ok, failed, partial, sourceChanged, upgrades int
	var wrapTime time.Duration
	reasons := map[string]int{}
	start := time.Now()
	for i := 0; i < n; i++ {
		repo := fmt.Sprintf("soak/w%d/app", i/2)
		agentSpec := agentA
		if i%2 == 0 {
			// A fresh repository: the base is pushed straight to the
			// registry (not through the proxy).
			r, _ := name.ParseReference(reg + "/" + repo + ":1")
			img, _ := mutate.Config(base, v1.Config{Env: []string{fmt.Sprintf("SOAK=%d", i)}, Entrypoint: []string{"java", "-jar", "/app/app.jar"}, User: "1000:1000"})
			if err := remote.Write(r, img); err != nil {
				return fmt.Errorf("pushing base %d: %w", i, err)
			}
		} else {
			agentSpec = agentB
			upgrades++
		}
		srcBefore, err := faultproxy.Snapshot(reg + "/" + repo + ":1")
		if err != nil {
			return err
		}
		before, err := faultproxy.Snapshot(reg + "/" + repo + ":1-jennifer")
		if err != nil {
			return err
		}
		src, err := open(p.Addr() + "/" + repo + ":1")
		if err != nil {
			return err
		}
		dst, err := open(p.Addr() + "/" + repo + ":1-jennifer")
		if err != nil {
			return err
		}
		ag, err := agent.Open(ctx, agentSpec, agent.Options{BundleRoot: []string{"agent.java"}, CacheDir: filepath.Join(tmp, "agents")})
		if err != nil {
			return err
		}
		opts := wrap.Options{
			Agent: ag,
			Plan:  buildplan.Options{ServerAddress: "127.0.0.1", ServerPort: 5000, DomainID: 1000, JbuildVersion: "soak"},
			Layer: agentlayer.Options{CacheDir: filepath.Join(tmp, "layers")},
			Force: true,
		}
		t0 := time.Now()
		res, werr := wrap.Wrap(ctx, src, dst, opts)
		wrapTime += time.Since(t0)
		if werr == nil {
			ok++
		} else {
			failed++
			reasons[reason(werr)]++
		}
		if now, err := faultproxy.Snapshot(reg + "/" + repo + ":1"); err != nil || now != srcBefore {
			sourceChanged++
			fmt.Printf("wrap %d: SOURCE CHANGED: %v -> %v (%v)\n", i, srcBefore, now, err)
		}
		now, cerr := faultproxy.CheckConsistent(reg+"/"+repo+":1-jennifer", before)
		switch {
		case cerr != nil:
			partial++
			fmt.Printf("wrap %d: PARTIAL TARGET: %v\n", i, cerr)
		case werr == nil && now.Digest.String() != res.TargetDigest:
			partial++
			fmt.Printf("wrap %d: succeeded but the target is %s, not %s\n", i, now, res.TargetDigest)
		case werr != nil && now != before && !strings.Contains(werr.Error(), "may have been written"):
			partial++
			fmt.Printf("wrap %d: failed (%v) but the target moved %s -> %s\n", i, werr, before, now)
		}
		src.Close()
		dst.Close()
		if (i+1)%100 == 0 {
			fmt.Printf("  %d wraps, %s: %d ok, %d failed, %d partial targets; %v\n", i+1, time.Since(start).Round(time.Second), ok, failed, partial, p.Stats())
		}
	}
	st := p.Stats()
	fmt.Printf("\nsoak figures (seed %d, p=%.2f, %s)\n", seed, prob, time.Since(start).Round(time.Second))
	fmt.Printf("  wraps:               %d (%d agent upgrades of an existing target), %s each on average\n", n, upgrades, (wrapTime / time.Duration(n)).Round(time.Millisecond))
	fmt.Printf("  succeeded:           %d\n", ok)
	fmt.Printf("  failed cleanly:      %d\n", failed)
	for _, r := range sortedKeys(reasons) {
		fmt.Printf("    %4d  %s\n", reasons[r], r)
	}
	fmt.Printf("  requests:            %d\n", st.Requests)
	fmt.Printf("  faults injected:     %d (%s)\n", st.Total(), kinds(st))
	fmt.Printf("  failed attempts:     %d (each retried, except the last of a failed wrap)\n", fails.n)
	if fails.by != nil {
		fmt.Printf("  failed attempts by kind: %v\n", fails.by)
	}
	fmt.Printf("  partial targets:     %d\n", partial)
	fmt.Printf("  sources changed:     %d\n", sourceChanged)
	if partial > 0 || sourceChanged > 0 {
		return errors.New("the guarantee was broken")
	}
	return nil
}

// reason is a short class of a failure, for the summary.
func reason(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "checksum") || strings.Contains(s, "digest") && strings.Contains(s, "verif"):
		return "corrupted blob read detected by digest"
	case strings.Contains(s, "size") && strings.Contains(s, "verif"), strings.Contains(s, "unexpected EOF"),
		strings.Contains(s, "does not match expected size"):
		return "blob read cut short"
	case strings.Contains(s, "connection reset"), strings.Contains(s, "EOF"):
		return "connection reset while reading a blob"
	case strings.Contains(s, "attempts"):
		return "transient faults on every attempt (gave up after retries)"
	case strings.Contains(s, "timeout"):
		return "timeout"
	}
	if len(s) > 160 {
		s = "..." + s[len(s)-160:] // the cause is at the end
	}
	return s
}

func kinds(s faultproxy.Stats) string {
	var parts []string
	for _, k := range faultproxy.AllKinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, s.Faults[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]int) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return m[ks[i]] > m[ks[j]] })
	return ks
}

// agentDir copies the sample Java agent, with an extra file when extra is
// set (a second agent version for upgrades).
func agentDir(tmp, extra string) (string, error) {
	dst := filepath.Join(tmp, "agent-"+extra, "agent.java")
	if err := os.CopyFS(dst, os.DirFS(testenv.SampleJavaAgent())); err != nil {
		return "", err
	}
	if extra != "" {
		if err := os.WriteFile(filepath.Join(dst, "lib-"+extra+".txt"), []byte(extra), 0o644); err != nil {
			return "", err
		}
	}
	return dst, nil
}
