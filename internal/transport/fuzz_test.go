package transport

import "testing"

// FuzzParse: Parse never panics, and every reference it accepts prints
// back (String) to a form Parse reads to the same reference.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"registry.example.com/app:1.0", "localhost:5000/a/b@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"app", "docker.io/library/app:latest", "oci:/tmp/layout:app-1.0", "oci:layout", "oci-archive:/a/b.tar:t",
		"docker-daemon:app:1", "containerd:docker.io/x/y:z", "docker-archive:/x.tar:app:1", "docker-archive:/x.tar",
		"dir:/x", "docker://x", "oci::t", "oci:/p:a/b", "", ":", "a:b:c", "[::1]:5000/x",
	} {
		f.Add(s)
	}
	for _, k := range storeKinds {
		for _, s := range k.Examples {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		out := r.String()
		r2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, out, err)
		}
		if out2 := r2.String(); out2 != out {
			t.Fatalf("Parse(%q).String() = %q, which parses back to %q", s, out, out2)
		}
		if r2.Kind != r.Kind || r2.Path != r.Path || r2.Tag != r.Tag {
			t.Fatalf("Parse(%q) = %+v, round trip gives %+v", s, r, r2)
		}
		_ = r.TagName()
	})
}
