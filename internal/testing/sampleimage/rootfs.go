package sampleimage

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Created is the fixed timestamp of every file and of the image config, so
// the image is reproducible.
var Created = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// The app user of the image.
const (
	AppUser = "app"
	AppUID  = 1000
	AppGID  = 1000
)

// JavaHome is the JDK location in the image, as Debian's openjdk-17 has it.
const JavaHome = "/usr/lib/jvm/java-17-openjdk-amd64"

type entry struct {
	name     string
	mode     int64
	uid, gid int
	data     string // regular file content; directories end name with "/"
}

// files lists the rootfs in tar order (parents first).
func files() ([]entry, error) {
	jar, err := appJar()
	if err != nil {
		return nil, err
	}
	return []entry{
		{name: "etc/", mode: 0o755},
		{name: "etc/passwd", mode: 0o644, data: "root:x:0:0:root:/root:/usr/sbin/nologin\n" +
			"app:x:1000:1000:app:/home/app:/usr/sbin/nologin\n"},
		{name: "etc/group", mode: 0o644, data: "root:x:0:\napp:x:1000:\n"},
		{name: "etc/os-release", mode: 0o644, data: "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n" +
			"NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n"},
		{name: "home/", mode: 0o755},
		{name: "home/app/", mode: 0o755, uid: AppUID, gid: AppGID},
		{name: "lib64/", mode: 0o755},
		{name: "lib64/ld-linux-x86-64.so.2", mode: 0o755, data: "placeholder for the glibc dynamic loader (jbuild sample image)\n"},
		{name: "root/", mode: 0o700},
		{name: "tmp/", mode: 0o1777},
		{name: "usr/", mode: 0o755},
		{name: "usr/lib/", mode: 0o755},
		{name: "usr/lib/jvm/", mode: 0o755},
		{name: "usr/lib/jvm/java-17-openjdk-amd64/", mode: 0o755},
		{name: "usr/lib/jvm/java-17-openjdk-amd64/bin/", mode: 0o755},
		{name: "usr/lib/jvm/java-17-openjdk-amd64/bin/java", mode: 0o755, data: "placeholder for the java launcher (jbuild sample image)\n"},
		{name: "usr/lib/jvm/java-17-openjdk-amd64/release", mode: 0o644, data: "JAVA_VERSION=\"17.0.12\"\nIMPLEMENTOR=\"Debian\"\n"},
		{name: "app/", mode: 0o755},
		{name: "app/app.jar", mode: 0o644, data: string(jar)},
	}, nil
}

// appJar is a minimal jar (a zip with a manifest), with fixed timestamps.
func appJar() ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "META-INF/MANIFEST.MF", Method: zip.Deflate, Modified: Created})
	if err != nil {
		return nil, err
	}
	io.WriteString(w, "Manifest-Version: 1.0\r\nMain-Class: com.example.app.Main\r\nCreated-By: jbuild sampleimage\r\n\r\n")
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RootFSTar returns the uncompressed rootfs tar.
func RootFSTar() ([]byte, error) {
	entries, err := files()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: Created,
			Format:  tar.FormatPAX,
		}
		if e.name[len(e.name)-1] == '/' {
			hdr.Typeflag = tar.TypeDir
		} else {
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RootFS returns the rootfs as a gzip OCI layer.
func RootFS() (v1.Layer, error) {
	data, err := RootFSTar()
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}
