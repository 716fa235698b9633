package frontend

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// Every option buildplan names is worded for a BuildKit user: its build
// arg, or, for what no build arg sets, what to do instead; never a bare
// flag of the CLI's.
func TestBuildArgNames(t *testing.T) {
	args := map[buildplan.Option]string{
		buildplan.OptServerAddress:  ArgServerAddress,
		buildplan.OptServerPort:     ArgServerPort,
		buildplan.OptDomainID:       ArgDomainID,
		buildplan.OptRuntime:        ArgRuntime,
		buildplan.OptRuntimeVersion: ArgRuntimeVer,
		buildplan.OptParam("entry"): "JENNIFER_PARAM_entry",
	}
	for _, o := range append(buildplan.AllOptions, buildplan.OptParam("entry")) {
		name, give := BuildArgNames.Name(o), BuildArgNames.Give(o, "V")
		if a, ok := args[o]; ok {
			if name != "build-arg "+a || give != "set build-arg "+a+"=V" || BuildArgNames.Give(o, "") != "set build-arg "+a {
				t.Errorf("%s: named %q, hint %q; want build-arg %s", o, name, give, a)
			}
			continue
		}
		if strings.Contains(name, "--") || name == string(o) {
			t.Errorf("%s: named %q: a flag or buildplan's neutral name", o, name)
		}
		// A flag only as part of a command to run instead.
		if !strings.Contains(give, "`jbuild wrap --") && !strings.Contains(give, "(docker buildx build --platform V)") {
			t.Errorf("%s: hint %q says neither the command to run nor the build's platform", o, give)
		}
	}
}

// buildplan.Make names the options as build args once ParseSettings has
// read them: its own checks (the agent's ranges, the runtime against the
// profile) and its hints.
func TestMakeErrorsNameBuildArgs(t *testing.T) {
	prof, java, agent := javaPlanInputs(t)
	script := java
	script.Config.Entrypoint = []string{"/start.sh"}
	for _, tt := range []struct {
		name   string
		args   map[string]string
		img    buildplan.Image
		want   string
		option buildplan.Option // "": not an *OptionError
	}{
		{"domain id above the agent's range", map[string]string{ArgServerAddress: "10.0.0.5", ArgDomainID: "40000"}, java,
			"build-arg JENNIFER_DOMAIN_ID 40000: the JENNIFER agent takes domain ids from 1 to 32767", buildplan.OptDomainID},
		{"runtime of another profile", map[string]string{ArgServerAddress: "10.0.0.5", ArgRuntime: "python"}, java,
			"build-arg JENNIFER_RUNTIME python does not match profile jennifer-java", buildplan.OptRuntime},
		{"no server address", nil, java,
			"set build-arg JENNIFER_SERVER_ADDRESS or set it in the agent bundle's conf/jennifer.conf", ""},
		{"a parameter the profile does not declare", map[string]string{ArgServerAddress: "10.0.0.5", "JENNIFER_PARAM_serviceName": "orders"}, java,
			"build-arg JENNIFER_PARAM_serviceName: profile jennifer-java has no such parameter (it declares: none)", buildplan.OptParam("serviceName")},
		{"no runtime found", map[string]string{ArgServerAddress: "10.0.0.5"}, script,
			"set build-arg JENNIFER_RUNTIME=java|dotnet|nodejs|python|php if you know what it runs", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := map[string]string{}
			for k, v := range tt.args {
				opts[buildArgPrefix+k] = v
			}
			s, err := ParseSettings(opts, "test")
			if err != nil {
				t.Fatal(err)
			}
			_, err = buildplan.Make(tt.img, prof, agent, s.Plan)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "--") || strings.Contains(err.Error(), "set option") {
				t.Errorf("error %v names a flag or an option in buildplan's neutral words", err)
			}
			var oe *buildplan.OptionError
			if tt.option != "" && (!errors.As(err, &oe) || oe.Option != tt.option) {
				t.Errorf("error %v is not an *OptionError for %q", err, tt.option)
			}
		})
	}
}

// javaPlanInputs are the jennifer-java profile, a Java image without files
// and a JENNIFER Java agent bundle, for buildplan.Make.
func javaPlanInputs(t *testing.T) (*buildplan.Profile, buildplan.Image, buildplan.Agent) {
	t.Helper()
	prof, err := templates.Lookup("jennifer-java")
	if err != nil {
		t.Fatal(err)
	}
	java := buildplan.Image{Reference: "Dockerfile build", Platform: ocispecs.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispecs.ImageConfig{Entrypoint: []string{"java", "-jar", "/app.jar"}, User: "1000:1000"}}
	agent := buildplan.Agent{Source: "agent.java", Files: []buildplan.AgentFile{
		{Path: "conf", Mode: fs.ModeDir | 0o755}, {Path: "conf/jennifer.conf", Mode: 0o644, Size: 7}, {Path: "jennifer.jar", Mode: 0o644, Size: 3}},
		ReadFile: func(rel string) ([]byte, error) {
			if rel == "conf/jennifer.conf" {
				return []byte("# conf\n"), nil
			}
			return nil, fs.ErrNotExist
		}}
	return prof, java, agent
}

// JENNIFER_RUNTIME_VERSION is taken over detection, and the plan's
// evidence names the build arg.
func TestMakeTakesRuntimeVersionBuildArg(t *testing.T) {
	prof, java, agent := javaPlanInputs(t)
	s, err := ParseSettings(map[string]string{buildArgPrefix + ArgServerAddress: "10.0.0.5", buildArgPrefix + ArgRuntimeVer: "17.0"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := buildplan.Make(java, prof, agent, s.Plan)
	if err != nil {
		t.Fatal(err)
	}
	if plan.RuntimeVersion.Value != "17.0" || !slices.Contains(plan.RuntimeVersion.Evidence, "option: build-arg JENNIFER_RUNTIME_VERSION 17.0") {
		t.Errorf("runtime version %+v, want 17.0 from build-arg JENNIFER_RUNTIME_VERSION", plan.RuntimeVersion)
	}
}
