package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// The OpenTelemetry agents the shipped profiles were checked with, fetched
// from their registries by their own clients (Maven, npm) once per machine
// into TestCacheDir(), as RealPythonAgent fetches jennifer-python with pip.

// OTelJavaVersion is the OpenTelemetry Java agent release
// templates/profiles/opentelemetry-java.yaml was checked against (2.33.1
// instruments the JDK's com.sun.net.httpserver, which the Java sample app
// serves with).
const OTelJavaVersion = "2.33.1"

// OTelNodeVersion is the @opentelemetry/auto-instrumentations-node release
// templates/profiles/opentelemetry-nodejs.yaml was checked against: the
// newest that runs on Debian bookworm's Node.js 18 (0.76 and later need
// Node.js 20).
const OTelNodeVersion = "0.75.0"

// OTelJavaAgent returns the path of opentelemetry-javaagent-<v>.jar as
// Maven Central serves it (the file a user passes as --agent), copied once
// with `mvn dependency:copy` into TestCacheDir()/maven.
func OTelJavaAgent() (string, error) {
	cache, err := testenv.TestCacheDir()
	if err != nil {
		return "", err
	}
	cache = filepath.Join(cache, "maven")
	jar := filepath.Join(cache, "opentelemetry-javaagent-"+OTelJavaVersion+".jar")
	if _, err := os.Stat(jar); err == nil {
		return jar, nil
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return "", fmt.Errorf("the OpenTelemetry Java agent is fetched with Maven: mvn not found; install it with `apt-get install maven`")
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cache, "copy-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	artifact := "io.opentelemetry.javaagent:opentelemetry-javaagent:" + OTelJavaVersion + ":jar"
	cmd := exec.Command("mvn", "-q", "-B", "dependency:copy", "-Dartifact="+artifact, "-DoutputDirectory="+tmp)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("mvn dependency:copy -Dartifact=%s: %w\n%s", artifact, err, tail(out, 4000))
	}
	// A rename within the cache: a parallel test binary sees the whole jar
	// or none.
	if err := os.Rename(filepath.Join(tmp, filepath.Base(jar)), jar); err != nil {
		return "", fmt.Errorf("mvn dependency:copy: %w", err)
	}
	return jar, nil
}

// OTelNodeAgent returns a folder holding node_modules/ with
// @opentelemetry/auto-instrumentations-node and its dependencies, as `npm
// install --prefix DIR` leaves it (the folder a user passes as --agent),
// installed once into TestCacheDir()/npm.
func OTelNodeAgent() (string, error) {
	cache, err := testenv.TestCacheDir()
	if err != nil {
		return "", err
	}
	cache = filepath.Join(cache, "npm")
	dir := filepath.Join(cache, "auto-instrumentations-node-"+OTelNodeVersion)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@opentelemetry", "auto-instrumentations-node", "package.json")); err == nil {
		return dir, nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", fmt.Errorf("the OpenTelemetry Node.js agent is installed with npm: npm not found; install it with `apt-get install npm`")
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cache, "install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	pkg := "@opentelemetry/auto-instrumentations-node@" + OTelNodeVersion
	cmd := exec.Command("npm", "install", "--prefix", tmp, "--no-save", "--omit=dev", "--no-audit", "--no-fund", pkg)
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install %s: %w\n%s", pkg, err, tail(out, 4000))
	}
	for _, f := range []string{"package.json", "package-lock.json"} {
		os.Remove(filepath.Join(tmp, f)) // the bundle is node_modules alone
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			return dir, nil // a parallel test binary installed it first
		}
		return "", fmt.Errorf("npm install %s: %w", pkg, err)
	}
	return dir, nil
}
