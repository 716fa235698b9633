package main

import (
	"bytes"
	crand "crypto/rand"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

const craneModule = "github.com/google/go-containerregistry"

// buildCrane builds crane from the module version go.mod pins, into the user
// cache dir, and reuses that binary on later runs.
func buildCrane() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", craneModule).Output()
	if err != nil {
		return "", fmt.Errorf("finding the pinned %s version (run from the repository root): %w", craneModule, err)
	}
	version := strings.TrimSpace(string(out))
	return cachedTool("crane-"+version, func(gobin string) error {
		cmd := exec.Command("go", "build", "-o", filepath.Join(gobin, "crane-"+version), craneModule+"/cmd/crane")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	})
}

// distributionPkg is the registry the wrap section also runs on, built
// with `go install` at this version (its own module graph: it does not
// enter go.mod). A cold build takes about 1.5 minutes on 2 cores.
const (
	distributionPkg     = "github.com/distribution/distribution/v3/cmd/registry"
	distributionVersion = "v3.1.2"
)

func buildDistribution() (string, error) {
	name := "registry-" + distributionVersion
	return cachedTool(name, func(gobin string) error {
		cmd := exec.Command("go", "install", distributionPkg+"@"+distributionVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return err
		}
		return os.Rename(filepath.Join(gobin, "registry"), filepath.Join(gobin, name))
	})
}

// cachedTool returns the bench tool name from the user cache dir
// (jbuild/bench/NAME), building it first with build, which writes NAME into
// the temporary folder it is given; the binary is renamed into place whole.
func cachedTool(name string, build func(dir string) error) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "jbuild", "bench", name)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	logf("building %s into %s", name, bin)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(bin), ".build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := build(tmp); err != nil {
		return "", fmt.Errorf("building %s: %w", name, err)
	}
	return bin, os.Rename(filepath.Join(tmp, name), bin)
}

// pushJavaImage pushes the sample Java image's rootfs plus `layers` random
// layers totalling about size bytes, with the sample's config and a numeric
// USER (so resolving the user needs no layer read).
func pushJavaImage(ref string, size int64, layers int) error {
	rootfs, err := sampleimage.RootFS()
	if err != nil {
		return err
	}
	img, err := testenv.RandomImage(testenv.Spec{
		Base:      []v1.Layer{rootfs},
		Layers:    layers,
		LayerSize: size / int64(layers),
		OCI:       true,
		Config: func(c *v1.ConfigFile) {
			c.Config = sampleimage.JavaConfig().Config
			c.Config.User = fmt.Sprintf("%d:%d", sampleimage.AppUID, sampleimage.AppGID)
		},
	})
	if err != nil {
		return fmt.Errorf("building %s: %w", ref, err)
	}
	return writeImage(ref, img)
}

// agentBundle is an agent.java folder: jennifer.jar of random bytes and the
// sample conf/jennifer.conf.
type agentBundle struct {
	dir  string // .../agent.java
	conf []byte // the sample conf, before any nonce
}

func newAgent(parent string, size int64) (*agentBundle, error) {
	dir := filepath.Join(parent, "agent.java")
	if err := os.MkdirAll(filepath.Join(dir, "conf"), 0o755); err != nil {
		return nil, err
	}
	conf, err := os.ReadFile("examples/agents/jennifer-java-sample/agent.java/conf/jennifer.conf")
	if err != nil {
		return nil, fmt.Errorf("reading the sample agent conf (run from the repository root): %w", err)
	}
	var seed [32]byte
	crand.Read(seed[:])
	f, err := os.Create(filepath.Join(dir, "jennifer.jar"))
	if err != nil {
		return nil, err
	}
	if _, err := io.CopyN(f, rand.NewChaCha8(seed), size); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	a := &agentBundle{dir: dir, conf: conf}
	return a, a.setNonce("initial")
}

// setNonce makes the bundle's content (so its layer digest) new.
func (a *agentBundle) setNonce(nonce string) error {
	conf := append(bytes.Clone(a.conf), fmt.Sprintf("# bench %s\n", nonce)...)
	return os.WriteFile(filepath.Join(a.dir, "conf", "jennifer.conf"), conf, 0o644)
}
