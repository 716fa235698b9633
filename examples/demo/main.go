package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
)

const (
	agentDir  = "examples/agents/jennifer-java-sample/agent.java"
	sourceTag = "app-1.0"
	targetTag = "app-1.0-jennifer"
	server    = "10.0.0.5"
)

func main() {
	jbuild := flag.String("jbuild", "bin/jbuild", "jbuild binary to run")
	dir := flag.String("dir", "_demo", "working directory for the OCI layout")
	flag.Parse()
	if err := run(*jbuild, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(jbuild, dir string) error {
	if _, err := os.Stat(jbuild); err != nil {
		return fmt.Errorf("%s not found: build it first with `make build` (or run `make demo`)", jbuild)
	}
	if _, err := os.Stat(agentDir); err != nil {
		return fmt.Errorf("sample agent bundle %s not found: run the demo from the repository root", agentDir)
	}
	layoutDir := filepath.Join(dir, "layout")
	// Start from an empty layout so every run shows the same thing.
	if err := os.RemoveAll(layoutDir); err != nil {
		return err
	}
	digest, err := sampleimage.Write(layoutDir, sourceTag)
	if err != nil {
		return err
	}
	src := "oci:" + layoutDir + ":" + sourceTag
	dst := "oci:" + layoutDir + ":" + targetTag
	fmt.Printf("==> sample Java app image written: %s (%s)\n\n", src, digest)

	common := []string{"--agent", agentDir, "--server-address", server}
	if err := step(jbuild, append([]string{"plan", src}, common...)...); err != nil {
		return err
	}
	if err := step(jbuild, append([]string{"wrap", src, "-t", dst}, common...)...); err != nil {
		return err
	}

	before, err := readImage(layoutDir, sourceTag)
	if err != nil {
		return err
	}
	after, err := readImage(layoutDir, targetTag)
	if err != nil {
		return fmt.Errorf("reading the wrapped image: %w", err)
	}
	fmt.Printf("==> %s -> %s\n", src, dst)
	return printDiff(os.Stdout, before, after)
}

// step prints and runs one jbuild command, its output going straight to ours.
func step(bin string, args ...string) error {
	fmt.Printf("==> %s %s\n", bin, quoteArgs(args))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	fmt.Println()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return fmt.Errorf("`jbuild %s` exited with %d", args[0], exit.ExitCode())
	}
	return err
}
