package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// dockerConfig writes a Docker config.json into a folder of its own and
// returns the DOCKER_CONFIG setting for it.
func dockerConfig(t *testing.T, json string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
	return "DOCKER_CONFIG=" + dir
}

// credentialHelper installs docker-credential-NAME, a credential helper
// that answers `get` with user and password and records each call in the
// returned log file. It returns the PATH setting that finds it.
func credentialHelper(t *testing.T, helper, user, password string) (pathEnv, callLog string) {
	t.Helper()
	dir := t.TempDir()
	callLog = filepath.Join(dir, "calls.log")
	script := fmt.Sprintf(`#!/bin/sh
[ "$1" = get ] || exit 1
read server
echo "$server" >> %q
printf '{"ServerURL":"%%s","Username":%q,"Secret":%q}' "$server"
`, callLog, user, password)
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-"+helper), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return "PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), callLog
}

// randomCredentials are a user and a password of the test's own.
func randomCredentials() (user, password string) {
	secret := make([]byte, 8)
	rand.Read(secret)
	return "jbuild", "pw-" + hex.EncodeToString(secret)
}

// pushSampleApp pushes the sample Java app image to ref.
func pushSampleApp(t *testing.T, ref string, opt remote.Option) {
	t.Helper()
	img, err := sampleimage.JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img, opt); err != nil {
		t.Fatalf("pushing the base to %s: %v", ref, err)
	}
}

// wantAgentFlag checks that the image at ref starts the Java agent.
func wantAgentFlag(t *testing.T, ref string, opt remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, opt)
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(cf.Config.Env, " "), "-javaagent:/opt/jennifer/agent.java/jennifer.jar") {
		t.Errorf("%s: env %v; want the agent flag", ref, cf.Config.Env)
	}
}

// Registry credentials come from the Docker config, as `docker login`
// writes them, or from the credential helper it names; without them the
// wrap fails with what to do, and writes nothing.
func TestRegistryCredentials(t *testing.T) {
	user, password := randomCredentials()
	reg := testenv.AuthRegistry(t, user, password)
	auth := remote.WithAuth(&authn.Basic{Username: user, Password: password})
	pushSampleApp(t, reg+"/auth/app:1", auth)
	exists := func(ref string) bool {
		t.Helper()
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		_, err = remote.Head(r, auth)
		return err == nil
	}
	wrapArgs := func(agent, target string) []string {
		return []string{"wrap", reg + "/auth/app:1", "--agent", agent, "--server-address", "10.0.0.1", "-t", target, "-q"}
	}

	// No credentials: exit 1, the hint says how to log in, no target.
	r := jbuildEnv(t, []string{dockerConfig(t, `{}`)}, wrapArgs(sampleAgentDir(t), reg+"/auth/app:anonymous")...)
	if r.code != 1 || !strings.Contains(r.stderr, "docker login "+reg) {
		t.Errorf("without credentials: exit %d, stderr %q; want exit 1 and the `docker login %s` hint", r.code, r.stderr, reg)
	}
	if strings.Contains(r.stderr, password) {
		t.Errorf("stderr shows the password: %q", r.stderr)
	}
	if exists(reg + "/auth/app:anonymous") {
		t.Error("a wrap without credentials wrote its target")
	}

	// auths, as `docker login` writes them: the agent image and the wrap.
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	logins := dockerConfig(t, fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg, basic))
	if r := jbuildEnv(t, []string{logins}, "agent", "push", sampleAgentDir(t), reg+"/auth/jennifer-agent:java"); r.code != 0 {
		t.Fatalf("agent push with config.json credentials: exit %d: %s", r.code, r.stderr)
	}
	r = jbuildEnv(t, []string{logins}, wrapArgs(reg+"/auth/jennifer-agent:java", reg+"/auth/app:1-jennifer")...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, reg+"/auth/app:1-jennifer@sha256:") {
		t.Fatalf("wrap with config.json credentials: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}

	// A credential helper named for the registry (credHelpers).
	pathEnv, calls := credentialHelper(t, "jbtest", user, password)
	helped := dockerConfig(t, fmt.Sprintf(`{"credHelpers":{%q:"jbtest"}}`, reg))
	r = jbuildEnv(t, []string{helped, pathEnv}, wrapArgs(sampleAgentDir(t), reg+"/auth/app:helper")...)
	if r.code != 0 {
		t.Fatalf("wrap with a credential helper: exit %d: %s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(calls); err != nil || !strings.Contains(string(b), reg) {
		t.Errorf("credential helper calls: %q, %v; want a get for %s", b, err, reg)
	}
	for _, tag := range []string{"1-jennifer", "helper"} {
		wantAgentFlag(t, reg+"/auth/app:"+tag, auth)
	}
}

// Token auth, as Docker Hub, GHCR, ECR and GCR do it: the wrap, and a
// second wrap into another repository that mounts the agent layer from the
// first (which needs a pull grant on the first repository in its token).
func TestRegistryTokenAuth(t *testing.T) {
	user, password := randomCredentials()
	reg, tokens := testenv.TokenRegistry(t, user, password)
	auth := remote.WithAuth(&authn.Basic{Username: user, Password: password})
	for _, repo := range []string{"tok/app", "tok/other"} {
		pushSampleApp(t, reg+"/"+repo+":1", auth)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	logins := dockerConfig(t, fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg, basic))
	cache := "XDG_CACHE_HOME=" + t.TempDir() // shared: the second wrap finds the layer's record
	wrapInto := func(repo string, env ...string) run {
		return jbuildEnv(t, env, "wrap", reg+"/"+repo+":1", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.1", "-q")
	}

	before := len(tokens.Scopes())
	r := wrapInto("tok/app", logins, cache)
	if r.code != 0 || !strings.HasPrefix(r.stdout, reg+"/tok/app:1-jennifer@sha256:") {
		t.Fatalf("wrap with a token: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	// One token each for reading the source and the target and one for
	// pushing: the default target is decided from the same read of the
	// source the wrap then uses.
	if asked := tokens.Scopes()[before:]; len(asked) > 3 {
		t.Errorf("the wrap asked for %d tokens %v; want at most 3 (source, target, push)", len(asked), asked)
	}

	before = len(tokens.Scopes())
	r = wrapInto("tok/other", logins, cache)
	if r.code != 0 {
		t.Fatalf("second wrap: exit %d: %s", r.code, r.stderr)
	}
	mountScope := false
	for _, s := range tokens.Scopes()[before:] {
		mountScope = mountScope || s == "repository:tok/app:pull"
	}
	if !mountScope {
		t.Errorf("second wrap asked for %v; want a pull grant on tok/app (the agent layer mounted from there)", tokens.Scopes()[before:])
	}
	a, _ := name.ParseReference(reg + "/tok/app:1-jennifer")
	b, _ := name.ParseReference(reg + "/tok/other:1-jennifer")
	ia, err := remote.Image(a, auth)
	if err != nil {
		t.Fatal(err)
	}
	ib, err := remote.Image(b, auth)
	if err != nil {
		t.Fatal(err)
	}
	la, _ := ia.Layers()
	lb, _ := ib.Layers()
	da, _ := la[len(la)-2].Digest()
	db, _ := lb[len(lb)-2].Digest()
	if da != db {
		t.Errorf("agent layers differ between the repositories: %s vs %s", da, db)
	}
	if _, err := lb[len(lb)-2].Compressed(); err != nil {
		t.Errorf("agent layer in tok/other: %v", err)
	}

	// A wrong password: the token server refuses, the hint says what to do.
	wrong := dockerConfig(t, fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg, base64.StdEncoding.EncodeToString([]byte(user+":not-it"))))
	r = jbuildEnv(t, []string{wrong}, "wrap", reg+"/tok/app:1", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.1", "-t", reg+"/tok/app:wrong")
	if r.code != 1 || !strings.Contains(r.stderr, "docker login "+reg) {
		t.Errorf("wrong password: exit %d, stderr %q; want exit 1 and the docker login hint", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "not-it") {
		t.Errorf("stderr shows the password: %q", r.stderr)
	}
}

// A registry with a certificate from a private CA is trusted the way
// Docker trusts it: the CA in certs.d/HOST:PORT/ca.crt, and for a registry
// that asks for a client certificate (mutual TLS) NAME.cert and NAME.key
// next to it. Without them the wrap fails saying where the CA goes.
func TestRegistryPrivateCA(t *testing.T) {
	for _, mutual := range []bool{false, true} {
		t.Run(fmt.Sprintf("client certificate required %v", mutual), func(t *testing.T) {
			reg := testenv.TLSRegistry(t, mutual)
			trusting := remote.WithTransport(&http.Transport{TLSClientConfig: reg.Config})
			pushSampleApp(t, reg.Addr+"/tls/app:1", trusting)
			wrapArgs := []string{"wrap", reg.Addr + "/tls/app:1", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.1", "-q"}

			untrusted := "XDG_CONFIG_HOME=" + t.TempDir() // no certs.d
			r := jbuildEnv(t, []string{untrusted}, wrapArgs...)
			if r.code != 1 || !strings.Contains(r.stderr, "certs.d/"+reg.Addr+"/ca.crt") {
				t.Errorf("untrusted CA: exit %d, stderr %q; want exit 1 saying where the CA goes", r.code, r.stderr)
			}

			config := t.TempDir()
			dir := filepath.Join(config, "docker", "certs.d", reg.Addr)
			files := map[string][]byte{"ca.crt": reg.CAPEM}
			if mutual {
				// Without the client certificate the registry hangs up.
				writeFiles(t, dir, files)
				if r := jbuildEnv(t, []string{"XDG_CONFIG_HOME=" + config}, wrapArgs...); r.code != 1 {
					t.Errorf("mutual TLS without a client certificate: exit %d; want 1", r.code)
				}
				files = map[string][]byte{"client.cert": reg.Client.CertPEM, "client.key": reg.Client.KeyPEM}
			}
			writeFiles(t, dir, files)
			r = jbuildEnv(t, []string{"XDG_CONFIG_HOME=" + config}, wrapArgs...)
			if r.code != 0 || !strings.HasPrefix(r.stdout, reg.Addr+"/tls/app:1-jennifer@sha256:") {
				t.Fatalf("CA in certs.d: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
			}
			wantAgentFlag(t, reg.Addr+"/tls/app:1-jennifer", trusting)
		})
	}
}

func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for n, data := range files {
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
