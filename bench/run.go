package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The agent's place in the image and its activation, for the crane peer.
const (
	agentPath = "/opt/jennifer/agent.java"
	javaOpts  = "-Xmx256m -javaagent:" + agentPath + "/jennifer.jar -Djennifer.config=" + agentPath + "/conf/jennifer.conf"
)

// Scenario keys, in report order.
const (
	sJbuildCold = "a"
	sCrane      = "b"
	sJbuildWarm = "c"
	sSmallCold  = "d1"
	sSmallWarm  = "d2"
)

type bench struct {
	opts       options
	reg, tmp   string
	regName    string // which registry reg is
	agent      *agentBundle
	freshAgent *agentBundle // the fresh group's own (fresh.go)
	big, small string
	ciBase     string // the CI scenario's base (ci.go)
	haveJbuild bool

	times map[string][]time.Duration // per scenario
	// cpu: the user+sys CPU of the commands a scenario ran (each record
	// takes what the commands since the last one used; none for the
	// in-process upload u).
	cpu    map[string][]time.Duration
	cpuAcc time.Duration
	// machine: how busy the whole machine was while a scenario's commands
	// ran, summed over its runs (machinecpu.go), gathered as cpu is.
	machine    map[string]machineTicks
	machineAcc machineTicks
	steps      map[string][]time.Duration // crane pipeline steps

	raise raiseState  // raise.go
	many  manyState   // many.go
	ctrd  ctrdState   // stores.go: dockerd, containerd and the k scenario
	dkr   daemonState // daemon.go: the w scenario on dockerd
	mem   []memResult
}

func (b *bench) runAll() error {
	b.times = map[string][]time.Duration{}
	b.cpu = map[string][]time.Duration{}
	b.machine = map[string]machineTicks{}
	b.steps = map[string][]time.Duration{}
	// Run -1 is a warm-up (page cache, first process start), not recorded.
	for i := -1; i < b.opts.n; i++ {
		if i < 0 {
			logf("warm-up run")
		} else {
			logf("run %d/%d", i+1, b.opts.n)
		}
		if err := b.once(i); err != nil {
			return err
		}
		if i < 0 {
			if err := b.verifyOutputs(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *bench) once(i int) error {
	record := func(key string, d time.Duration) {
		if i >= 0 {
			b.times[key] = append(b.times[key], d)
			if b.cpuAcc > 0 {
				b.cpu[key] = append(b.cpu[key], b.cpuAcc)
			}
			b.machine[key] = b.machine[key].plus(b.machineAcc)
		}
		b.cpuAcc, b.machineAcc = 0, machineTicks{}
	}
	o := b.opts
	if b.haveJbuild && o.needBig() {
		// a: new agent, 500 MB base.
		if err := b.agent.setNonce(fmt.Sprintf("a-%d", i)); err != nil {
			return err
		}
		d, err := b.jbuild(b.big, b.big+"-jennifer")
		if err != nil {
			return err
		}
		record(sJbuildCold, d)
		// u: a bare upload of the agent layer a just made (raise.go).
		if o.wants(gRaise) {
			if err := b.floor(record); err != nil {
				return err
			}
		}
	}
	if b.haveJbuild && o.wants(gCore) {
		// c: same agent (layer in the registry), a new build of the app
		// (another config, same layers), as CI rewrapping a new release.
		src, err := b.variant(b.big, i)
		if err != nil {
			return err
		}
		d, err := b.jbuild(src, src+"-jennifer")
		if err != nil {
			return err
		}
		record(sJbuildWarm, d)
		// d1, d2: the same with the 5 MB base.
		if err := b.agent.setNonce(fmt.Sprintf("d-%d", i)); err != nil {
			return err
		}
		if d, err = b.jbuild(b.small, b.small+"-jennifer"); err != nil {
			return err
		}
		record(sSmallCold, d)
		if src, err = b.variant(b.small, i); err != nil {
			return err
		}
		if d, err = b.jbuild(src, src+"-jennifer"); err != nil {
			return err
		}
		record(sSmallWarm, d)
	}
	// n1, n2: a and c with the agent's files just written (fresh.go).
	if b.haveJbuild && o.wants(gFresh) {
		if err := b.freshOnce(i, record); err != nil {
			return err
		}
	}
	// k: the 500 MB image in containerd, new agent (stores.go).
	if b.haveJbuild && o.wants(gContainerd) {
		if err := b.containerdOnce(i, record); err != nil {
			return err
		}
	}
	// w1, w2: docker-daemon: against the classic docker build (daemon.go).
	if b.haveJbuild && o.wants(gDaemon) {
		if err := b.daemonOnce(i, record); err != nil {
			return err
		}
	}
	// m1, mN: wrap -f over one image, then over N (many.go).
	if b.haveJbuild && o.wants(gMany) {
		if err := b.manyOnce(i, record); err != nil {
			return err
		}
	}
	// f1, f2: the first wrap of a never-seen base (first.go).
	if o.wants(gFirst) {
		if err := b.firstOnce(i, record); err != nil {
			return err
		}
	}
	if !o.wants(gCI) && !o.wants(gCore) {
		return nil
	}
	// e1, e2: a CI build's image, jbuild and crane (ci.go).
	if o.wants(gCI) {
		if err := b.ci(i, record); err != nil {
			return err
		}
	}
	if !o.wants(gCore) {
		return nil
	}
	// b: the crane pipeline with a new agent.
	if err := b.agent.setNonce(fmt.Sprintf("b-%d", i)); err != nil {
		return err
	}
	steps, err := b.crane(b.big, b.big+"-crane")
	if err != nil {
		return err
	}
	var total time.Duration
	for k, d := range steps {
		total += d
		if i >= 0 {
			b.steps[craneSteps[k]] = append(b.steps[craneSteps[k]], d)
		}
	}
	record(sCrane, total)
	return nil
}

// verifyOutputs checks after the warm-up that each tool wrote a complete
// monitored image.
func (b *bench) verifyOutputs() error {
	type pair struct {
		src, out string
		added    int
	}
	var pairs []pair
	if b.opts.wants(gCore) {
		pairs = append(pairs, pair{b.big, b.big + "-crane", 1})
		if b.haveJbuild {
			// jbuild adds the shared agent layer and the per-image settings layer.
			pairs = append(pairs, pair{b.small, b.small + "-jennifer", 2})
		}
	}
	if b.haveJbuild && b.opts.needBig() {
		pairs = append(pairs, pair{b.big, b.big + "-jennifer", 2})
	}
	if b.haveJbuild && b.opts.wants(gMany) {
		for _, src := range b.many.images {
			pairs = append(pairs, pair{src, src + "-jennifer", 2})
		}
	}
	for _, p := range pairs {
		if err := verify(p.src, p.out, p.added); err != nil {
			return fmt.Errorf("output check: %w", err)
		}
		logf("output check: %s ok", p.out)
	}
	if b.haveJbuild && b.opts.wants(gMany) {
		if err := b.verifyMany(); err != nil {
			return fmt.Errorf("output check: %w", err)
		}
	}
	return nil
}

func (b *bench) jbuild(src, dst string) (time.Duration, error) {
	return b.timed(b.opts.jbuild, "wrap", src, "-t", dst, "--agent", b.agent.dir,
		"--server-address", "127.0.0.1", "-q", "--force")
}

var craneSteps = []string{"tar", "crane append", "crane mutate"}

// crane does jbuild's job by hand: tar the agent folder at its place in the
// image, append it as a layer, set JAVA_TOOL_OPTIONS (merged by hand with
// the base's -Xmx256m: crane --env replaces values).
func (b *bench) crane(src, dst string) ([]time.Duration, error) {
	tarball := filepath.Join(b.tmp, "agent.tar")
	cmds := [][]string{
		{"tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
			"--transform", `s,^agent\.java,opt/jennifer/agent.java,`,
			"-C", filepath.Dir(b.agent.dir), "-cf", tarball, "agent.java"},
		{b.opts.crane, "append", "--insecure", "-b", src, "-f", tarball, "-t", dst},
		{b.opts.crane, "mutate", "--insecure", dst, "--env", "JAVA_TOOL_OPTIONS=" + javaOpts, "-t", dst},
	}
	var out []time.Duration
	for _, c := range cmds {
		d, err := b.timed(c[0], c[1:]...)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// timed runs one command and returns its wall time; a failure returns its
// output.
func (b *bench) timed(bin string, args ...string) (time.Duration, error) {
	d, _, err := b.measured(false, nil, bin, args...)
	return d, err
}

// measured runs one command with env added to the bench's environment and
// returns its wall time and, with rss, its peak RSS in bytes, as `/usr/bin/time -v`
// prints it ("Maximum resident set size"; GNU time's %M), or 0 without
// /usr/bin/time; a failure returns its output.
//
// The peak RSS is not read from this process's wait4: Go starts a child
// with vfork semantics (CLONE_VM), and at execve Linux keeps the larger of
// the child's and the shared memory's high-water mark, which is the bench's
// own (gigabytes while it holds a random image). time(1) forks the command
// from its own small process, so its figure is jbuild's alone.
func (b *bench) measured(rss bool, env []string, bin string, args ...string) (time.Duration, int64, error) {
	timeBin, rssFile := "/usr/bin/time", ""
	if rss {
		if _, err := os.Stat(timeBin); err == nil {
			rssFile = filepath.Join(b.tmp, "maxrss")
			args = append([]string{"-o", rssFile, "-f", "%M", bin}, args...)
			bin = timeBin
		}
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"DOCKER_CONFIG="+filepath.Join(b.tmp, "docker"), // no credential helpers
		"XDG_CACHE_HOME="+filepath.Join(b.tmp, "cache"), // jbuild's layer cache, per bench
	)
	cmd.Env = append(cmd.Env, env...) // later values win
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	ticks := readMachineTicks()
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	b.machineAcc = b.machineAcc.plus(readMachineTicks().minus(ticks))
	if cmd.ProcessState != nil {
		b.cpuAcc += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%s %v: %w\n%s", filepath.Base(bin), args, err, out.String())
	}
	var peak int64
	if rssFile != "" {
		kb, err := os.ReadFile(rssFile)
		if err != nil {
			return 0, 0, err
		}
		if _, err := fmt.Sscan(string(kb), &peak); err != nil {
			return 0, 0, fmt.Errorf("reading the peak RSS %q: %w", kb, err)
		}
		peak <<= 10 // KiB
	}
	return d, peak, nil
}

// variant pushes a new build of src: the same layers, a config with another
// label, tagged src-r<i>. It returns the new reference. Not timed.
func (b *bench) variant(src string, i int) (string, error) {
	r, err := name.ParseReference(src, name.Insecure)
	if err != nil {
		return "", err
	}
	img, err := remote.Image(r)
	if err != nil {
		return "", err
	}
	img, err = mutate.Config(img, withLabel(img, "bench.run", fmt.Sprint(i)))
	if err != nil {
		return "", err
	}
	ref := fmt.Sprintf("%s-r%d", src, i+1)
	nr, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return "", err
	}
	if err := remote.Write(nr, img); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	return ref, nil
}

func withLabel(img v1.Image, key, value string) v1.Config {
	cf, err := img.ConfigFile()
	if err != nil || cf == nil {
		return v1.Config{Labels: map[string]string{key: value}}
	}
	c := cf.DeepCopy().Config
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	c.Labels[key] = value
	return c
}
