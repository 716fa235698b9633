package k8s

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// Offline is the Image `jbuild k8s --offline` works with: what the flags
// say instead of the image config. The writable directories come from the
// profile (ProfileVolumes), since the io.jbuild.volumes label is not read.
func Offline(ref string, prof *buildplan.Profile, uid, gid *int64) *Image {
	img := &Image{Ref: ref, Labels: map[string]string{buildplan.LabelProfile: prof.Name}, Profile: prof, UID: uid, GID: gid}
	if v := ProfileVolumes(prof); len(v) > 0 {
		img.Labels[buildplan.LabelVolumes] = strings.Join(v, ",")
	}
	return img
}

// ParseUser reads --user UID[:GID] (numeric: a pod's runAsUser is a number).
func ParseUser(s string) (uid, gid *int64, err error) {
	u, g, hasGroup := strings.Cut(s, ":")
	un, err := strconv.ParseInt(u, 10, 64)
	if err != nil || un < 0 || un > 1<<31-1 {
		return nil, nil, fmt.Errorf("--user %q: write a numeric UID[:GID] such as 1000:1000 (a pod's runAsUser is a number; names are resolved only from a readable image)", s)
	}
	uid = &un
	if hasGroup {
		gn, err := strconv.ParseInt(g, 10, 64)
		if err != nil || gn < 0 || gn > 1<<31-1 {
			return nil, nil, fmt.Errorf("--user %q: the group must be a number too", s)
		}
		gid = &gn
	}
	return uid, gid, nil
}

var nonDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// DefaultName derives a resource name from an image reference: the last
// part of the repository ("registry.example.com/shop/api:1.2" -> "api"),
// lowercased, other characters turned into '-', at most 63 characters.
func DefaultName(repository string) string {
	last := repository[strings.LastIndex(repository, "/")+1:]
	n := strings.Trim(nonDNS.ReplaceAllString(strings.ToLower(last), "-"), "-")
	if len(n) > 63 {
		n = strings.Trim(n[:63], "-")
	}
	if n == "" {
		n = "app"
	}
	return n
}

// Pinned writes ref by digest, keeping the user's spelling of the
// repository and the tag, so a reader still sees which version it is:
// "reg.example.com/shop/api:1.2-jennifer" + digest ->
// "reg.example.com/shop/api:1.2-jennifer@sha256:..." (kubelet, containerd
// and Docker pull by the digest and ignore the tag). A digest already in
// ref is replaced.
func Pinned(ref, digest string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	return ref + "@" + digest
}
