package k8s

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// A named USER is resolved to numeric ids through the image's /etc/passwd,
// since runAsNonRoot needs a number (OCI layout: no registry needed).
func TestInspectNamedUser(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	passwd := "root:x:0:0::/root:/bin/sh\napp:x:1001:1002::/app:/bin/sh\n"
	tw.WriteHeader(&tar.Header{Name: "etc/passwd", Mode: 0o644, Size: int64(len(passwd)), Typeflag: tar.TypeReg})
	tw.Write([]byte(passwd))
	tw.Close()
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := testenv.RandomImage(testenv.Spec{Base: []v1.Layer{layer}, Config: func(cf *v1.ConfigFile) {
		cf.Config.User = "app"
		cf.Config.ExposedPorts = map[string]struct{}{"9000/udp": {}, "8443/tcp": {}, "80/tcp": {}}
		cf.Config.Labels = map[string]string{buildplan.LabelProfile: "jennifer-nodejs", buildplan.LabelVersion: "test"}
	}})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := transport.Parse("oci:" + filepath.Join(t.TempDir(), "layout") + ":app")
	if err != nil {
		t.Fatal(err)
	}
	st, err := transport.Open(ref, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.Put(ctx, &transport.Artifact{Image: img}); err != nil {
		t.Fatal(err)
	}
	got, err := Inspect(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if *got.UID != 1001 || *got.GID != 1002 || got.Profile == nil || got.Profile.Name != "jennifer-nodejs" {
		t.Errorf("uid %d gid %d profile %v: want 1001:1002 from /etc/passwd and jennifer-nodejs", *got.UID, *got.GID, got.Profile)
	}
	if len(got.Ports) != 3 || got.Ports[0] != (Port{80, "TCP"}) || got.Ports[2] != (Port{9000, "UDP"}) {
		t.Errorf("ports %v: want 80/TCP first, UDP last", got.Ports)
	}
	if v := got.Volumes(); len(v) != 1 || v[0] != "/opt/jennifer/agent.nodejs/logs" {
		t.Errorf("volumes %v: without the label, the profile's logs dir", v)
	}
}
