package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Server settings that the agent cannot use are a wrong command line: exit
// code 2, the flag named, before any image or agent is read.
func TestServerFlagsRefused(t *testing.T) {
	src := "oci:" + sampleLayout(t) + ":app-1.0"
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--server-address", "a b c"}, `--server-address "a b c": not a host name or IP address`},
		{[]string{"--server-address", "10.0.0.5 # comment"}, `--server-address "10.0.0.5 # comment"`},
		{[]string{"--server-address", "$(hostname)"}, `--server-address "$(hostname)"`},
		{[]string{"--server-address", "a=b"}, `--server-address "a=b"`},
		{[]string{"--server-address", "10.0.0.5:5000"}, "give the host only"},
		{[]string{"--server-address", "10.0.0.5", "--server-port", "0x10"}, `invalid argument "0x10" for "--server-port" flag: want a decimal whole number from 1 to 65535`},
		{[]string{"--server-address", "10.0.0.5", "--server-port", "65536"}, `"--server-port" flag: want a decimal whole number from 1 to 65535`},
		{[]string{"--server-address", "10.0.0.5", "--domain-id", "2147483648"}, "--domain-id 2147483648: the JENNIFER agent takes domain ids from 1 to 32767"},
		{[]string{"--server-address", "10.0.0.5", "--domain-id", "32768"}, "--domain-id 32768: the JENNIFER agent takes domain ids from 1 to 32767"},
		{[]string{"--server-address", "10.0.0.5", "--domain-id", "0"}, "--domain-id 0: the JENNIFER agent takes domain ids from 1 to 32767"},
		{[]string{"--server-address", "10.0.0.5", "--domain-id", "0x10"}, `invalid argument "0x10" for "--domain-id" flag`},
		{[]string{"--server-address", "10.0.0.5", "--profile", "jennifer-python", "--server-port", "40000"}, "--server-port 40000: the JENNIFER agent cannot use ports above 32767"},
	} {
		r := jbuild(t, append([]string{"plan", src, "--agent", sampleAgentDir(t)}, tt.flags...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("jbuild plan %q: exit %d, stderr %q; want exit 2 and %q", tt.flags, r.code, r.stderr, tt.want)
		}
	}
}

// What the agent can use goes through, read as decimal (the settings label
// records what the agent config file gets).
func TestServerFlagsAccepted(t *testing.T) {
	src := "oci:" + sampleLayout(t) + ":app-1.0"
	for _, tt := range []struct {
		flags []string
		want  []string
	}{
		{[]string{"--server-address", "fd00::5"}, []string{`\"serverAddress\":\"fd00::5\"`}},
		{[]string{"--server-address", "jennifer.example.com", "--server-port", "010", "--domain-id", "32767"}, []string{`\"serverPort\":10,`, `\"domainId\":32767`}},
	} {
		r := jbuild(t, append([]string{"plan", src, "--agent", sampleAgentDir(t), "-o", "json"}, tt.flags...)...)
		if r.code != 0 {
			t.Errorf("jbuild plan %q: exit %d: %s", tt.flags, r.code, r.stderr)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("jbuild plan %q: the plan has no %q:\n%s", tt.flags, w, r.stdout)
			}
		}
	}
}

// A --param the profile does not declare is a wrong command line too (it
// exited 1, like a failed wrap), with the declared ones listed.
func TestUnknownParamExit2(t *testing.T) {
	src := "oci:" + sampleLayout(t) + ":app-1.0"
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--profile", "jennifer-java", "--param", "entry=/a.js"}, "--param entry: profile jennifer-java has no such parameter (it declares: none)"},
		{[]string{"--profile", "jennifer-nodejs", "--param", "entyr=/a.js"}, "--param entyr: profile jennifer-nodejs has no such parameter (it declares: entry)"},
		{[]string{"--param", "nosuch=1"}, "--param nosuch: no built-in profile has such a parameter (they declare: entry (jennifer-nodejs)"},
	} {
		r := jbuild(t, append([]string{"plan", src, "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5"}, tt.flags...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("jbuild plan %q: exit %d, stderr %q; want exit 2 and %q", tt.flags, r.code, r.stderr, tt.want)
		}
	}
}

// JENNIFER's server flags with a profile that does not use them (the
// OpenTelemetry example) are refused, not dropped: exit 2, naming the
// flag and the profile's own parameters.
func TestServerFlagsRefusedForOtherAgents(t *testing.T) {
	src := "oci:" + sampleLayout(t) + ":app-1.0"
	agentDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(agentDir, "opentelemetry-javaagent.jar"), []byte("jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join("..", "..", "templates", "profiles", "examples", "opentelemetry-java.yaml")
	base := []string{"plan", src, "--profile", prof, "--agent", agentDir}
	if r := jbuild(t, append(base, "--param", "endpoint=http://127.0.0.1:4318")...); r.code != 0 {
		t.Fatalf("the profile's own parameters: exit %d: %s", r.code, r.stderr)
	}
	for _, flags := range [][]string{{"--server-address", "10.1.2.3"}, {"--domain-id", "7"}, {"--server-port", "7000"}} {
		r := jbuild(t, append(base, flags...)...)
		for _, want := range []string{flags[0] + ": profile opentelemetry-java does not use it", "--param endpoint", "--param serviceName"} {
			if r.code != 2 || !strings.Contains(r.stderr, want) {
				t.Errorf("jbuild plan %q: exit %d, stderr %q; want exit 2 and %q", flags, r.code, r.stderr, want)
			}
		}
	}
}
