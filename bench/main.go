package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

type options struct {
	n       int
	jbuild  string
	crane   string
	bigMB   int
	smallMB int
	agentMB int
	appMB   int
	only    string // "", "wrap" or "frontend"
	appKB   int    // frontend section: size of app.jar in the sample build context
	// fallback: the frontend section also makes the fallback figure
	// (fallback.go: Docker Engine's own builder, no MergeOp).
	fallback bool
	profile  bool // frontend section: print where the warm builds' time goes (profile.go)
	// registry: which registries the wrap section runs on (registryKinds).
	registry string
	// scenarios: which groups of the wrap section run (scenarios.go).
	scenarios string
	groups    map[string]bool
	firstMB   int // the first scenario's never-seen base, MB
	manyN     int // images of the wrap -f scenario
	manyAppMB int // each one's application layer, MB
	memMB     int // size of the memory scenario's image, MB
}

// Registries the wrap section can run on: distribution v3 built from its
// module with this machine's Go (the registry of today's `registry:3`
// image, and the default), and Debian's docker-registry (distribution
// 2.8.2, built by Debian with Go 1.19, whose SHA-256 has no SHA-NI:
// hashing is ~70% of its CPU per blob, about 0.1 s per 20 MB on the core
// the client also needs, the same for both tools, which pulls every ratio
// towards 1).
const (
	regDebian       = "debian"
	regDistribution = "distribution"
	regBoth         = "both"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 9, "runs per scenario (the median is reported)")
	flag.StringVar(&o.jbuild, "jbuild", "bin/jbuild", "jbuild binary")
	flag.StringVar(&o.crane, "crane", "", "crane binary (default: built from the pinned module, cached)")
	flag.IntVar(&o.bigMB, "big-mb", 500, "size of the big base image, MB")
	flag.IntVar(&o.smallMB, "small-mb", 5, "size of the small base image, MB")
	flag.IntVar(&o.agentMB, "agent-mb", 20, "size of the agent bundle, MB")
	flag.IntVar(&o.appMB, "app-mb", 100, "size of the CI scenario's new application layer, MB")
	flag.StringVar(&o.only, "only", "", "run one section only: wrap (jbuild wrap vs crane) or frontend (BuildKit frontends); default both, wrap first")
	flag.BoolVar(&o.fallback, "fallback", true, "frontend section: also time the fallback path (Docker Engine 28.5's own builder, no MergeOp, built from its module) against a hand-written Dockerfile")
	flag.BoolVar(&o.profile, "profile", false, "frontend section: print the BuildKit vertices of the warm builds (median start and duration per step)")
	flag.IntVar(&o.appKB, "app-kb", 1024, "frontend section: size of app.jar in the sample build context, KB")
	flag.StringVar(&o.registry, "registry", regDistribution, "wrap section registries: distribution (distribution "+distributionVersion+" built from its module), debian (Debian's docker-registry 2.8) or both")
	flag.StringVar(&o.scenarios, "scenarios", "all", "wrap section scenario groups, comma-separated: "+groupList()+", or all")
	flag.IntVar(&o.firstMB, "first-mb", 200, "first scenario: size of the never-seen base pushed anew for each run, MB")
	flag.IntVar(&o.manyN, "many", 20, "many scenario: images in the manifest given to wrap -f")
	flag.IntVar(&o.manyAppMB, "many-app-mb", 10, "many scenario: size of each image's own application layer, MB")
	flag.IntVar(&o.memMB, "mem-mb", 2048, "memory scenario: size of the image wrapped on every store, MB")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.n < 1 {
		return fmt.Errorf("-n must be at least 1")
	}
	if o.only != "" && o.only != "wrap" && o.only != "frontend" {
		return fmt.Errorf("-only %q: want wrap or frontend", o.only)
	}
	if o.registry != regDebian && o.registry != regDistribution && o.registry != regBoth {
		return fmt.Errorf("-registry %q: want debian, distribution or both", o.registry)
	}
	var err error
	if o.groups, err = parseGroups(o.scenarios); err != nil {
		return err
	}
	if o.manyN < 1 {
		return fmt.Errorf("-many must be at least 1")
	}
	tmp, err := os.MkdirTemp("", "jbuild-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Debian's registry serves the frontend section, and the wrap section
	// when asked for.
	var reg string
	if o.only != "wrap" || o.registry != regDistribution {
		logf("starting Debian's docker-registry")
		var stop func()
		if reg, stop, err = testenv.StartRegistry(); err != nil {
			return err
		}
		defer stop()
	}

	if o.only != "frontend" {
		if o.registry != regDistribution {
			if err := runWrap(o, reg, "Debian docker-registry 2.8.2", filepath.Join(tmp, "debian")); err != nil {
				return err
			}
		}
		if o.registry != regDebian {
			if err := runWrapOnDistribution(o, filepath.Join(tmp, "distribution")); err != nil {
				return err
			}
		}
	}
	if o.only != "wrap" {
		return runFrontend(o, reg, tmp)
	}
	return nil
}

// runWrapOnDistribution runs the wrap section on a distribution registry
// built from its module.
func runWrapOnDistribution(o options, tmp string) error {
	bin, err := buildDistribution()
	if err != nil {
		return err
	}
	logf("starting distribution %s", distributionVersion)
	reg, stop, err := testenv.StartRegistryBinary(bin)
	if err != nil {
		return err
	}
	defer stop()
	return runWrap(o, reg, "distribution "+distributionVersion, tmp)
}

// runWrap is the wrap section: jbuild wrap against the crane pipeline, on
// the registry reg (regName says which one).
func runWrap(o options, reg, regName, tmp string) error {
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	haveJbuild := true
	if _, err := os.Stat(o.jbuild); err != nil {
		haveJbuild = false
		logf("WARNING: %s not found (`make build`): timing the crane pipeline only", o.jbuild)
	}
	if o.crane == "" {
		c, err := buildCrane()
		if err != nil {
			return err
		}
		o.crane = c
	}

	var big, small, ciBase string
	if o.needBig() {
		logf("pushing the %d MB base image to %s", o.bigMB, reg)
		big = reg + "/big:1"
		if err := pushJavaImage(big, int64(o.bigMB)<<20, 5); err != nil {
			return err
		}
	}
	if o.wants(gCore) {
		small = reg + "/small:1"
		if err := pushJavaImage(small, int64(o.smallMB)<<20, 1); err != nil {
			return err
		}
	}
	if o.needCIBase() {
		logf("pushing the %d MB CI base image to %s", o.bigMB, reg)
		ciBase = reg + "/ci:1"
		if err := pushCIBase(ciBase, int64(o.bigMB)<<20, 4); err != nil {
			return err
		}
	}
	agent, err := newAgent(filepath.Join(tmp, "agent"), int64(o.agentMB)<<20)
	if err != nil {
		return err
	}

	b := &bench{opts: o, reg: reg, regName: regName, tmp: tmp, agent: agent, big: big, small: small, ciBase: ciBase, haveJbuild: haveJbuild}
	if o.needDaemon() && haveJbuild {
		stop := b.startDaemon()
		defer stop()
	}
	if err := b.setupScenarios(); err != nil {
		return err
	}
	if err := b.runAll(); err != nil {
		return err
	}
	if o.wants(gMemory) && haveJbuild {
		if err := b.memory(); err != nil {
			return err
		}
	}
	b.report(os.Stdout)
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
