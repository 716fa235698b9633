package runcheck

import (
	"archive/tar"
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/jbuild-dev/jbuild/buildplan"
)

func imageWith(t *testing.T, files map[string]string, cfg v1.Config) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
		tw.Write([]byte(content))
	}
	tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.Config(img, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Prepare resolves the image's user by name, adds the label volumes once,
// and points the config from the image at its listener.
func TestPrepare(t *testing.T) {
	conf := "/opt/jennifer/agent.java/conf/jennifer.conf"
	img := imageWith(t, map[string]string{
		"etc/passwd": "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n",
		conf[1:]:     "server_address = 10.0.0.1\nserver_port = 5000\ndomain_id = 7\n",
	}, v1.Config{User: "app", Labels: map[string]string{
		buildplan.LabelProfile: "jennifer-java",
		buildplan.LabelConfig:  conf,
		buildplan.LabelVolumes: "/opt/jennifer/agent.java/logs,/tmp",
	}})
	opts := Options{Image: "app:1", Volumes: []string{"/tmp"}}
	if err := Prepare(img, &opts); err != nil {
		t.Fatal(err)
	}
	defer opts.Listener.Close()
	if opts.User != "1000:1001" {
		t.Errorf("user %q, want 1000:1001 from /etc/passwd", opts.User)
	}
	if strings.Join(opts.Volumes, ",") != "/tmp,/opt/jennifer/agent.java/logs" {
		t.Errorf("volumes %q", opts.Volumes)
	}
	want := "server_address = 127.0.0.1\nserver_port = " + strconv.Itoa(Port(opts.Listener)) + "\ndomain_id = 7\n"
	if opts.Config == nil || opts.Config.Path != conf || string(opts.Config.Content) != want {
		t.Errorf("config override %+v, want %s with %q", opts.Config, conf, want)
	}
}
