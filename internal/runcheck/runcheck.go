// Package runcheck runs an image once, the way a restricted Kubernetes pod
// runs it, and reports whether the agent inside reported to a throw-away
// receiver: a TCP connection and its first bytes (JENNIFER's agents), an
// OTLP/HTTP export or any HTTP request, as the profile's runCheck says
// (Options.Check). It is the machinery behind `jbuild verify --run` and
// jbuild's end-to-end tests.
//
// Run starts the image in Docker or in containerd with host networking, so
// the agent reaches a listener on 127.0.0.1 of this machine; optionally as
// another user, with a read-only root filesystem, tmpfs mounts for the
// agent's writable directories and the agent config file replaced by one
// that points at the listener (see ServerOverride). It waits, within a time
// bound, until the agent reports (and the app answers its own HTTP probe,
// when one is given), then kills the container and removes it, whatever
// happened.
package runcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// Engines Run knows.
const (
	EngineDocker     = "docker"
	EngineContainerd = "containerd"
)

// DefaultNamespace is the containerd namespace kubelet's images live in.
const DefaultNamespace = "k8s.io"

// Options say how to run the image.
type Options struct {
	// Engine is EngineDocker or EngineContainerd.
	Engine string
	// Profile is the agent's profile for Prepare; nil: the one the image
	// carries, else the built-in one it names (templates.ForImage).
	Profile *buildplan.Profile
	// DockerHost is the Docker daemon address ("unix:///var/run/docker.sock");
	// empty means DOCKER_HOST or Docker's default.
	DockerHost string
	// ContainerdAddress is containerd's socket; Namespace defaults to
	// DefaultNamespace.
	ContainerdAddress string
	Namespace         string

	// Image is the image name as the engine knows it (for containerd the
	// full name, "docker.io/library/app:1").
	Image string
	// User overrides the image's USER ("1000:1000"); empty keeps it.
	User string
	// ReadOnlyRoot mounts the root filesystem read-only, as
	// readOnlyRootFilesystem: true does in a pod.
	ReadOnlyRoot bool
	// Volumes are directories that get an empty tmpfs (emptyDir with
	// medium: Memory) owned by the running user (see FSGroup).
	Volumes []string
	// FSGroup, when set, is the pod's securityContext.fsGroup, applied as
	// kubelet applies it: every volume is root-owned, group-owned by
	// FSGroup, mode 2777 (setgid), instead of owned by the user, and the
	// process gets FSGroup as a supplementary group.
	FSGroup *int
	// SupplementalGroups are more supplementary group ids of the process
	// (securityContext.supplementalGroups).
	SupplementalGroups []int
	// NoNewPrivileges sets no_new_privs (allowPrivilegeEscalation: false);
	// DropAllCapabilities drops every capability (capabilities.drop: [ALL]).
	NoNewPrivileges     bool
	DropAllCapabilities bool
	// Env are KEY=VALUE overrides on top of the image's environment.
	Env []string
	// Config, when set, replaces one file of the image (the agent config)
	// with new content, bind-mounted writable.
	Config *ConfigOverride

	// Check says what counts as the agent having reported (a TCP
	// connection, an OTLP/HTTP export, any HTTP request); nil: a TCP
	// connection. Prepare sets it from the profile.
	Check *buildplan.RunCheck

	// Listener is the agent's data server (the receiver). Nil: Run listens on 127.0.0.1:0
	// itself, which is only useful when the image already points there.
	// Run closes it.
	Listener net.Listener
	// WaitFor bounds the wait for the agent (default 30s).
	WaitFor time.Duration
	// ProbeURL, when set, is fetched (GET) until it answers 200 within
	// WaitFor: the app must still serve with the agent attached.
	ProbeURL string
	// Grace bounds how long Run keeps waiting for the agent once the app
	// answered the probe (agents attach before the app serves); zero means
	// until WaitFor. It keeps runs that must not connect short.
	Grace time.Duration
}

// ConfigOverride replaces the file at Path in the container with Content.
type ConfigOverride struct {
	Path    string
	Content []byte
}

// Result is what one run showed.
type Result struct {
	// Connected: the agent reported as the run check's kind says:
	// something connected to the listener (tcp), or sent an OTLP export or
	// an HTTP request (otlp-http, http).
	Connected bool
	// Kind is the run check's kind.
	Kind buildplan.RunCheckKind
	// FirstBytes is what the first connection sent (tcp: at most 4 KiB,
	// read within the run's time).
	FirstBytes []byte
	// Requests are the requests that counted (otlp-http, http).
	Requests []Request
	// Report says in a few words what the agent sent.
	Report string
	// AppAnswered: ProbeURL answered 200; ProbeBody is its body.
	AppAnswered bool
	ProbeBody   string
	// Exited: the container stopped on its own before the wait ended, with
	// ExitCode.
	Exited   bool
	ExitCode int
	// Logs are the container's stdout and stderr.
	Logs string
	// Duration from start to the end of the wait.
	Duration time.Duration
}

// String summarizes the result in one line.
func (r *Result) String() string {
	var b strings.Builder
	switch {
	case r.Connected && (r.Kind == "" || r.Kind == buildplan.RunCheckTCP):
		fmt.Fprintf(&b, "agent connected (%s)", r.Report)
	case r.Connected:
		fmt.Fprintf(&b, "agent reported (%s)", r.Report)
	case r.Kind == buildplan.RunCheckOTLPHTTP:
		b.WriteString("agent sent no OTLP export")
	case r.Kind == buildplan.RunCheckHTTP:
		b.WriteString("agent sent no HTTP request")
	default:
		b.WriteString("agent did not connect")
	}
	if r.AppAnswered {
		b.WriteString("; app answered")
	}
	if r.Exited {
		fmt.Fprintf(&b, "; container exited with code %d", r.ExitCode)
	}
	fmt.Fprintf(&b, " (%s)", r.Duration.Round(10*time.Millisecond))
	return b.String()
}

// container is one started container of an engine.
type instance interface {
	// exited is closed when the container's main process ends.
	exited() <-chan struct{}
	exitCode() int
	// stop kills the container, collects its logs and removes it.
	stop(ctx context.Context) (logs string, err error)
}

// runSpec is what an engine needs to create a container, with the user's
// options resolved.
type runSpec struct {
	Options
	// configFile is the host file bind-mounted at Config.Path.
	configFile string
}

// Run starts opts.Image, waits for its agent and removes the container. An
// error means the run could not be made or cleaned up (the Result, when
// not nil, still says what was seen); an agent that did not connect is not
// an error.
func Run(ctx context.Context, opts Options) (_ *Result, err error) {
	if opts.Image == "" {
		return nil, errors.New("runcheck: no image given")
	}
	if opts.WaitFor <= 0 {
		opts.WaitFor = 30 * time.Second
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	ln := opts.Listener
	if ln == nil {
		var err error
		if ln, err = Listen(); err != nil {
			return nil, err
		}
	}
	rcv, err := newReceiver(ln, opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	defer rcv.close()

	spec := runSpec{Options: opts}
	if opts.Config != nil {
		dir, err := os.MkdirTemp("", "jbuild-runcheck-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if spec.configFile, err = writeConfig(dir, opts.Config); err != nil {
			return nil, err
		}
	}

	var start func(context.Context, runSpec) (instance, error)
	switch opts.Engine {
	case EngineDocker:
		start = startDocker
	case EngineContainerd:
		start = startContainerd
	default:
		return nil, fmt.Errorf("runcheck: unknown engine %q (want %s or %s)", opts.Engine, EngineDocker, EngineContainerd)
	}
	began := time.Now()
	c, err := start(ctx, spec)
	if err != nil {
		return nil, err
	}
	res := &Result{Kind: kindOf(opts.Check)}
	// The container goes away whatever happens below, also when ctx is
	// cancelled: cleanup gets its own bounded context.
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		logs, serr := c.stop(cctx)
		res.Logs = logs
		if serr != nil && err == nil {
			err = fmt.Errorf("runcheck: cleaning up the container: %w", serr)
		}
	}()

	wait(ctx, c, rcv, res, opts)
	res.Duration = time.Since(began)
	if res.Connected {
		rcv.report(ctx, res)
	}
	return res, ctx.Err()
}

// wait returns when the run has shown what it can: the agent connected (and
// the app answered, when probed), the container exited, Grace passed after
// the app answered, or WaitFor passed.
func wait(ctx context.Context, c instance, rcv receiver, res *Result, opts Options) {
	deadline := time.NewTimer(opts.WaitFor)
	defer deadline.Stop()
	answered := make(chan string, 1)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if opts.ProbeURL != "" {
		go probe(pctx, opts.ProbeURL, answered)
	}
	var grace <-chan time.Time
	connected := rcv.reported()
	for {
		done := res.Connected && (opts.ProbeURL == "" || res.AppAnswered)
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-grace:
			return
		case <-connected:
			res.Connected = true
			connected = nil
		case body := <-answered:
			res.AppAnswered, res.ProbeBody = true, body
			if opts.Grace > 0 && !res.Connected {
				grace = time.After(opts.Grace)
			}
		case <-c.exited():
			res.Exited, res.ExitCode = true, c.exitCode()
			// A connection that raced with the exit still counts.
			select {
			case <-rcv.reported():
				res.Connected = true
			case <-time.After(100 * time.Millisecond):
			}
			return
		}
	}
}

// probe GETs url until it answers 200, then sends the body.
func probe(ctx context.Context, url string, answered chan<- string) {
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return
		}
		if resp, err := client.Do(req); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				answered <- string(body)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Listen opens the throw-away data server: TCP on 127.0.0.1, on a free
// port below 32768. The port is kept in the signed 16-bit range because the
// real JENNIFER Python agent (jennifer-python 5.6.5.9's native
// jennifer_agent) reads server_port as an int16: a port from the kernel's
// ephemeral range (32768-60999) becomes 0 and the agent silently connects
// to port 0.
func Listen() (net.Listener, error) {
	var last error
	for range 100 {
		port := minPort + mrand.IntN(maxPort-minPort+1)
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return ln, nil
		}
		last = err
	}
	return nil, fmt.Errorf("runcheck: listening for the agent on 127.0.0.1 (ports %d-%d): %w", minPort, maxPort, last)
}

// The port range of Listen: above the common fixed service ports, below
// the ephemeral range, at most math.MaxInt16.
const (
	minPort = 20000
	maxPort = math.MaxInt16
)

// Port is the TCP port of a listener.
func Port(ln net.Listener) int {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	n, _ := strconv.Atoi(p)
	return n
}

// writeConfig writes the override into dir. The file is world-writable: the
// agent runs as the image's user and may write to it (the Java agent
// writes the inst_id it is given back into its config).
func writeConfig(dir string, c *ConfigOverride) (string, error) {
	if !strings.HasPrefix(c.Path, "/") {
		return "", fmt.Errorf("runcheck: config path %q is not absolute", c.Path)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	f := filepath.Join(dir, filepath.Base(c.Path))
	if err := os.WriteFile(f, c.Content, 0o666); err != nil {
		return "", err
	}
	return f, os.Chmod(f, 0o666) // umask
}

// numericUser parses "uid" or "uid:gid"; ok is false for names.
func numericUser(u string) (uid, gid int, ok bool) {
	us, gs, hasGID := strings.Cut(u, ":")
	uid, err := strconv.Atoi(us)
	if err != nil {
		return 0, 0, false
	}
	gid = uid
	if hasGID {
		if gid, err = strconv.Atoi(gs); err != nil {
			return 0, 0, false
		}
	}
	return uid, gid, true
}

// tmpfsOptions are the mount options of a volume for the user: owned by the
// user when it is numeric (or root when the image has none), world-writable
// with the sticky bit, as /tmp, when it is a name runcheck cannot resolve.
// With an fsGroup, as kubelet makes an emptyDir: root-owned, group fsGroup,
// mode 2777.
func tmpfsOptions(user string, fsGroup *int) []string {
	if fsGroup != nil {
		return []string{"mode=2777", "uid=0", fmt.Sprintf("gid=%d", *fsGroup)}
	}
	if user == "" {
		user = "0"
	}
	if uid, gid, ok := numericUser(user); ok {
		return []string{"mode=0775", fmt.Sprintf("uid=%d", uid), fmt.Sprintf("gid=%d", gid)}
	}
	return []string{"mode=1777"}
}

// extraGroups are the supplementary groups the options add to the process.
func extraGroups(o Options) []int {
	var gs []int
	if o.FSGroup != nil {
		gs = append(gs, *o.FSGroup)
	}
	for _, g := range o.SupplementalGroups {
		if !slices.Contains(gs, g) {
			gs = append(gs, g)
		}
	}
	return gs
}
