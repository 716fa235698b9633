package wrap

import (
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// A CI build: a base whose /etc/passwd names the app user, and a new
// application layer on top with `USER app`. The base's layers are read
// once per machine; the new layer, whose history says it is a COPY into
// /app, is never downloaded: the user resolves from the base, and the plan
// says which layer it did not read. A layer made by RUN is read.
func TestWrapSkipsTheNewAppLayer(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	filesCache := t.TempDir()
	for _, c := range []struct {
		name, createdBy string
		read            bool
	}{
		{"copy", "COPY app.jar /app/app.jar # buildkit", false},
		{"run", "RUN ./gradlew build # buildkit", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, app := ciImage(t, c.createdBy)
			src := reg + "/unread/" + c.name + ":1"
			testenv.PushImage(t, src, img)
			counter := newBlobCounter()
			opts := transport.Options{Registry: transport.RegistryOptions{Transport: counter}}
			wopts := javaOptions(t, sampleAgent(t))
			wopts.LayerFilesCache = filesCache
			res, err := Wrap(ctx, storeWith(t, src, opts), storeWith(t, src+"-jennifer", opts), wopts)
			if err != nil {
				t.Fatal(err)
			}
			plan := res.Platforms[0].Plan
			if plan.User.UID != 1234 || plan.User.GID != 1234 {
				t.Errorf("user app resolved to %d:%d, want 1234:1234 from the base's /etc/passwd", plan.User.UID, plan.User.GID)
			}
			d, _ := app.Digest()
			gets := counter.count(d)
			if c.read && gets == 0 || !c.read && gets != 0 {
				t.Errorf("the app layer (%s) was downloaded %d times, want read=%v", c.createdBy, gets, c.read)
			}
			if c.read != (len(plan.Unread) == 0) {
				t.Errorf("plan.Unread = %q, want read=%v", plan.Unread, c.read)
			}
			if !c.read && !strings.Contains(strings.Join(plan.Unread, "\n"), "writes only at or below /app/app.jar") {
				t.Errorf("plan.Unread does not say why: %q", plan.Unread)
			}
			// Positive control: the counting transport saw the config.
			cfgName, _ := img.ConfigName()
			if counter.count(cfgName) == 0 {
				t.Fatal("the counting transport saw no GET of the config: the count proves nothing")
			}
		})
	}
}

// ciImage is a base (a layer with /etc/passwd naming app as 1234, a layer
// with a JRE-like file) plus a new app layer made by createdBy, each with
// its history entry, USER app.
func ciImage(t *testing.T, createdBy string) (v1.Image, v1.Layer) {
	t.Helper()
	passwd := fileLayer(t, map[string]string{"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1234:1234::/home/app:/bin/sh\n"})
	jre, err := random.Layer(4096, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	app, err := random.Layer(1<<20, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(empty.Image,
		mutate.Addendum{Layer: passwd, History: v1.History{CreatedBy: "/bin/sh -c #(nop) ADD file:0123 in / "}},
		mutate.Addendum{Layer: jre, History: v1.History{CreatedBy: "RUN apt-get install -y openjdk-17-jre-headless # buildkit"}},
		mutate.Addendum{Layer: app, History: v1.History{CreatedBy: createdBy}},
	)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	javaConfig("app")(cf)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img, app
}
