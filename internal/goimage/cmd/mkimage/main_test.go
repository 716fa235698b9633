package main

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestRunErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no image":      {"-ref", "127.0.0.1:1/x:1"},
		"unknown image": {"-image", "nope", "-ref", "127.0.0.1:1/x:1"},
		"no ref":        {"-image", "frontend"},
		"bad ref":       {"-image", "frontend", "-ref", "UPPER/x:1"},
		"bad platform":  {"-image", "frontend", "-ref", "127.0.0.1:1/x:1", "-platform", "linux/amd64/v1/x"},
		"bad flag":      {"-nope"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestRunPushes runs the command as make frontend-image (in memory) and make
// jbuild-image (on BuildKit) do, against the loopback registry: it prints
// REF@DIGEST of the index the registry holds.
func TestRunPushes(t *testing.T) {
	reg := testenv.RealRegistry(t)
	addr := testenv.Buildkitd(t)
	t.Chdir(testenv.RepoRoot())
	for name, args := range map[string][]string{
		"frontend": {"-image", "frontend", "-package", "./internal/goimage/testdata/echofrontend", "-ref", reg + "/mk/frontend:1"},
		"jbuild":   {"-image", "jbuild", "-addr", addr, "-insecure", "-ref", reg + "/mk/jbuild:1"},
	} {
		t.Run(name, func(t *testing.T) {
			ref := args[len(args)-1]
			var out, log bytes.Buffer
			if err := run(context.Background(), append(args, "-platform", "linux/"+runtime.GOARCH, "-version", "mk-1"), &out, &log); err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			d, err := testenv.Index(t, ref).Digest()
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(out.String()); got != ref+"@"+d.String() {
				t.Errorf("printed %q, want %s@%s", got, ref, d)
			}
		})
	}
}
