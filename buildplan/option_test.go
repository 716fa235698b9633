package buildplan_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// markerNames words every option as a marker that says which Namer method
// made it, so a test sees that a message named the option through the
// Namer, and which option.
type markerNames struct{}

func (markerNames) Name(o buildplan.Option) string { return "«" + string(o) + "»" }

func (markerNames) Give(o buildplan.Option, v string) string {
	return "«give¦" + string(o) + "¦" + v + "»"
}

var (
	nameMarker = regexp.MustCompile(`«([^«»¦]+)»`)
	giveMarker = regexp.MustCompile(`«give¦([^«»¦]+)¦([^«»¦]*)»`)
)

// unmark turns markers back into the Neutral namer's words.
func unmark(s string) string {
	s = giveMarker.ReplaceAllStringFunc(s, func(m string) string {
		sm := giveMarker.FindStringSubmatch(m)
		return buildplan.Neutral.Give(buildplan.Option(sm[1]), sm[2])
	})
	return nameMarker.ReplaceAllStringFunc(s, func(m string) string {
		return buildplan.Neutral.Name(buildplan.Option(nameMarker.FindStringSubmatch(m)[1]))
	})
}

// Every golden case planned with another Namer differs from its golden text
// only where that Namer words an option: the golden files (Neutral words)
// stay the reference for all interfaces. The cases that name an option
// name it through the Namer (a hard-coded name would show no marker).
func TestGoldenCasesNameOptionsThroughNamer(t *testing.T) {
	want := map[string]string{
		"go-static":                   "if the image does run a JVM, .NET, Node.js, Python or PHP, «give¦runtime¦»",
		"unknown-runtime":             "«give¦runtime¦java|dotnet|nodejs|python|php» if you know what it runs",
		"java-missing-server-address": "«give¦server-address¦» or set it in the agent bundle's conf/jennifer.conf",
		"php-83-no-extension":         "or «give¦runtime-version¦» if the detected version is wrong",
		"python-arm64":                "wrap a platform it supports («give¦platform¦linux/amd64»)",
		"runtime-override":            "option: «runtime» java",
	}
	cases, err := filepath.Glob("testdata/cases/*.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range cases {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			c := readGoldenCase(t, file)
			_, neutral := runGoldenCase(t, c, nil)
			_, marked := runGoldenCase(t, c, markerNames{})
			if got := unmark(marked); got != neutral {
				t.Errorf("with another Namer the text differs beyond the option names:\n%s\nwant\n%s", got, neutral)
			}
			if w, ok := want[name]; ok && !strings.Contains(marked, w) {
				t.Errorf("text does not name the option through the Namer (%q):\n%s", w, marked)
			}
		})
	}
}

// The errors and hints of Make that no golden case shows name their option
// through the Namer, and an *OptionError says which option it is about.
func TestMakeNamesOptionsThroughNamer(t *testing.T) {
	for _, tt := range []struct {
		name, base string
		mod        func(c *goldenCase)
		want       string
		option     buildplan.Option // "": not an *OptionError
	}{
		{"port", "java-numeric-user", func(c *goldenCase) { c.Options.ServerPort = 70000 }, "«server-port» 70000: a TCP port", buildplan.OptServerPort},
		{"domain id", "java-numeric-user", func(c *goldenCase) { c.Options.DomainID = 40000 }, "«domain-id» 40000: the JENNIFER agent takes", buildplan.OptDomainID},
		{"unknown param", "java-numeric-user", func(c *goldenCase) { c.Options.Params = map[string]string{"nosuch": "1"} }, "«param nosuch»: profile jennifer-java has no such parameter", buildplan.OptParam("nosuch")},
		{"param value", "node-options", func(c *goldenCase) { c.Options.Params = map[string]string{"entry": "a\nb"} }, "«param entry»: value has a newline", buildplan.OptParam("entry")},
		{"server address", "java-numeric-user", func(c *goldenCase) { c.Options.ServerAddress = "a b" }, `«server-address» "a b": not a host name`, buildplan.OptServerAddress},
		{"runtime version value", "java-numeric-user", func(c *goldenCase) { c.Options.RuntimeVersion = "8\r" }, "«runtime-version»: value has a carriage return", buildplan.OptRuntimeVersion},
		{"no such runtime", "java-numeric-user", func(c *goldenCase) { c.Options.Runtime = "cobol" }, `«runtime» "cobol": want java`, buildplan.OptRuntime},
		{"runtime of another profile", "java-numeric-user", func(c *goldenCase) { c.Options.Runtime = buildplan.RuntimePython }, "«runtime» python does not match profile jennifer-java", buildplan.OptRuntime},
		{"windows image", "java-numeric-user", func(c *goldenCase) { c.Image.Platform.OS = "windows" }, "wrap the linux variant of the image («give¦platform¦linux/amd64»)", ""},
		{"install dir below a file", "php-debian-files", func(c *goldenCase) { c.Files["/opt"] = "" }, "in a profile of your own («give¦profile-file¦FILE»)", ""},
		{"runtime version unknown", "php-debian-files", func(c *goldenCase) {
			delete(c.Files, "/etc/php/8.2/cli/php.ini")
			delete(c.Files, "/usr/bin/php8.2")
			c.Files["/usr/bin/php"] = ""
		}, "and profile jennifer-php needs it; «give¦runtime-version¦MAJOR.MINOR»", ""},
		{"runtime version given", "php-debian-files", func(c *goldenCase) { c.Options.RuntimeVersion = "8.2" }, "option: «runtime-version» 8.2", ""},
		{"param carried forward", "node-options", func(c *goldenCase) {
			c.Options.Previous = &buildplan.Recorded{Params: map[string]string{"entry": "/app/apm.js"}}
		}, "Carried:   «param entry»", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := readGoldenCase(t, filepath.Join("testdata", "cases", tt.base+".yaml"))
			tt.mod(&c)
			_, text := runGoldenCase(t, c, markerNames{})
			if !strings.Contains(text, tt.want) {
				t.Fatalf("got\n%s\nwant it to contain %q", text, tt.want)
			}
			if tt.option == "" {
				return
			}
			prof := loadProfile(t, c)
			img := buildplan.Image{Reference: c.Image.Reference, Platform: c.Image.Platform, Config: c.Image.Config}
			opts := c.Options
			opts.Names = markerNames{}
			_, err := buildplan.Make(img, prof, memAgent(c.Agent.Source, c.Agent.Version, c.Agent.Digest, c.Agent.Files), opts)
			var oe *buildplan.OptionError
			if !errors.As(err, &oe) || oe.Option != tt.option {
				t.Errorf("error %v: want an *OptionError for %q", err, tt.option)
			}
		})
	}
}

// The package's text names no flag of its own: an option is named through
// the Namer, so the frontend never tells its users to pass a flag. A
// string literal of the package's code with "--" and a letter fails this
// test; `docker run --...` (a flag of Docker's, in advice about running
// the image) is the one exception.
func TestNoFlagNamesInText(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	flag := regexp.MustCompile(`--[A-Za-z]`)
	fset := token.NewFileSet()
	checked := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatalf("%s: %v", fset.Position(lit.Pos()), err)
			}
			checked++
			for _, loc := range flag.FindAllStringIndex(s, -1) {
				if !strings.HasSuffix(s[:loc[0]], "docker run ") {
					t.Errorf("%s: %q names a flag: name the option through the Namer (Options.Names) instead", fset.Position(lit.Pos()), s)
				}
			}
			return true
		})
	}
	if checked < 100 {
		t.Fatalf("only %d string literals checked: is this the package's directory?", checked)
	}
}
