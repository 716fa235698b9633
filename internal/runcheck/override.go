package runcheck

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// ServerOverride computes what points a wrapped image's agent at a server
// at addr:port, from the image's jbuild labels: the agent config file
// (io.jbuild.config) rewritten with server_address and server_port, for
// profiles with a config file, and the environment variables the profile
// fills with the server address or port (ARIES_SERVER_ADDRESS, ...), for
// profiles configured through the environment. configContent is the
// image's own file at the io.jbuild.config path; every other line of it is
// kept. The profile is the one the image carries (io.jbuild.profile-doc),
// else the built-in one io.jbuild.profile names.
func ServerOverride(labels map[string]string, configContent []byte, addr string, port int) (*ConfigOverride, []string, error) {
	name := labels[buildplan.LabelProfile]
	if name == "" {
		return nil, nil, fmt.Errorf("runcheck: the image has no %s label: not made by jbuild", buildplan.LabelProfile)
	}
	prof, err := templates.ForImage(labels)
	if err != nil {
		return nil, nil, fmt.Errorf("runcheck: %w", err)
	}
	return ProfileOverride(prof, labels[buildplan.LabelConfig], configContent, addr, port)
}

// ProfileOverride is ServerOverride with the profile given (a profile file
// the image was wrapped with) and the config path (io.jbuild.config). A
// profile's runCheck env and config, when it has them, say what points the
// agent at addr:port; without them every env variable and config value
// that takes ${SERVER_ADDRESS} or ${SERVER_PORT} gets the receiver's.
func ProfileOverride(prof *buildplan.Profile, configPath string, configContent []byte, addr string, port int) (*ConfigOverride, []string, error) {
	if rc := prof.RunCheck; rc != nil && (len(rc.Env) > 0 || len(rc.Config) > 0) {
		return runCheckOverride(prof, configPath, configContent, addr, port)
	}
	vars := map[string]string{"SERVER_ADDRESS": addr, "SERVER_PORT": strconv.Itoa(port)}
	var env []string
	for _, e := range prof.Env {
		for _, v := range slices.Sorted(maps.Keys(vars)) {
			if strings.Contains(e.Value, "${"+v+"}") || strings.Contains(e.Value, "${"+v+":-") {
				env = append(env, e.Name+"="+vars[v])
			}
		}
	}
	if prof.Config == nil {
		if len(env) == 0 {
			return nil, nil, fmt.Errorf("runcheck: profile %s: nothing points the agent at the run check's receiver: no env value takes ${SERVER_ADDRESS} or ${SERVER_PORT} and there is no config file; add runCheck.env with the variable that holds the agent's endpoint (see docs/profiles.md)", prof.Name)
		}
		return nil, env, nil
	}
	if configPath == "" {
		return nil, nil, fmt.Errorf("runcheck: profile %s has a config file but the image has no %s label", prof.Name, buildplan.LabelConfig)
	}
	values := map[string]string{}
	for key, tmpl := range prof.Config.Values {
		for v, val := range vars {
			if tmpl == "${"+v+"}" {
				values[key] = val
			}
		}
	}
	if len(values) == 0 {
		return nil, nil, fmt.Errorf("runcheck: profile %s: no config key takes ${SERVER_ADDRESS} or ${SERVER_PORT}; add runCheck.config or runCheck.env (see docs/profiles.md)", prof.Name)
	}
	content := buildplan.MergeConfig(configContent, prof.Config.Format, prof.Config.Section, values, nil)
	return &ConfigOverride{Path: configPath, Content: []byte(content)}, env, nil
}

// runCheckOverride is the env and config file the profile's runCheck
// section gives for a receiver at addr:port.
func runCheckOverride(prof *buildplan.Profile, configPath string, configContent []byte, addr string, port int) (*ConfigOverride, []string, error) {
	rc := prof.RunCheck
	var env []string
	for _, name := range slices.Sorted(maps.Keys(rc.Env)) {
		v, err := buildplan.ExpandRunCheck(rc.Env[name], prof.InstallDir, addr, port)
		if err != nil {
			return nil, nil, fmt.Errorf("runcheck: profile %s: runCheck.env.%s: %w", prof.Name, name, err)
		}
		env = append(env, name+"="+v)
	}
	if len(rc.Config) == 0 {
		return nil, env, nil
	}
	if prof.Config == nil {
		return nil, nil, fmt.Errorf("runcheck: profile %s: runCheck.config needs the profile's config file", prof.Name)
	}
	if configPath == "" {
		return nil, nil, fmt.Errorf("runcheck: profile %s has a config file but the image has no %s label", prof.Name, buildplan.LabelConfig)
	}
	values := map[string]string{}
	for key, tmpl := range rc.Config {
		v, err := buildplan.ExpandRunCheck(tmpl, prof.InstallDir, addr, port)
		if err != nil {
			return nil, nil, fmt.Errorf("runcheck: profile %s: runCheck.config.%s: %w", prof.Name, key, err)
		}
		values[key] = v
	}
	content := buildplan.MergeConfig(configContent, prof.Config.Format, prof.Config.Section, values, nil)
	return &ConfigOverride{Path: configPath, Content: []byte(content)}, env, nil
}
