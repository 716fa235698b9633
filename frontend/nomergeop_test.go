package frontend

import (
	"path"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// A builder without MergeOp (Docker Engine's own builder on graphdriver
// storage) gets the agent copied onto the image instead of merged: the same
// files, owners and modes, the same env and labels (but io.jbuild.layer,
// which names the agent image's own layer), and no MergeOp in the LLB. The
// capability is hidden from the in-process frontend; the real buildkitd
// runs the copies.
func TestFrontendWithoutMergeOp(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushJavaLike(t, reg+"/nomerge/javabase:1")
	pushAgentImage(t, reg+"/nomerge/agent:java")
	dockerfile := "FROM " + reg + "/nomerge/javabase:1\nENV JAVA_TOOL_OPTIONS=\"-Xss1m\"\nCOPY app.jar /app/app.jar\nUSER 1000:1000\n"
	run := func(tag string, noMerge bool, agentDir string) (*v1.ConfigFile, v1.Image, *buildResult) {
		out := reg + "/nomerge/app:" + tag
		b := build{dockerfile: dockerfile, files: map[string]string{"app.jar": "jar"}, args: map[string]string{ArgServerAddress: "10.0.0.5"},
			push: out, noMergeOp: noMerge, agentDir: agentDir}
		if agentDir == "" {
			b.args[ArgAgent] = reg + "/nomerge/agent:java"
		}
		res := b.mustRun(t)
		img := image(t, out)
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		return cf, img, res
	}
	mcf, mimg, _ := run("merged", false, "")
	for _, c := range []struct {
		tag      string
		agentDir string
	}{{"copied", ""}, {"copied-local", sampleAgentDir(t)}} {
		ccf, cimg, res := run(c.tag, true, c.agentDir)
		copied := false
		for _, s := range res.statuses {
			for _, v := range s.Vertexes {
				if strings.Contains(v.Name, "copied: the builder has no MergeOp") {
					copied = true
				}
				if strings.Contains(v.Name, "[jbuild] add the") && !strings.Contains(v.Name, "copied") && !strings.Contains(v.Name, "settings") {
					t.Errorf("%s: a merge step ran: %q", c.tag, v.Name)
				}
			}
		}
		if !copied {
			t.Errorf("%s: no copy step in the build", c.tag)
		}
		if strings.Join(ccf.Config.Env, "\n") != strings.Join(mcf.Config.Env, "\n") {
			t.Errorf("%s: env %v, merged %v", c.tag, ccf.Config.Env, mcf.Config.Env)
		}
		for k, v := range mcf.Config.Labels {
			// The record of what changed and the seal cover the labels,
			// io.jbuild.layer among them.
			if k == buildplan.LabelLayer || k == buildplan.LabelAgentDigest && c.agentDir != "" ||
				k == buildplan.LabelRestore || k == buildplan.LabelConfigDigest {
				continue
			}
			if ccf.Config.Labels[k] != v {
				t.Errorf("%s: label %s = %q, merged %q", c.tag, k, ccf.Config.Labels[k], v)
			}
		}
		if l := ccf.Config.Labels[buildplan.LabelLayer]; l != "" {
			t.Errorf("%s: io.jbuild.layer = %s names the agent image's layer, which a copy does not carry", c.tag, l)
		}
		ml, _ := mimg.Layers()
		cl, _ := cimg.Layers()
		if len(cl) != len(ml) {
			t.Errorf("%s: %d layers, merged %d", c.tag, len(cl), len(ml))
		}
		sameFiles(t, c.tag, mimg, cimg, "/opt/jennifer")
	}
}

// sameFiles compares type, owner, mode, link and content of every path
// below root in the merged views of two images.
func sameFiles(t *testing.T, what string, a, b v1.Image, root string) {
	t.Helper()
	fa, fb := imagefs.New(a, "merged", []string{root + "/*", root + "/*/*", root + "/*/*/*"}), imagefs.New(b, what, []string{root + "/*", root + "/*/*", root + "/*/*/*"})
	var walk func(dir string)
	n := 0
	walk = func(dir string) {
		des, err := fa.ReadDir(dir)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		for _, de := range des {
			p := path.Join(dir, de.Name())
			n++
			sa, err := fa.Lookup(p)
			if err != nil {
				t.Fatal(err)
			}
			sb, err := fb.Lookup(p)
			if err != nil {
				t.Errorf("%s: %s missing: %v", what, p, err)
				continue
			}
			if sa != sb {
				t.Errorf("%s: %s is %+v, merged %+v", what, p, sb, sa)
			}
			if sa.Mode.IsRegular() {
				ca, _ := fa.ReadFile(p, -1)
				cb, _ := fb.ReadFile(p, -1)
				if string(ca) != string(cb) {
					t.Errorf("%s: %s content differs", what, p)
				}
			}
			if sa.Mode.IsDir() {
				walk(p)
			}
		}
	}
	if st, err := fa.Lookup(root); err != nil || !st.Mode.IsDir() {
		t.Fatalf("merged image has no %s: %v", root, err)
	}
	if sa, _ := fa.Lookup(root); true {
		if sb, err := fb.Lookup(root); err != nil || sb != sa {
			t.Errorf("%s: %s is %+v (%v), merged %+v", what, root, sb, err, sa)
		}
	}
	walk(root)
	if n < 3 {
		t.Errorf("only %d entries under %s", n, root)
	}
	if st, err := fb.Lookup(root + "/agent.java/logs"); err != nil || st.UID != 1000 {
		t.Errorf("%s: logs/ is %+v (%v), want it owned by the image's user 1000", what, st, err)
	}
}
