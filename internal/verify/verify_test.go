package verify

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

// wrapped returns the sample Java image and its monitored variant, made by
// the real engine into an OCI layout.
func wrapped(t *testing.T) (base, out v1.Image) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := sampleimage.Write(dir, "app"); err != nil {
		t.Fatal(err)
	}
	agentDir, _ := filepath.Abs("../../examples/agents/jennifer-java-sample/agent.java")
	src, err := agent.Open(ctx, agentDir, agent.Options{BundleRoot: []string{"agent.java"}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	open := func(tag string) transport.Store {
		st, err := transport.Open(transport.Ref{Kind: transport.KindOCILayout, Path: dir, Tag: tag}, transport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	_, err = wrap.Wrap(ctx, open("app"), open("app-jennifer"), wrap.Options{
		Agent: src,
		Plan:  buildplan.Options{ServerAddress: "10.0.0.5", ServerPort: 5000, DomainID: 1000, JbuildVersion: "test"},
		Layer: agentlayer.Options{CacheDir: t.TempDir()},
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := open("app").Get(ctx)
	o, _ := open("app-jennifer").Get(ctx)
	return b.Image, o.Image
}

func baseFn(img v1.Image) Base {
	return func(context.Context, string, string) (v1.Image, error) { return img, nil }
}

func checks(r *Report) map[string]Check {
	out := map[string]Check{}
	for _, c := range r.Checks {
		out[c.Name] = c
	}
	return out
}

func TestVerifyPassesOnAWrapOutput(t *testing.T) {
	base, out := wrapped(t)
	r, err := Image(context.Background(), "sample", out, baseFn(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() {
		var buf bytes.Buffer
		r.WriteText(&buf)
		t.Fatalf("verify failed on a fresh wrap:\n%s", buf.String())
	}
	if len(r.Checks) < 9 {
		t.Errorf("only %d checks ran", len(r.Checks))
	}
}

func TestVerifyRefusesAnUnwrappedImage(t *testing.T) {
	base, _ := wrapped(t)
	r, err := Image(context.Background(), "sample", base, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || checks(r)["jbuild labels"].OK {
		t.Errorf("an unwrapped image passed: %+v", r.Checks)
	}
}

// tamper adds a layer that breaks the file rules, and edits the config.
func tamper(t *testing.T, img v1.Image, hdrs []*tar.Header, edit func(*v1.Config)) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		tw.WriteHeader(h)
		if h.Size > 0 {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	out, err := mutate.AppendLayers(img, l)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := out.ConfigFile()
	cf = cf.DeepCopy()
	edit(&cf.Config)
	out, err = mutate.ConfigFile(out, cf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifyFindsEachBreakage(t *testing.T) {
	base, out := wrapped(t)
	bad := tamper(t, out, []*tar.Header{
		{Name: "opt/jennifer/agent.java/jennifer.jar", Typeflag: tar.TypeReg, Mode: 0o4755, Size: 3},
		{Name: "opt/jennifer/agent.java/secret.key", Typeflag: tar.TypeReg, Mode: 0o600, Size: 3},
		{Name: "opt/jennifer/agent.java/logs/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "opt/jennifer/agent.java/lib.so", Typeflag: tar.TypeReg, Mode: 0o666, Uid: 1000, Size: 3},
	}, func(c *v1.Config) {
		c.Env = []string{"PATH=/usr/bin:/bin"}
		c.Entrypoint = []string{"sh"}
	})
	r, err := Image(context.Background(), "tampered", bad, baseFn(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := checks(r)
	for _, name := range []string{
		"no setuid/setgid",
		"readable by the runtime user",
		"writable dirs writable by the runtime user",
		"root-owned, not writable by others",
		"environment activates the agent",
		"unchanged from the base",
	} {
		if c, ok := got[name]; !ok || c.OK || c.Skipped {
			t.Errorf("%s: %+v, want a failure", name, c)
		}
	}
	if r.OK() {
		t.Error("the report says OK")
	}
}

// A folder of the base above the install dir that comes out with the
// agent layer's root 0755 instead of its own owner and mode fails verify.
func TestVerifyFindsAChangedBaseFolder(t *testing.T) {
	base, out := wrapped(t)
	owned := tamper(t, base, []*tar.Header{{Name: "opt/jennifer/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: 1000, Gid: 1000}}, func(*v1.Config) {})
	// out was made from base, whose /opt/jennifer is root 0755: against a
	// base that has it 0700 owned by 1000 it is a changed folder.
	r, err := Image(context.Background(), "sample", out, baseFn(owned), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := checks(r)["base folders kept"]; c.OK || c.Skipped {
		t.Errorf("base folders kept: %+v, want a failure naming /opt/jennifer", c)
	}
	r, err = Image(context.Background(), "sample", out, baseFn(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := checks(r)["base folders kept"]; !c.OK {
		t.Errorf("base folders kept on a fresh wrap: %+v", c)
	}
}

// An output of a user's profile made before outputs carried their profile
// (no io.jbuild.profile-doc) skips the agent's files, saying how to give
// the profile; given it (verify --profile FILE), they are checked.
func TestVerifyWithAProfileGiven(t *testing.T) {
	base, out := wrapped(t)
	cf, err := out.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	delete(cf.Config.Labels, buildplan.LabelProfileDoc)
	cf.Config.Labels[buildplan.LabelProfile] = "my-java"
	old, err := mutate.ConfigFile(out, cf)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Image(context.Background(), "old", old, baseFn(base), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := checks(r)["agent files"]; !c.Skipped || !strings.Contains(c.Detail, "--profile FILE") {
		t.Errorf("agent files without the profile: %+v, want skipped with how to give it", c)
	}
	prof, err := templates.Lookup("jennifer-java")
	if err != nil {
		t.Fatal(err)
	}
	mine := *prof
	mine.Name = "my-java"
	r, err = Image(context.Background(), "old", old, baseFn(base), &mine)
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := checks(r)["agent files"]; !ok || c.Skipped || !c.OK {
		t.Errorf("agent files with the profile given: %+v (all: %+v)", c, r.Checks)
	}
}
