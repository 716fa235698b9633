package templates

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// parsedProfiles is profiles/*.yaml as buildplan.ParseProfile reads and
// checks them, as JSON: generated (go generate ./templates, which runs
// TestParsedProfilesCurrent with -update-profiles) and checked against the
// YAML by that test, so it cannot go stale unnoticed; the YAML itself is
// embedded in the tests only (profiles_parsed_test.go). Parsing the YAML
// (two YAML decoders, the checks) took 2.4 ms of CPU in a new process, and
// the BuildKit frontend is a new process in every build (bench: 15 ms more
// CPU per warm build than BuildKit's own frontend, a fifth of it this).
//
//go:generate go test -run TestParsedProfilesCurrent -update-profiles .
//go:embed profiles.json
var parsedProfiles []byte

// Profiles returns the embedded profiles sorted by name. Callers own what
// they get and may modify it, e.g. to apply flags: every call gets a fresh
// copy, decoded from parsedProfiles.
func Profiles() ([]*buildplan.Profile, error) {
	var out []*buildplan.Profile
	if err := json.Unmarshal(parsedProfiles, &out); err != nil {
		return nil, fmt.Errorf("reading the embedded profiles: %w", err)
	}
	return out, nil
}

// Names lists the embedded profile names.
func Names() ([]string, error) {
	ps, err := Profiles()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names, nil
}

// Lookup returns the embedded profile with that name.
func Lookup(name string) (*buildplan.Profile, error) {
	ps, err := Profiles()
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Name == name {
			return p, nil
		}
	}
	names, _ := Names()
	return nil, fmt.Errorf("no profile named %q (available: %s; or pass a profile file)", name, strings.Join(names, ", "))
}

// ForRuntime returns the embedded JENNIFER profile for a runtime.
func ForRuntime(rt buildplan.Runtime) (*buildplan.Profile, error) {
	ps, err := Profiles()
	if err != nil {
		return nil, err
	}
	var have []string
	for _, p := range ps {
		if p.Agent != "JENNIFER" {
			continue // other agents are chosen by name or by their bundle
		}
		if p.Runtime == rt {
			return p, nil
		}
		have = append(have, string(p.Runtime))
	}
	if rt == buildplan.RuntimeNative {
		return nil, fmt.Errorf("no profile for native binaries: Go and static programs have no injectable agent")
	}
	return nil, fmt.Errorf("no profile for runtime %q (available: %s)", rt, strings.Join(have, ", "))
}

// MatchBundle returns the embedded profile whose bundle markers are all in
// files. When several match, the one with the most markers wins (the most
// specific); a tie, or no match, returns false.
func MatchBundle(files []buildplan.AgentFile) (*buildplan.Profile, bool) {
	ps, err := Profiles()
	if err != nil {
		return nil, false
	}
	return matchBundle(ps, files)
}

func matchBundle(ps []*buildplan.Profile, files []buildplan.AgentFile) (*buildplan.Profile, bool) {
	has := func(marker string) bool {
		for _, f := range files {
			if buildplan.MarkerMatches(marker, f.Path) {
				return true
			}
		}
		return false
	}
	var best *buildplan.Profile
	bestN, tie := 0, false
	for _, p := range ps {
		if len(p.BundleMarkers) == 0 {
			continue
		}
		all := true
		for _, m := range p.BundleMarkers {
			if !has(m) {
				all = false
				break
			}
		}
		if !all {
			continue
		}
		switch n := len(p.BundleMarkers); {
		case n > bestN:
			best, bestN, tie = p, n, false
		case n == bestN:
			tie = true
		}
	}
	if best == nil || tie {
		return nil, false
	}
	return best, true
}

// ForImage is the profile an image was made with: the one its labels
// carry (buildplan.LabelProfileDoc), else the built-in one its
// io.jbuild.profile label names (images made before the label).
func ForImage(labels map[string]string) (*buildplan.Profile, error) {
	p, err := buildplan.ProfileFromLabels(labels)
	if err != nil || p != nil {
		return p, err
	}
	return Lookup(labels[buildplan.LabelProfile])
}

// BundleReads are the bundle files any profile may read while planning
// with an agent: prof's (when given) and every built-in profile's, since
// the frontend's JENNIFER_PROFILE or runtime detection can pick another
// one. An agent image's index label carries their text (`jbuild agent
// push`, the frontend's index of a local agent folder).
func BundleReads(prof *buildplan.Profile) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p *buildplan.Profile) {
		for _, r := range p.BundleReads() {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	if prof != nil {
		add(prof)
	}
	all, _ := Profiles()
	for _, p := range all {
		add(p)
	}
	return out
}
