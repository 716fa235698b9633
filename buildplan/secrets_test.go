package buildplan

import (
	"strings"
	"testing"
)

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"ACME_LICENSE_KEY": true, "license_key": true, "GITHUB_TOKEN": true, "DB_PASSWORD": true,
		"CLIENT_SECRET": true, "API_KEY": true, "ARIES_KEY": true, "AWS_SECRET_ACCESS_KEY": true, "jennifer.apikey": true,
		"KEYSTORE_PATH": false, "SSL_KEY_FILE": false, "KEY_DIR": false, "ACME_KEYSTORE_PATH": false,
		"JAVA_TOOL_OPTIONS": false, "CORECLR_PROFILER": false, "PATH": false, "server_address": false, "inst_id": false,
		"ARIES_DOMAIN_ID": false, "NODE_OPTIONS": false,
	} {
		if got := secretName(name); got != want {
			t.Errorf("secretName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSecretInValue(t *testing.T) {
	for v, want := range map[string]bool{
		"ghp_9f8A7b6C5d4E3f2A1b0C9d8E7f6A5b4C3d2E":                                    true,
		"-javaagent:/opt/a/acme.jar -Dacme.auth=ghp_9f8A7b6C5d4E3f2A1b0C9d8E7f6A5b4C": true,
		"AKIAIOSFODNN7EXAMPLE1":                                                       true,
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N":     true,
		"--key=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==":                                      true,
		"9b2f1c7e4a6d8f0b3c5e7a9d1f3b5c7e9a1d3f5b":                                    true,  // 40 hex
		"{6C7CAF0F-D0E5-4274-A71B-6551761BBDC8}":                                      false, // the .NET profiler GUID
		"6c7caf0f-d0e5-4274-a71b-6551761bbdc8":                                        false,
		"/opt/jennifer/agent.dotnet/bin/libAriesProfiler.so":                          false,
		"-javaagent:/opt/jennifer/agent.java/jennifer.jar -Djennifer.config=/opt/jennifer/agent.java/conf/jennifer.conf": false,
		"http://otel-collector:4318":                         false,
		"org.springframework.boot.loader.launch.JarLauncher": false,
		"jennifer.agent.java-5.6.4.2.jar":                    false,
		"10.0.0.5":                                           false,
		"1000":                                               false,
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA11":                   false, // no entropy
		"net_razor31_sample_production":                      false,
		":/opt/jennifer/agent.php/php.d":                     false,
		"--require /opt/apm/entry.js":                        false,
	} {
		if got := secretInValue(v); got != want {
			t.Errorf("secretInValue(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestSecretWarnings(t *testing.T) {
	env := []EnvChange{
		{Name: "ACME_LICENSE_KEY", Op: EnvSet, Value: "x", After: "x"},
		{Name: "JAVA_TOOL_OPTIONS", Op: EnvAppend, Value: "-Dt=ghp_9f8A7b6C5d4E3f2A1b0C9d8E7f6A5b4C", Before: "-Xmx1g", HadBefore: true, After: "-Xmx1g -Dt=ghp_9f8A7b6C5d4E3f2A1b0C9d8E7f6A5b4C"},
		// The image's own secret is not jbuild's doing: nothing written.
		{Name: "DB_PASSWORD", Op: EnvDefault, Value: "p", Before: "q", HadBefore: true, After: "q"},
		// Nor a token already in the image's value that jbuild appends to.
		{Name: "OPTS", Op: EnvAppend, Value: "-v", Before: "-k=ghp_9f8A7b6C5d4E3f2A1b0C9d8E7f6A5b4C", HadBefore: true, After: "-k=ghp_9f8A7b6C5d4E3f2A1b0C9d8E7f6A5b4C -v"},
		{Name: "CORECLR_PROFILER", Op: EnvSet, Value: "{6C7CAF0F-D0E5-4274-A71B-6551761BBDC8}", After: "{6C7CAF0F-D0E5-4274-A71B-6551761BBDC8}"},
	}
	got := secretWarnings(env, map[string]string{"license_key": "L", "server_address": "10.0.0.5"}, "conf/a.conf")
	want := []string{"env ACME_LICENSE_KEY looks like a secret", "env JAVA_TOOL_OPTIONS has a value that looks like a secret", "license_key in the agent config file conf/a.conf"}
	if len(got) != len(want) {
		t.Fatalf("warnings:\n%s\nwant %d", strings.Join(got, "\n"), len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) || !strings.Contains(got[i], "Kubernetes Secret") {
			t.Errorf("warning %d = %q, want prefix %q and the advice", i, got[i], w)
		}
	}
	if !strings.HasSuffix(got[0], SecretAdvice) {
		t.Errorf("env warning %q does not end with the advice", got[0])
	}
}
