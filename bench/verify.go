package main

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// verify checks that out is src plus added layers (crane adds one; jbuild
// adds the agent layer and its small settings layer), with -javaagent in
// JAVA_TOOL_OPTIONS and the base's -Xmx256m kept: both tools must have done
// the whole job for their times to compare.
func verify(src, out string, added int) error {
	srcLayers, _, err := inspect(src)
	if err != nil {
		return err
	}
	outLayers, opts, err := inspect(out)
	if err != nil {
		return err
	}
	if outLayers != srcLayers+added {
		return fmt.Errorf("%s has %d layers, want %d (%s plus %d)", out, outLayers, srcLayers+added, src, added)
	}
	if !strings.Contains(opts, "-javaagent:") || !strings.Contains(opts, "-Xmx256m") {
		return fmt.Errorf("%s: JAVA_TOOL_OPTIONS=%q, want the base's -Xmx256m and a -javaagent flag", out, opts)
	}
	return nil
}

func inspect(ref string) (layers int, javaToolOptions string, err error) {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return 0, "", err
	}
	img, err := remote.Image(r)
	if err != nil {
		return 0, "", fmt.Errorf("reading %s: %w", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return 0, "", fmt.Errorf("reading %s config: %w", ref, err)
	}
	for _, kv := range cf.Config.Env {
		if v, ok := strings.CutPrefix(kv, "JAVA_TOOL_OPTIONS="); ok {
			javaToolOptions = v
		}
	}
	return len(cf.RootFS.DiffIDs), javaToolOptions, nil
}
