package e2e

import (
	"context"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

// PushJavaAgentImage publishes the Java agent folder dir (agent.java/ or
// its content) as an agent image at ref, as `jbuild agent push` does.
func PushJavaAgentImage(t testing.TB, dir, ref string) {
	t.Helper()
	ctx := context.Background()
	src, err := agent.Open(ctx, dir, agent.Options{BundleRoot: []string{"agent.java"}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := src.Bundle(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	prof, err := templates.Lookup("jennifer-java")
	if err != nil {
		t.Fatal(err)
	}
	a, err := wrap.AgentImage(prof, []wrap.PlatformBundle{{Bundle: b}}, agentlayer.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := transport.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := transport.Open(r, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Put(ctx, a); err != nil {
		t.Fatal(err)
	}
}
