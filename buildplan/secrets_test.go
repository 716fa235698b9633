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
		// Credentials named by an option, whatever their value looks like.
		"-Dpassword=hunter2":                          true,
		"-Xmx1g -Dapi.token=abc123 -Dx=y":             true,
		"--db-password=s3cr3t":                        true,
		"-Djavax.net.ssl.trustStorePassword=changeit": true,
		// Locations, references to run-time values, switches: not secrets.
		"-Dkeystore.password.file=/run/secrets/ks":                  false,
		"-Djavax.net.ssl.trustStorePassword=${TRUST_PW}":            false,
		"-Dapi.token.enabled=true":                                  false,
		"-Djennifer.config=/srv/apm/jennifer17/conf/jennifer.conf":  false,
		"/srv/apm/jennifer17/jennifer/admin":                        false,
		"/srv/apm/jennifer17/logs":                                  false,
		"/app:/app/vendor:/srv/apm/jennifer17/jennifer/admin":       false,
		"/opt/secret-agent/token-service/password-vault/agent.java": false,
		"-javaagent:/srv/apm/x9Kq2mW7pL4vB8nR3tY6/jennifer.jar":     false,
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

// Both directions on the agent's config file, table-tested: credentials
// under lower-case keys (the bundle's own or written by jbuild) are
// warned about; locations, switches and references are not.
func TestConfigSecretWarnings(t *testing.T) {
	kv := &ConfigSpec{Path: "conf/jennifer.conf", Format: FormatKeyValue}
	ini := &ConfigSpec{Path: "conf/jennifer.ini", Format: FormatINI, Section: "JENNIFER"}
	for _, tt := range []struct {
		name    string
		c       *ConfigSpec
		content string
		written map[string]string
		want    []string // prefixes, in file order; nil: no warning
	}{
		{"bundle password", kv, "server_address = 10.0.0.5\ndb_password = hunter2\n", map[string]string{"server_address": "10.0.0.5"},
			[]string{"db_password in the agent config file conf/jennifer.conf (from the agent bundle's own file) looks like a secret"}},
		{"bundle license and token", kv, "license_key = ACME-1234\napi_token = t0k\n", nil,
			[]string{"license_key in the agent config file conf/jennifer.conf (from the agent bundle's own file)", "api_token in the agent config file conf/jennifer.conf (from the agent bundle's own file)"}},
		{"written by jbuild", kv, "license_key = ACME-1234\n", map[string]string{"license_key": "ACME-1234"},
			[]string{"license_key in the agent config file conf/jennifer.conf looks like a secret"}},
		{"bundle value replaced by jbuild", kv, "license_key = ACME-9\n", map[string]string{"license_key": "ACME-9"},
			[]string{"license_key in the agent config file conf/jennifer.conf looks like a secret"}},
		{"option in a value", kv, "jvm_options = -Dpassword=hunter2\n", nil,
			[]string{"jvm_options in the agent config file conf/jennifer.conf (from the agent bundle's own file) sets -Dpassword"}},
		{"token value", kv, "x = ghp_9f8A7b6C5d4E3f2A1b0C9d8E7f6A5b4C3d2E\n", nil,
			[]string{"x in the agent config file conf/jennifer.conf (from the agent bundle's own file) has a value that looks like a secret"}},
		{"ini, another section too", ini, "[JENNIFER]\nserver_address = a\n[other]\nsecret_key: k3y\n", nil,
			[]string{"secret_key in the agent config file conf/jennifer.ini (from the agent bundle's own file)"}},
		{"reported once", kv, "db_password = a\ndb_password = b\n", nil, []string{"db_password"}},
		{"not secrets", kv, `server_address = 10.0.0.5
installDir = /srv/apm/jennifer17
log_dir = /srv/apm/jennifer17/logs
password_masking = true
token_timeout = 30
keystore_password_file = /run/secrets/ks
db_password = ${DB_PASSWORD}
license_key =
# api_token = commented-out
inst_id = -1
`, map[string]string{"log_dir": "/srv/apm/jennifer17/logs"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := configSecretWarnings(tt.content, tt.c, tt.written)
			if len(got) != len(tt.want) {
				t.Fatalf("warnings:\n%s\nwant %d: %q", strings.Join(got, "\n"), len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) || !strings.Contains(got[i], "Kubernetes Secret") {
					t.Errorf("warning %d = %q, want prefix %q and the advice", i, got[i], w)
				}
			}
		})
	}
}

// Env in both directions: a credential passed as a Java system property is
// warned about, a path or a file name under a credential's name is not.
func TestSecretWarningsEnv(t *testing.T) {
	for _, tt := range []struct {
		name string
		c    EnvChange
		want string
	}{
		{"password property", EnvChange{Name: "JAVA_TOOL_OPTIONS", Op: EnvAppend, Value: "-Dpassword=hunter2", Before: "-Xmx1g", HadBefore: true, After: "-Xmx1g -Dpassword=hunter2"}, "env JAVA_TOOL_OPTIONS sets -Dpassword, which looks like a secret"},
		{"api token property", EnvChange{Name: "JAVA_TOOL_OPTIONS", Op: EnvAppend, Value: "-javaagent:/a.jar -Dapi.token=abc", After: "-javaagent:/a.jar -Dapi.token=abc"}, "env JAVA_TOOL_OPTIONS sets -Dapi.token"},
		{"install dir with digits", EnvChange{Name: "PYTHONPATH", Op: EnvAppend, Value: "/srv/apm/jennifer17/jennifer/admin", After: "/srv/apm/jennifer17/jennifer/admin"}, ""},
		{"log dir", EnvChange{Name: "JENNIFER_LOG_DIR", Op: EnvDefault, Value: "/srv/apm/jennifer17/logs", After: "/srv/apm/jennifer17/logs"}, ""},
		{"password file", EnvChange{Name: "DB_PASSWORD_FILE", Op: EnvSet, Value: "/run/secrets/db", After: "/run/secrets/db"}, ""},
		{"password reference", EnvChange{Name: "ACME_PASSWORD", Op: EnvSet, Value: "${ACME_PASSWORD}", After: "${ACME_PASSWORD}"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := secretWarnings([]EnvChange{tt.c}, nil, "")
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("unexpected warning %q", got)
			case tt.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0], tt.want)):
				t.Errorf("warnings %q, want one starting %q", got, tt.want)
			}
		})
	}
}
