package transport

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestIsPlatformImage(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    v1.Descriptor
		want bool
	}{
		{"platform image", v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}, true},
		{"attestation", v1.Descriptor{MediaType: types.OCIManifestSchema1, Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}}, false},
		{"no platform", v1.Descriptor{MediaType: types.OCIManifestSchema1}, false},
		{"nested index", v1.Descriptor{MediaType: types.OCIImageIndex, Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}, false},
	} {
		if got := IsPlatformImage(tc.d); got != tc.want {
			t.Errorf("%s: IsPlatformImage = %v, want %v", tc.name, got, tc.want)
		}
	}
}
