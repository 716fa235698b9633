package buildplan

import (
	"strings"
	"testing"
)

func TestRunCheckSchema(t *testing.T) {
	tests := []struct {
		name, extra, want string
	}{
		{"otlp", "runCheck:\n  kind: otlp-http\n  env: {OTEL_EXPORTER_OTLP_ENDPOINT: 'http://${SERVER_ADDRESS}:${SERVER_PORT}', OTEL_METRIC_EXPORT_INTERVAL: '500'}\n  paths: [/v1/traces]\n", ""},
		{"http", "runCheck: {kind: http, env: {EP: 'http://127.0.0.1:${SERVER_PORT}/x'}}\n", ""},
		{"tcp derived", "runCheck: {kind: tcp}\n", ""},
		{"config", "config: {path: a.conf, format: keyvalue}\nrunCheck: {config: {port: '${SERVER_PORT}'}}\n", ""},
		{"bad kind", "runCheck: {kind: grpc}\n", `runCheck.kind: "grpc" is not one of tcp, otlp-http, http`},
		{"unknown var", "params: {endpoint: x}\nrunCheck: {env: {E: '${endpoint}:${SERVER_PORT}'}}\n", "runCheck.env.E: unknown variable ${endpoint}: a run check value may use SERVER_ADDRESS, SERVER_PORT, INSTALL_DIR"},
		{"no port", "runCheck: {kind: http, env: {E: 'http://${SERVER_ADDRESS}'}}\n", "runCheck: no env or config value takes ${SERVER_PORT}"},
		{"config without file", "runCheck: {config: {port: '${SERVER_PORT}'}}\n", "runCheck.config: the profile has no config file"},
		{"bad env name", "runCheck: {env: {'A-B': '${SERVER_PORT}'}}\n", `runCheck.env.A-B: "A-B" is not a valid variable name`},
		{"paths without otlp", "runCheck: {kind: http, paths: [/v1/traces]}\n", "runCheck.paths: only applies to kind otlp-http"},
		{"relative path", "runCheck: {kind: otlp-http, paths: [v1/traces]}\n", `runCheck.paths[0]: "v1/traces" is not a URL path`},
		{"unknown field", "runCheck: {endpoint: x}\n", `unknown field "endpoint"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(minimalProfile+tt.extra), "p.yaml")
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.RunCheck == nil {
					t.Fatal("runCheck not read")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "profile p.yaml") {
				t.Errorf("error %v does not name the profile", err)
			}
		})
	}
}

func TestRunCheckDefaults(t *testing.T) {
	p, err := ParseProfile([]byte(minimalProfile), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if k := p.CheckKind(); k != RunCheckTCP {
		t.Errorf("kind %q without runCheck, want tcp", k)
	}
	if got := p.RunCheck.OTLPPaths(); strings.Join(got, ",") != "/v1/traces,/v1/metrics,/v1/logs" {
		t.Errorf("default paths %v", got)
	}
	v, err := ExpandRunCheck("http://${SERVER_ADDRESS}:${SERVER_PORT}${INSTALL_DIR:-}", "/opt/x", "127.0.0.1", 21000)
	if err != nil || v != "http://127.0.0.1:21000/opt/x" {
		t.Errorf("ExpandRunCheck: %q, %v", v, err)
	}
}
