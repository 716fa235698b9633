package buildplan

import (
	"strings"
	"testing"
)

const minimalProfile = `
name: test-agent
agent: TEST
runtime: java
installDir: /opt/test
`

func TestParseProfileMinimal(t *testing.T) {
	p, err := ParseProfile([]byte(minimalProfile), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "test-agent" || p.Runtime != RuntimeJava || p.InstallDir != "/opt/test" || p.Source != "test.yaml" {
		t.Errorf("got %+v", p)
	}
}

func TestParseProfileErrors(t *testing.T) {
	tests := []struct {
		name, extra, want string
	}{
		{"unknown field", "colour: red\n", `unknown field "colour"`},
		{"unknown variable", "env:\n  - name: X\n    value: ${NOPE}\n", "profile p.yaml: env[0].value: unknown variable ${NOPE}"},
		{"param used", "params: {entry: /x}\nenv:\n  - name: X\n    value: ${entry}\n", ""},
		{"param shadows builtin", "params: {ARCH: x}\n", "params.ARCH: shadows the built-in"},
		{"bad op", "env:\n  - name: X\n    op: add\n    value: v\n", `env[0].op: "add" is not set, default, append or prepend`},
		{"append without separator", "env:\n  - name: X\n    op: append\n    value: v\n", "env[0].separator: required for append"},
		{"malformed reference", "env:\n  - name: X\n    value: ${INSTALL_DIR\n", "malformed ${...}"},
		{"ini without section", "config: {path: a.ini, format: ini}\n", "config.section: required for format ini"},
		{"absolute config path", "config: {path: /etc/a.conf, format: keyvalue}\n", `config.path: "/etc/a.conf" must be a clean path relative`},
		{"escaping writable dir", "writableDirs: [../logs]\n", "writableDirs[0]"},
		{"bad libc", "libc: [bionic]\n", `libc[0]: "bionic" is not glibc or musl`},
		{"arch alias", "arch: [x86_64]\n", `arch[0]: "x86_64" is not an OCI architecture name`},
		{"bad mode", "files: [{path: a, content: b, mode: '999'}]\n", "files[0].mode"},
		{"version regex without group", "versionFrom: {fileName: 'a.jar'}\n", "needs a capture group"},
		{"duplicate key", "name: other\n", "already set"},
		{"downward env", "downwardEnv: [{name: POD_NAME, fieldPath: metadata.name}, {name: L, fieldPath: \"metadata.labels['app']\"}]\n", ""},
		{"downward env bad field", "downwardEnv: [{name: POD_NAME, fieldPath: metadata.generateName}]\n", `downwardEnv[0].fieldPath: "metadata.generateName" is not a pod field`},
		{"downward env shadows env", "env: [{name: X, value: v}]\ndownwardEnv: [{name: X, fieldPath: metadata.name}]\n", "downwardEnv[0].name: X is set by env"},
		{"downward env warned prefix", "warnEnvPrefixes: [JENNIFER_]\ndownwardEnv: [{name: JENNIFER_POD, fieldPath: metadata.name}]\n", "starts with JENNIFER_"},
		{"downward env twice", "downwardEnv: [{name: P, fieldPath: metadata.name}, {name: P, fieldPath: metadata.uid}]\n", "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProfile([]byte(minimalProfile+tt.extra), "p.yaml")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "E": ""}
	for in, want := range map[string]string{
		"${A}/x":       "1/x",
		"${E:-5000}":   "5000",
		"${A:-5000}":   "1",
		"$HOME ${A}":   "$HOME 1",
		"plain":        "plain",
		"${E}${A}${E}": "1",
	} {
		got, err := expand(in, vars)
		if err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := expand("${B}", vars); err == nil {
		t.Error("unknown variable accepted")
	}
}
