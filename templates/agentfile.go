package templates

import (
	"fmt"
	"regexp"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// ForAgentFile is the built-in single-file profile (one with agentFile)
// whose bundle markers, agentFile or versionFrom.fileName name a file
// called name ("opentelemetry-javaagent-2.33.1.jar" gives
// opentelemetry-java); nil when none does, an error when several do.
// forOption words the option that chooses a profile, for that error.
func ForAgentFile(name, forOption string) (*buildplan.Profile, error) {
	all, err := Profiles()
	if err != nil {
		return nil, err
	}
	var found []*buildplan.Profile
	for _, p := range all {
		if p.AgentFile != "" && NamesAgentFile(p, name) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("the agent file %s fits the profiles %s and %s: choose one with %s", name, found[0].Name, found[1].Name, forOption)
}

// NamesAgentFile reports whether p, a single-file profile, is the profile
// of a file called name: its agentFile, a bundle marker or its
// versionFrom.fileName pattern matches the name.
func NamesAgentFile(p *buildplan.Profile, name string) bool {
	if p.AgentFile == "" {
		return false
	}
	if name == p.AgentFile {
		return true
	}
	for _, m := range p.BundleMarkers {
		if buildplan.MarkerMatches(m, name) {
			return true
		}
	}
	if vf := p.VersionFrom; vf != nil && vf.FileName != "" {
		re, err := regexp.Compile(vf.FileName)
		return err == nil && re.MatchString(name)
	}
	return false
}
