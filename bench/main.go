package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jbuild-dev/jbuild/internal/testenv"
)

type options struct {
	n       int
	jbuild  string
	crane   string
	bigMB   int
	smallMB int
	agentMB int
	only    string // "", "wrap" or "frontend"
	appKB   int    // frontend section: size of app.jar in the sample build context
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 5, "runs per scenario (the median is reported)")
	flag.StringVar(&o.jbuild, "jbuild", "bin/jbuild", "jbuild binary")
	flag.StringVar(&o.crane, "crane", "", "crane binary (default: built from the pinned module, cached)")
	flag.IntVar(&o.bigMB, "big-mb", 500, "size of the big base image, MB")
	flag.IntVar(&o.smallMB, "small-mb", 5, "size of the small base image, MB")
	flag.IntVar(&o.agentMB, "agent-mb", 20, "size of the agent bundle, MB")
	flag.StringVar(&o.only, "only", "", "run one section only: wrap (jbuild wrap vs crane) or frontend (BuildKit frontends); default both, wrap first")
	flag.IntVar(&o.appKB, "app-kb", 1024, "frontend section: size of app.jar in the sample build context, KB")
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
	tmp, err := os.MkdirTemp("", "jbuild-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	logf("starting registry")
	reg, stop, err := testenv.StartRegistry()
	if err != nil {
		return err
	}
	defer stop()

	if o.only != "frontend" {
		if err := runWrap(o, reg, tmp); err != nil {
			return err
		}
	}
	if o.only != "wrap" {
		return runFrontend(o, reg, tmp)
	}
	return nil
}

// runWrap is the wrap section: jbuild wrap against the crane pipeline.
func runWrap(o options, reg, tmp string) error {
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

	logf("pushing %d MB and %d MB base images to %s", o.bigMB, o.smallMB, reg)
	big, small := reg+"/big:1", reg+"/small:1"
	if err := pushJavaImage(big, int64(o.bigMB)<<20, 5); err != nil {
		return err
	}
	if err := pushJavaImage(small, int64(o.smallMB)<<20, 1); err != nil {
		return err
	}
	agent, err := newAgent(filepath.Join(tmp, "agent"), int64(o.agentMB)<<20)
	if err != nil {
		return err
	}

	b := &bench{opts: o, reg: reg, tmp: tmp, agent: agent, big: big, small: small, haveJbuild: haveJbuild}
	if err := b.runAll(); err != nil {
		return err
	}
	b.report(os.Stdout)
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
