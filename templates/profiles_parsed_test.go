package templates

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

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
