package frontend

import (
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
	if _, err := ParseSettings(map[string]string{buildArgPrefix + ArgServerAddress: "jennifer.example.com"}, "test"); err != nil {
		t.Fatal(err)
	}
}
