package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/templates"
)

// A bundle marker may be a pattern (opentelemetry-javaagent*.jar): the
// agent files check matches it against the installed files, and a
// pattern nothing matches is still reported missing.
func TestVerifyMarkerPatterns(t *testing.T) {
	base, out := wrapped(t)
	prof, err := templates.Lookup("jennifer-java")
	if err != nil {
		t.Fatal(err)
	}
	for pattern, ok := range map[string]bool{"jenn*.jar": true, "conf/*.conf": true, "nothing*.jar": false} {
		mine := *prof
		mine.BundleMarkers = []string{pattern}
		r, err := Image(context.Background(), "out", out, baseFn(base), &mine)
		if err != nil {
			t.Fatal(err)
		}
		c := checks(r)["agent files"]
		if c.OK != ok || (!ok && !strings.Contains(c.Detail, "lacks "+pattern)) {
			t.Errorf("marker %s: %+v, want ok=%v", pattern, c, ok)
		}
	}
}
