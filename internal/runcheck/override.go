package runcheck

import (
	"fmt"
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
// the image was wrapped with) and the config path (io.jbuild.config).
func ProfileOverride(prof *buildplan.Profile, configPath string, configContent []byte, addr string, port int) (*ConfigOverride, []string, error) {
	vars := map[string]string{"SERVER_ADDRESS": addr, "SERVER_PORT": strconv.Itoa(port)}
	var env []string
	for _, e := range prof.Env {
		for v, val := range vars {
			if strings.Contains(e.Value, "${"+v+"}") || strings.Contains(e.Value, "${"+v+":-") {
				env = append(env, e.Name+"="+val)
			}
		}
	}
	if prof.Config == nil {
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
		return nil, nil, fmt.Errorf("runcheck: profile %s: no config key takes ${SERVER_ADDRESS} or ${SERVER_PORT}", prof.Name)
	}
	content := buildplan.MergeConfig(configContent, prof.Config.Format, prof.Config.Section, values, nil)
	return &ConfigOverride{Path: configPath, Content: []byte(content)}, env, nil
}
