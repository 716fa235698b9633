package buildplan

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestUnreadLayers(t *testing.T) {
	roots := ReadRoots([]string{"/opt/jennifer/agent.java"})
	for _, want := range []string{"/etc/passwd", "/usr/bin/java", "/usr/lib/jvm", "/lib", "/opt/jennifer/agent.java", "/nodejs/bin/node"} {
		found := false
		for _, r := range roots {
			found = found || r == want
		}
		if !found {
			t.Errorf("ReadRoots lacks %s: %v", want, roots)
		}
	}
	for _, c := range []struct {
		createdBy, workdir string
		skip               bool
	}{
		{"COPY app.jar /app/app.jar # buildkit", "", true},
		{"COPY --chown=app:app --from=build /src/target/app.jar /app/ # buildkit", "", true},
		{`COPY ["my app.jar", "/srv/app/"] # buildkit`, "", true},
		{"COPY . . # buildkit", "/app", true},
		{"WORKDIR /app", "", true},
		{"/bin/sh -c #(nop) COPY file:0123abcd in /app/ ", "", true},
		{"/bin/sh -c #(nop) ADD dir:0123abcd in /home/app ", "", true},
		{"ADD https://example.invalid/app.tgz /app/ # buildkit", "", true},
		// Anything that can touch what planning reads is read.
		{"COPY . . # buildkit", "", false},  // relative, no workdir
		{"COPY . . # buildkit", "/", false}, // the root
		{"COPY passwd /etc/passwd # buildkit", "", false},
		{"COPY app /opt/app # buildkit", "", false}, // beside the agent's folders, but it makes /opt where the base has none
		{"COPY --chown=app app /opt/app/ # buildkit", "", false},
		{"COPY app /opt/ # buildkit", "", false}, // above the install dir
		{"COPY conf /opt/jennifer/ # buildkit", "", false},
		{"COPY jre /usr/lib/jvm/jre # buildkit", "", false},
		{"COPY rootfs/ / # buildkit", "", false},
		{"COPY app $APP_HOME # buildkit", "", false},
		{"RUN useradd app # buildkit", "", false},
		{"/bin/sh -c useradd app", "", false},
		{"", "", false},
		{"COPY app.jar # buildkit", "", false},
	} {
		h := []ocispec.History{{CreatedBy: "base"}, {CreatedBy: "ENV x=1", EmptyLayer: true}, {CreatedBy: c.createdBy}}
		got := UnreadLayers(h, 2, c.workdir, roots)
		if _, base := got[0]; base {
			t.Errorf("%q: the base layer (history \"base\") is skipped", c.createdBy)
		}
		if reason, skip := got[1]; skip != c.skip {
			t.Errorf("%q (workdir %q): skip=%v (%s), want %v", c.createdBy, c.workdir, skip, reason, c.skip)
		} else if skip && !strings.Contains(reason, "writes only at or below /") {
			t.Errorf("%q: reason %q", c.createdBy, reason)
		}
	}
	// History that does not line up with the layers: nothing is skipped.
	h := []ocispec.History{{CreatedBy: "COPY app.jar /app/ # buildkit"}}
	if got := UnreadLayers(h, 2, "", roots); got != nil {
		t.Errorf("mismatched history: %v", got)
	}
}
