package frontend

import (
	"maps"
	"strings"
	"testing"
)

// Build args that would break the image config or the agent config file are
// refused naming the build arg; buildplan.Make checks the same again.
func TestParseSettingsBadValues(t *testing.T) {
	for _, tt := range []struct {
		name string
		args map[string]string
		want string
	}{
		{"newline in server address", map[string]string{ArgServerAddress: "10.0.0.5\nx = y"}, "build-arg " + ArgServerAddress},
		{"escape in server address", map[string]string{ArgServerAddress: "a\x1bb"}, "build-arg " + ArgServerAddress + ": value has control character U+001B"},
		{"over-long server address", map[string]string{ArgServerAddress: strings.Repeat("a", 70000)}, "longer than the 65536 allowed"},
		{"NUL in agent", map[string]string{ArgAgent: "reg/agent\x00:1"}, "build-arg " + ArgAgent + ": value has a NUL byte"},
		{"port out of range", map[string]string{ArgServerPort: "70000"}, "build-arg " + ArgServerPort},
		{"hex port", map[string]string{ArgServerPort: "0x10"}, "build-arg " + ArgServerPort},
		{"spaces in server address", map[string]string{ArgServerAddress: "a b c"}, "build-arg " + ArgServerAddress + ` "a b c": not a host name or IP address`},
		{"comment after server address", map[string]string{ArgServerAddress: "10.0.0.5 # comment"}, "build-arg " + ArgServerAddress + ` "10.0.0.5 # comment": not a host name`},
		{"command substitution", map[string]string{ArgServerAddress: "$(hostname)"}, "build-arg " + ArgServerAddress},
		{"key=value", map[string]string{ArgServerAddress: "a=b"}, "build-arg " + ArgServerAddress},
		{"domain id 0", map[string]string{ArgDomainID: "0"}, "build-arg " + ArgDomainID},
		{"domain id past int32", map[string]string{ArgDomainID: "2147483648"}, "build-arg " + ArgDomainID},
		{"newline in runtime version", map[string]string{ArgRuntimeVer: "8.2\nx"}, "build-arg JENNIFER_RUNTIME_VERSION: value has a newline"},
		{"newline in a parameter", map[string]string{"JENNIFER_PARAM_serviceName": "a\nb"}, "build-arg JENNIFER_PARAM_serviceName: value has a newline"},
		{"parameter without a name", map[string]string{"JENNIFER_PARAM_": "x"}, "build-arg JENNIFER_PARAM_: name the profile parameter: --build-arg JENNIFER_PARAM_NAME=VALUE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := map[string]string{}
			for k, v := range tt.args {
				opts[buildArgPrefix+k] = v
			}
			_, err := ParseSettings(opts, "test")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	for _, addr := range []string{"jennifer.example.com", "10.0.0.5", "fd00::5", "apm-1"} {
		if _, err := ParseSettings(map[string]string{buildArgPrefix + ArgServerAddress: addr}, "test"); err != nil {
			t.Fatal(err)
		}
	}
}

// JENNIFER_RUNTIME_VERSION and JENNIFER_PARAM_<NAME> are --runtime-version
// and --param NAME=VALUE: the plan takes them, and the profile's own
// check of a parameter's name speaks of the build arg.
func TestParseSettingsParamsAndRuntimeVersion(t *testing.T) {
	s, err := ParseSettings(map[string]string{
		buildArgPrefix + ArgRuntimeVer:                "8.2",
		buildArgPrefix + "JENNIFER_PARAM_serviceName": " orders ",
		buildArgPrefix + "JENNIFER_PARAM_endpoint":    "http://otel-collector.observability:4318",
		"build-arg:OTHER":                             "x",
	}, "test")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"serviceName": "orders", "endpoint": "http://otel-collector.observability:4318"}
	if s.Plan.RuntimeVersion != "8.2" || !maps.Equal(s.Plan.Params, want) {
		t.Fatalf("runtime version %q, params %v; want 8.2 and %v", s.Plan.RuntimeVersion, s.Plan.Params, want)
	}
}
