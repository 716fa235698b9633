package main

import (
	"os"
	"path/filepath"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// singleFileName is the name a local --agent file is installed under: the
// profile's agentFile, or, without --profile, that of the built-in
// single-file profile the file's name fits (opentelemetry-javaagent-2.33.1.jar:
// opentelemetry-java), so the jar is not taken for an archive to unpack.
// "" for anything else.
func singleFileName(spec string, prof *buildplan.Profile) (string, error) {
	if prof != nil {
		return prof.AgentFile, nil
	}
	if st, err := os.Stat(spec); err != nil || !st.Mode().IsRegular() {
		return "", nil
	}
	p, err := templates.ForAgentFile(filepath.Base(spec), "--profile")
	if err != nil || p == nil {
		return "", err
	}
	return p.AgentFile, nil
}
