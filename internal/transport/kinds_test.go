package transport

import (
	"reflect"
	"strings"
	"testing"
)

// TestKindsParseTheirExamples: every registered store's examples parse to
// that store, print back unchanged, round trip, compare equal to
// themselves, and open as a store that gives the reference back.
func TestKindsParseTheirExamples(t *testing.T) {
	for _, k := range storeKinds {
		if len(k.Examples) == 0 {
			t.Errorf("kind %s has no examples", k.Kind)
		}
		for _, ex := range k.Examples {
			t.Run(string(k.Kind)+"/"+ex, func(t *testing.T) {
				r, err := Parse(ex)
				if err != nil {
					t.Fatal(err)
				}
				if r.Kind != k.Kind {
					t.Fatalf("Parse(%q).Kind = %s, want %s", ex, r.Kind, k.Kind)
				}
				if r.String() != ex || r.Name() != ex {
					t.Errorf("String() = %q, Name() = %q, want %q", r.String(), r.Name(), ex)
				}
				again := mustParse(t, r.String())
				if !reflect.DeepEqual(again, r) {
					t.Errorf("round trip: %+v then %+v", r, again)
				}
				if !SameLocation(r, again) || !SameStore(r, again) {
					t.Errorf("%s is not at its own location or in its own store", ex)
				}
				if tag := r.TagName(); tag != "" {
					w, err := r.WithTag(tag + "-x")
					if err != nil {
						t.Fatal(err)
					}
					if w.Kind != r.Kind || w.TagName() != tag+"-x" || SameLocation(r, w) || !SameStore(r, w) {
						t.Errorf("%s.WithTag(%s-x) = %s (tag %q)", ex, tag, w, w.TagName())
					}
				}
				st, err := Open(r, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if st.Ref().String() != ex {
					t.Errorf("opened store's Ref() = %s, want %s", st.Ref(), ex)
				}
				if err := st.Close(); err != nil {
					t.Errorf("Close of an unused store: %v", err)
				}
			})
		}
	}
}

// TestKindsTable: the table is well formed, and what is derived from it
// (Kinds, the help text, the message for an unsupported transport) names
// every store.
func TestKindsTable(t *testing.T) {
	seen, bare := map[Kind]bool{}, 0
	for _, k := range storeKinds {
		if seen[k.Kind] {
			t.Errorf("kind %s registered twice", k.Kind)
		}
		seen[k.Kind] = true
		if k.refs == nil || k.open == nil || k.Help == "" {
			t.Errorf("kind %s: refs, open and Help are required", k.Kind)
		}
		if k.bare {
			bare++
		} else if !strings.HasPrefix(k.Form, string(k.Kind)+":") || strings.Contains(string(k.Kind), ":") {
			t.Errorf("kind %s: form %q must start with %s:", k.Kind, k.Form, k.Kind)
		}
		if knownButUnsupported(string(k.Kind), "//x") {
			t.Errorf("kind %s is also listed as unsupported", k.Kind)
		}
	}
	if bare != 1 {
		t.Errorf("%d kinds parse references without a prefix, want 1", bare)
	}

	kinds := Kinds()
	if len(kinds) != len(storeKinds) {
		t.Fatalf("Kinds() has %d entries, the table %d", len(kinds), len(storeKinds))
	}
	help := KindsHelp()
	lines := strings.Split(help, "\n")
	_, err := Parse("dir:/x")
	for i, k := range kinds {
		if k.Kind != storeKinds[i].Kind {
			t.Errorf("Kinds()[%d] = %s, want %s", i, k.Kind, storeKinds[i].Kind)
		}
		if !strings.Contains(help, "  "+k.Form+"  ") {
			t.Errorf("help does not list %s:\n%s", k.Form, help)
		}
		if err == nil || !strings.Contains(err.Error(), k.Form) {
			t.Errorf("unsupported-transport error %v does not name %s", err, k.Form)
		}
	}
	for _, l := range lines {
		if len(l) > 80 {
			t.Errorf("help line longer than 80 columns: %q", l)
		}
	}
	kinds[0].Examples[0] = "changed"
	if storeKinds[0].Examples[0] == "changed" {
		t.Error("Kinds() shares its Examples with the table")
	}
}
