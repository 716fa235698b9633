package buildplan

import (
	"errors"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestCheckValue(t *testing.T) {
	for _, tt := range []struct {
		name, v, want string
	}{
		{"plain", "10.0.0.5", ""},
		{"tab and spaces", "-Xmx1g\t-Da=b c", ""},
		{"unicode", "서버-1", ""},
		{"exactly the limit", strings.Repeat("a", MaxValueLen), ""},
		{"newline", "10.0.0.5\nlicense_key = stolen", "a newline at byte 8"},
		{"carriage return", "a\rb", "a carriage return at byte 1"},
		{"NUL", "a\x00b", "a NUL byte at byte 1"},
		{"escape", "a\x1b[31m", "control character U+001B"},
		{"DEL", "a\x7f", "control character U+007F"},
		{"C1 control", "a\u0085", "control character U+0085"},
		{"invalid UTF-8", "a\xffb", "not valid UTF-8"},
		{"over-long", strings.Repeat("a", MaxValueLen+1), "longer than the 65536 allowed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckValue("--server-address", tt.v)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "--server-address: ") {
				t.Fatalf("error %v, want one naming --server-address and saying %q", err, tt.want)
			}
		})
	}
	for _, n := range []string{"A=B", "A\nB", "", "1A", "A B", "A\x00"} {
		if err := CheckEnvName("env", n); err == nil {
			t.Errorf("CheckEnvName(%q) accepted", n)
		}
	}
}

// Bad values in a profile are refused when it is parsed, naming the field.
func TestProfileBadValues(t *testing.T) {
	for _, tt := range []struct{ name, extra, want string }{
		{"newline in env value", "env:\n  - name: X\n    value: \"a\\nb\"\n", "env[0].value: value has a newline"},
		{"NUL in env value", "env:\n  - name: X\n    value: \"a\\0b\"\n", "env[0].value: value has a NUL byte"},
		{"control in separator", "env:\n  - name: X\n    op: append\n    separator: \"\\e\"\n    value: v\n", "env[0].separator: value has control character"},
		{"= in env name", "env:\n  - name: A=B\n    value: v\n", `env[0].name: "A=B" is not a valid variable name`},
		{"newline in env name", "env:\n  - name: \"A\\nB\"\n    value: v\n", "env[0].name"},
		{"newline in param default", "params: {p: \"x\\ny\"}\n", "params.p: value has a newline"},
		{"newline in config value", "config:\n  path: a.conf\n  format: keyvalue\n  values: {server_address: \"a\\nb = c\"}\n", "config.values.server_address: value has a newline"},
		{"over-long env value", "env:\n  - name: X\n    value: " + strings.Repeat("a", MaxValueLen+1) + "\n", "env[0].value: value is 65537 bytes"},
		{"separator overlapping values", "env:\n  - name: X\n    op: append\n    separator: \"00\"\n    value: v\n", `env[0].separator: "00" must be one character`},
		{"newline in config key", "config:\n  path: a.conf\n  format: keyvalue\n  values: {\"a\\nb\": v}\n", "is not a valid config key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProfile([]byte(minimalProfile+tt.extra), "p.yaml")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "profile p.yaml") {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// Bad values in the options (flags, build args) are refused by Make,
// whichever engine calls it, naming the option (in Neutral's words here:
// each interface's Namer words it as its flag or build arg).
func TestMakeRefusesBadOptions(t *testing.T) {
	prof, err := ParseProfile([]byte(minimalProfile+`
params: {entry: ""}
env:
  - name: JAVA_TOOL_OPTIONS
    op: append
    separator: " "
    value: "-javaagent:${INSTALL_DIR}/a.jar ${entry}"
config:
  path: a.conf
  format: keyvalue
  values: {server_address: "${SERVER_ADDRESS}", server_port: "${SERVER_PORT}", domain_id: "${DOMAIN_ID}"}
`), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	img := Image{Reference: "app:1", Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispec.ImageConfig{Entrypoint: []string{"java", "-jar", "/app.jar"}, User: "0:0"}}
	agent := Agent{Source: "a.zip", Files: []AgentFile{{Path: "a.jar", Size: 1}}}
	ok := Options{ServerAddress: "10.0.0.5", ServerPort: 5000, DomainID: 1000, Params: map[string]string{"entry": "-Dx=1"}}
	if _, err := Make(img, prof, agent, ok); err != nil {
		t.Fatalf("good options refused: %v", err)
	}
	for _, tt := range []struct {
		name   string
		mod    func(*Options)
		want   string
		option Option
	}{
		{"newline in server address", func(o *Options) { o.ServerAddress = "10.0.0.5\nlicense = x" }, "server-address: value has a newline", OptServerAddress},
		{"NUL in server address", func(o *Options) { o.ServerAddress = "a\x00" }, "server-address: value has a NUL byte", OptServerAddress},
		{"over-long server address", func(o *Options) { o.ServerAddress = strings.Repeat("a", MaxValueLen+1) }, "server-address: value is 65537 bytes", OptServerAddress},
		{"newline in param", func(o *Options) { o.Params = map[string]string{"entry": "a\nb"} }, "param entry: value has a newline", OptParam("entry")},
		{"escape in param", func(o *Options) { o.Params = map[string]string{"entry": "\x1b]0;x\x07"} }, "param entry: value has control character", OptParam("entry")},
		{"CR in runtime version", func(o *Options) { o.RuntimeVersion = "8.2\r" }, "runtime-version: value has a carriage return", OptRuntimeVersion},
		{"spaces in server address", func(o *Options) { o.ServerAddress = "a b c" }, `server-address "a b c": not a host name or IP address`, OptServerAddress},
		{"comment in server address", func(o *Options) { o.ServerAddress = "10.0.0.5 # x" }, `server-address "10.0.0.5 # x": not a host name`, OptServerAddress},
		{"= in server address", func(o *Options) { o.ServerAddress = "a=b" }, `server-address "a=b"`, OptServerAddress},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.mod(&o)
			_, err := Make(img, prof, agent, o)
			if err == nil || !strings.Contains(err.Error(), "planning app:1: "+tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			// A wrong option, not a failed operation (the CLI exits 2).
			var oe *OptionError
			if !errors.As(err, &oe) || oe.Option != tt.option {
				t.Errorf("error %v is not an *OptionError for %q", err, tt.option)
			}
		})
	}
}

// A server option the profile does not use (a JENNIFER flag with an
// OpenTelemetry profile) is refused as a wrong option, naming what the
// profile takes; the same value carried from an upgraded image is not.
func TestMakeRefusesUnusedServerOptions(t *testing.T) {
	prof, err := ParseProfile([]byte(minimalProfile+`
params: {endpoint: "http://collector:4318", serviceName: ""}
env:
  - name: JAVA_TOOL_OPTIONS
    op: append
    separator: " "
    value: "-javaagent:${INSTALL_DIR}/a.jar"
  - name: OTEL_EXPORTER_OTLP_ENDPOINT
    value: "${endpoint}"
`), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	img := Image{Reference: "app:1", Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispec.ImageConfig{Entrypoint: []string{"java", "-jar", "/app.jar"}, User: "0:0"}}
	agent := Agent{Source: "a.zip", Files: []AgentFile{{Path: "a.jar", Size: 1}}}
	if _, err := Make(img, prof, agent, Options{Params: map[string]string{"endpoint": "http://c:4318"}}); err != nil {
		t.Fatalf("no server option: %v", err)
	}
	for _, tt := range []struct {
		opts Options
		opt  Option
	}{
		{Options{ServerAddress: "10.1.2.3"}, OptServerAddress},
		{Options{ServerPort: 7000}, OptServerPort},
		{Options{DomainID: 7}, OptDomainID},
	} {
		_, err := Make(img, prof, agent, tt.opts)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != tt.opt {
			t.Errorf("%+v: %v, want an OptionError for %s", tt.opts, err, tt.opt)
			continue
		}
		for _, want := range []string{"does not use it", "param endpoint", "param serviceName"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%+v: %q lacks %q", tt.opts, err, want)
			}
		}
	}
	// Carried from the image being upgraded: the image's own, not refused.
	if _, err := Make(img, prof, agent, Options{Previous: &Recorded{ServerAddress: "10.1.2.3", DomainID: 7}}); err != nil {
		t.Errorf("recorded settings refused: %v", err)
	}
}
