package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// defaultProfiles are the built-in profiles as written. examples/ is not
// matched by the pattern on purpose: those are documentation, not defaults.
//
//go:embed profiles/*.yaml
var defaultProfiles embed.FS

// parseEmbedded parses and checks profiles/*.yaml: what parsedProfiles
// holds.
func parseEmbedded() ([]*buildplan.Profile, error) {
	entries, err := defaultProfiles.ReadDir("profiles")
	if err != nil {
		return nil, fmt.Errorf("reading embedded profiles: %w", err)
	}
	var out []*buildplan.Profile
	seen := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		name := path.Join("profiles", e.Name())
		data, err := defaultProfiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading embedded %s: %w", name, err)
		}
		p, err := buildplan.ParseProfile(data, "templates/"+name)
		if err != nil {
			return nil, err
		}
		if other, dup := seen[p.Name]; dup {
			return nil, fmt.Errorf("embedded profiles %s and %s are both named %q", other, name, p.Name)
		}
		seen[p.Name] = name
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

var updateProfiles = flag.Bool("update-profiles", false, "rewrite templates/profiles.json from profiles/*.yaml")

// profiles.json is what the YAML profiles parse to: Profiles serves it, so
// a profile edited without `go generate ./templates` fails here.
func TestParsedProfilesCurrent(t *testing.T) {
	ps, err := parseEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(ps, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	if *updateProfiles {
		if err := os.WriteFile("profiles.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(parsedProfiles, want) {
		t.Fatalf("templates/profiles.json is not what profiles/*.yaml parse to: run `go generate ./templates`")
	}
}
