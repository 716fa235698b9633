package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/frontend"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
	"github.com/spf13/pflag"
)

// planFlags are the flags shared by `wrap` and `plan`.
type planFlags struct {
	agent         string
	runtime       string
	profile       string
	serverAddress string
	serverPort    int
	domainID      int
	// Given: the flag was on the command line (0 is then refused by the
	// agent's range instead of meaning "not given").
	serverPortGiven, domainIDGiven bool
	platforms                      []string
	params                         []string
	runtimeVer                     string
}

func (f *planFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.agent, "agent", "", "the agent to install (`AGENT`): a folder (agent.java/), a .zip or .tar.gz as downloaded from the view server, its http(s) download URL, or an agent image")
	fs.StringVar(&f.runtime, "runtime", "", "runtime to monitor instead of the detected one: java, dotnet, nodejs, python or php")
	fs.StringVar(&f.profile, "profile", "", "agent `PROFILE`: a built-in name (see jbuild profiles) or a profile file")
	fs.StringVar(&f.serverAddress, "server-address", "", "address (`HOST`) of the JENNIFER data server the agent connects to (required unless the agent's own config sets it)")
	// Port and domain id stay 0 unless given, so that what the user did not
	// type never overrides the image being upgraded or the agent bundle's
	// own config (the profile's defaults, 5000 and 1000, come last).
	fs.Var(decimalInt{p: &f.serverPort, min: 1, max: 65535, given: &f.serverPortGiven}, "server-port", "data server TCP port (default: what the image being upgraded records, else the agent's own config, else 5000)")
	// The domain id's range is the agent's: checked against the profile.
	fs.Var(decimalInt{p: &f.domainID, given: &f.domainIDGiven}, "domain-id", "JENNIFER domain id, 1-32767 for JENNIFER agents (default: as for --server-port, else 1000)")
	fs.StringSliceVar(&f.platforms, "platform", nil, "wrap only these platforms of a multi-platform image (`OS/ARCH`[/variant], repeatable)")
	fs.StringArrayVar(&f.params, "param", nil, "set a profile parameter `NAME=VALUE` (repeatable), e.g. --param entry=/app/apm.js")
	fs.StringVar(&f.runtimeVer, "runtime-version", "", "runtime version (major.minor) when the image does not reveal it, e.g. 8.2 for PHP")
}

// planOptions validates the planning flags and turns them into
// buildplan options; wrap, plan and wrap --builder share it. prof is the
// --profile given, or nil (see checkForProfile).
func (f *planFlags) planOptions(prof *buildplan.Profile) (buildplan.Options, error) {
	var o buildplan.Options
	if f.runtime != "" {
		switch buildplan.Runtime(f.runtime) {
		case buildplan.RuntimeJava, buildplan.RuntimeDotnet, buildplan.RuntimeNodejs, buildplan.RuntimePython, buildplan.RuntimePHP:
		default:
			return o, usageError{fmt.Errorf("--runtime %q: use java, dotnet, nodejs, python or php", f.runtime)}
		}
	}
	params := map[string]string{}
	for _, p := range f.params {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return o, usageError{fmt.Errorf("--param %q: write NAME=VALUE", p)}
		}
		if err := buildplan.CheckValue(flagNames{}.Name(buildplan.OptParam(k)), v); err != nil {
			return o, usageError{err}
		}
		params[k] = v
	}
	// Refused here with exit code 2; buildplan.Make checks the same for
	// every engine (the frontend's build args too).
	if err := buildplan.CheckServerAddress(flagNames{}.Name(buildplan.OptServerAddress), f.serverAddress); err != nil {
		return o, usageError{err}
	}
	if err := buildplan.CheckValue(flagNames{}.Name(buildplan.OptRuntimeVersion), f.runtimeVer); err != nil {
		return o, usageError{err}
	}
	if err := f.checkForProfile(prof, params); err != nil {
		return o, usageError{err}
	}
	return buildplan.Options{
		Runtime:        buildplan.Runtime(f.runtime),
		ServerAddress:  f.serverAddress,
		ServerPort:     f.serverPort,
		DomainID:       f.domainID,
		JbuildVersion:  version,
		Params:         params,
		RuntimeVersion: f.runtimeVer,
		Names:          flagNames{},
	}, nil
}

// options turns the flags into engine options.
func (f *planFlags) options(ctx context.Context, g *globalFlags, stores transport.Options) (wrap.Options, error) {
	var o wrap.Options
	if f.agent == "" {
		return o, usageError{fmt.Errorf("--agent is required: an agent folder, .zip/.tar.gz, download URL or agent image")}
	}
	prof, err := loadProfile(f.profile)
	if err != nil {
		return o, err
	}
	po, err := f.planOptions(prof)
	if err != nil {
		return o, err
	}
	for _, s := range f.platforms {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			return o, usageError{fmt.Errorf("--platform %q: %w (write os/arch[/variant], e.g. linux/arm64)", s, err)}
		}
		o.Platforms = append(o.Platforms, *p)
	}
	o.Profile = prof
	layerOpts, err := layerOptions(g)
	if err != nil {
		return o, err
	}
	o.Layer = layerOpts
	o.LayerFilesCache = imagefs.DefaultCacheDir()
	if g.cacheDir != "" {
		o.LayerFilesCache = g.cacheDir + "/layer-files"
	}
	o.Stores = stores
	o.Plan = po
	src, err := openAgent(ctx, f.agent, prof, g, stores)
	if err != nil {
		return o, err
	}
	// Read once, whether the default target's suffix looks at it first
	// or not.
	o.Agent = agent.Memo(src)
	return o, nil
}

func layerOptions(g *globalFlags) (agentlayer.Options, error) {
	epoch, err := agentlayer.EpochFromEnv()
	if err != nil {
		return agentlayer.Options{}, err
	}
	o := agentlayer.Options{Epoch: epoch}
	if g.cacheDir != "" {
		o.CacheDir = g.cacheDir + "/layers"
	}
	return o, nil
}

// loadProfile reads --profile: an existing file is a user profile, anything
// else a built-in name.
func loadProfile(spec string) (*buildplan.Profile, error) {
	if spec == "" {
		return nil, nil
	}
	if st, err := os.Stat(spec); err == nil && !st.IsDir() {
		data, err := os.ReadFile(spec)
		if err != nil {
			return nil, fmt.Errorf("reading profile %s: %w", spec, err)
		}
		return buildplan.ParseProfile(data, spec)
	}
	return templates.Lookup(spec)
}

// openAgent opens --agent; agent images are read through the same stores as
// any other image.
func openAgent(ctx context.Context, spec string, prof *buildplan.Profile, g *globalFlags, stores transport.Options) (agent.Source, error) {
	roots, err := bundleRoots(prof)
	if err != nil {
		return nil, err
	}
	maxSize, err := parseSize(g.agentMaxSize)
	if err != nil {
		return nil, usageError{fmt.Errorf("--agent-max-size %q: %w", g.agentMaxSize, err)}
	}
	opts := agent.Options{
		BundleRoot:      roots,
		ResolveImage:    resolveImage(g, stores),
		MaxExpandedSize: maxSize,
		MaxEntries:      g.agentMaxEntries,
	}
	if opts.SingleFile, err = singleFileName(spec, prof); err != nil {
		return nil, usageError{fmt.Errorf("--agent %s: %w", spec, err)}
	}
	if g.cacheDir != "" {
		opts.CacheDir = g.cacheDir
	}
	// Hashing the agent overlaps with reading the image to wrap; errors
	// surface on first use, with the flag that raises a limit named.
	return limitHints{agent.OpenAsync(ctx, spec, opts)}, nil
}

func bundleRoots(prof *buildplan.Profile) ([]string, error) {
	if prof != nil {
		if prof.BundleRoot == "" {
			return nil, nil
		}
		return []string{prof.BundleRoot}, nil
	}
	all, err := templates.Profiles()
	if err != nil {
		return nil, err
	}
	var roots []string
	for _, p := range all {
		if p.BundleRoot != "" {
			roots = append(roots, p.BundleRoot)
		}
	}
	return roots, nil
}

func resolveImage(g *globalFlags, stores transport.Options) func(ctx context.Context, ref string) (v1.ImageIndex, v1.Image, error) {
	return func(ctx context.Context, ref string) (v1.ImageIndex, v1.Image, error) {
		r, err := transport.Parse(ref)
		if err != nil {
			return nil, nil, err
		}
		st, err := transport.Open(r, stores)
		if err != nil {
			return nil, nil, err
		}
		// Closed when the command ends (globalFlags.cleanup): an archive
		// store's extracted files back the returned image until then.
		g.onExit(st.Close)
		a, err := st.Get(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("agent image: %w", err)
		}
		return a.Index, a.Image, nil
	}
}

// remoteSettings turns the flags into the frontend's settings for
// `wrap --builder`: the agent is an agent image, or a local folder sent to
// BuildKit as the jennifer-agent build context.
func (f *planFlags) remoteSettings() (*frontend.Settings, string, error) {
	if f.agent == "" {
		return nil, "", usageError{fmt.Errorf("--agent is required: an agent folder or an agent image")}
	}
	prof, err := loadProfile(f.profile)
	if err != nil {
		return nil, "", err
	}
	epoch, err := agentlayer.EpochFromEnv()
	if err != nil {
		return nil, "", err
	}
	po, err := f.planOptions(prof)
	if err != nil {
		return nil, "", err
	}
	s := &frontend.Settings{Profile: prof, Epoch: epoch, Plan: po}
	if st, err := os.Stat(f.agent); err == nil {
		if !st.IsDir() {
			return nil, "", usageError{fmt.Errorf("--agent %s: with --builder give an agent folder or an agent image (unpack archives first, or publish them with `jbuild agent push`)", f.agent)}
		}
		return s, f.agent, nil
	}
	if strings.Contains(f.agent, "://") {
		return nil, "", usageError{fmt.Errorf("--agent %s: with --builder give an agent folder or an agent image (publish downloads with `jbuild agent push`)", f.agent)}
	}
	s.AgentRef = f.agent
	return s, "", nil
}

// parseSize reads a byte count: a whole number, optionally followed by
// KiB, MiB or GiB (K, M, G and KB, MB, GB mean the same, powers of 1024).
// "" is 0, the default.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToUpper(strings.TrimSpace(s[len(num):]))
	shift := map[string]uint{"": 0, "B": 0, "K": 10, "KB": 10, "KIB": 10, "M": 20, "MB": 20, "MIB": 20, "G": 30, "GB": 30, "GIB": 30}
	sh, ok := shift[unit]
	n, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || n <= 0 || n > (1<<62)>>sh {
		return 0, fmt.Errorf("want a positive size such as 2GiB, 500MiB or 1048576")
	}
	return n << sh, nil
}
