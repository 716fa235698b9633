package testenv

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// RegistryBinEnv names the environment variable that overrides the registry
// binary (default: docker-registry from PATH, then /usr/bin/docker-registry).
const RegistryBinEnv = "JBUILD_REGISTRY_BIN"

// ErrRegistryNotInstalled is returned (wrapped) by StartRegistry when no
// registry binary can be found.
var ErrRegistryNotInstalled = errors.New("docker-registry binary not found")

// InstallHint says how to get the registry binary on Debian.
const InstallHint = "install it with `apt-get install docker-registry` or `make test-deps`" +
	" (or point " + RegistryBinEnv + " at a distribution registry binary)"

// readyTimeout bounds how long StartRegistry waits for /v2/ to answer.
const readyTimeout = 20 * time.Second

// registryConfig is a distribution 2.8 configuration: filesystem storage in a
// temporary directory, deletes enabled (tests and the benchmark delete blobs
// to get a cold registry), loopback only, quiet logs; plain HTTP without
// auth unless serverOptions add TLS or an auth section.
const registryConfig = `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  headers:
    X-Content-Type-Options: [nosniff]
`

// RegistryBinary returns the path of the registry binary StartRegistry runs.
func RegistryBinary() (string, error) {
	if p := os.Getenv(RegistryBinEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrRegistryNotInstalled, RegistryBinEnv, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("docker-registry"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/docker-registry"); err == nil {
		return "/usr/bin/docker-registry", nil
	}
	return "", ErrRegistryNotInstalled
}

// StartRegistry starts a registry on 127.0.0.1 at a free port and waits until
// /v2/ answers. It returns the address ("127.0.0.1:PORT") and a stop function
// that ends that process (by its PID, never by name) and removes its storage.
// stop is safe to call more than once.
func StartRegistry() (addr string, stop func(), err error) {
	bin, err := registryBinary()
	if err != nil {
		return "", nil, err
	}
	return StartRegistryBinary(bin)
}

// registryBinary is RegistryBinary with the install hint in its error.
func registryBinary() (string, error) {
	bin, err := RegistryBinary()
	if err != nil {
		return "", fmt.Errorf("starting registry: %w; %s", err, InstallHint)
	}
	return bin, nil
}

// StartRegistryBinary is StartRegistry with another distribution binary
// (the benchmark also runs distribution v3 built from its module); its
// configuration is the same.
func StartRegistryBinary(bin string) (addr string, stop func(), err error) {
	return startRegistry(bin, serverOptions{})
}

// StartAuthRegistry is StartRegistry with HTTP basic authentication: the
// registry accepts user and password only (htpasswd, bcrypt), as private
// registries and Docker Hub's basic-auth mirrors do.
func StartAuthRegistry(user, password string) (addr string, stop func(), err error) {
	bin, err := registryBinary()
	if err != nil {
		return "", nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return "", nil, err
	}
	return startRegistry(bin, serverOptions{auth: func(dir string) (string, error) {
		pwPath := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(pwPath, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			return "", err
		}
		return fmt.Sprintf(htpasswdConfig, pwPath), nil
	}})
}

// htpasswdConfig is the configuration's auth section for an htpasswd file.
const htpasswdConfig = `auth:
  htpasswd:
    realm: jbuild-test
    path: %s
`

// serverOptions are what a registry serves beyond plain HTTP without auth.
type serverOptions struct {
	// auth writes what an auth scheme needs into the registry's folder and
	// returns the configuration's auth section.
	auth func(dir string) (string, error)
	// tls, when set, makes the registry serve HTTPS only with this
	// certificate.
	tls *serverCert
}

// startRegistry starts bin with o.
func startRegistry(bin string, o serverOptions) (addr string, stop func(), err error) {
	// The port is picked by binding :0 and releasing it, so another process
	// can take it in between: retry a few times on an early exit.
	for attempt := 1; ; attempt++ {
		addr, stop, err = startOnce(bin, o)
		if err == nil || attempt == 3 {
			return addr, stop, err
		}
	}
}

func startOnce(bin string, o serverOptions) (string, func(), error) {
	dir, err := os.MkdirTemp("", "jbuild-registry-")
	if err != nil {
		return "", nil, fmt.Errorf("starting registry: %w", err)
	}
	fail := func(err error) (string, func(), error) {
		os.RemoveAll(dir)
		return "", nil, err
	}
	port, err := freePort()
	if err != nil {
		return fail(fmt.Errorf("starting registry: picking a port: %w", err))
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cfgPath := filepath.Join(dir, "config.yml")
	storage := filepath.Join(dir, "storage")
	cfg := fmt.Appendf(nil, registryConfig, storage, addr)
	if o.tls != nil {
		// Under http:, the last section of registryConfig.
		section, err := o.tls.write(dir)
		if err != nil {
			return fail(fmt.Errorf("starting registry: %w", err))
		}
		cfg = append(cfg, section...)
	}
	if o.auth != nil {
		section, err := o.auth(dir)
		if err != nil {
			return fail(fmt.Errorf("starting registry: %w", err))
		}
		cfg = append(cfg, section...)
	}
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return fail(fmt.Errorf("starting registry: %w", err))
	}
	logPath := filepath.Join(dir, "registry.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fail(fmt.Errorf("starting registry: %w", err))
	}
	defer logf.Close()

	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Env = registryEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	stop, exited, err := startDaemon(cmd, 5*time.Second, func() { os.RemoveAll(dir) })
	if err != nil {
		return fail(fmt.Errorf("starting registry: %s: %w", bin, err))
	}
	if err := waitReady(addr, o.tls, exited); err != nil {
		log := logTail(logPath, 2048) // before stop removes dir
		stop()
		return "", nil, fmt.Errorf("starting registry: %w\nregistry log:\n%s", err, log)
	}
	return addr, stop, nil
}

// waitReady polls GET /v2/ until it answers 200 (or 401: it asks for
// credentials), the process exits or the timeout passes. On failure the
// error carries the registry's log.
func waitReady(addr string, cert *serverCert, exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	scheme := "http"
	if cert != nil {
		scheme = "https"
		client.Transport = &http.Transport{TLSClientConfig: cert.clientConfig()}
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := client.Get(scheme + "://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("registry on %s exited before answering /v2/", addr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("registry on %s did not answer /v2/ within %s (last error: %v)", addr, readyTimeout, err)
		}
	}
}

// registryEnv is the environment without REGISTRY_* variables, which
// distribution would read as configuration overrides.
func registryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			env = append(env, kv)
		}
	}
	return env
}

// logTail returns at most the last n bytes of the file at path.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
