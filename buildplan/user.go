package buildplan

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

const (
	passwdPath = "/etc/passwd"
	groupPath  = "/etc/group"
	// maxAccountFile bounds what is read of /etc/passwd and /etc/group; real
	// ones are a few KB, anything beyond 1 MiB is not an account database.
	maxAccountFile = 1 << 20
)

// ResolveUser turns the config's USER into numeric ids the way the container
// runtime does (runc/containerd): "" and "root" are 0:0; "uid:gid" is taken
// as is; a name is looked up in the image's /etc/passwd, a group name in
// /etc/group; a numeric uid without a group gets the primary group of the
// passwd entry with that uid, or gid 0 when there is none. The image's files
// are read only when a name or a bare uid needs them.
func ResolveUser(img Image) (User, error) {
	spec := img.Config.User
	u := User{Spec: spec}
	if spec == "" {
		u.Evidence = []string{"config: USER not set: root (0:0)"}
		return u, nil
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" || (hasGroup && groupPart == "") {
		return u, fmt.Errorf("USER %q of image %s is malformed: want NAME, UID, NAME:GROUP or UID:GID", spec, img.Reference)
	}
	uid, uidErr := parseID(userPart)
	gid, gidErr := parseID(groupPart)
	numericUID, numericGID := uidErr == nil, hasGroup && gidErr == nil

	if numericUID && numericGID {
		u.UID, u.GID = uid, gid
		u.Evidence = []string{fmt.Sprintf("config: USER %s", spec)}
		return u, nil
	}
	if userPart == "root" && !hasGroup {
		u.Evidence = []string{"config: USER root (0:0)"}
		return u, nil
	}

	// Everything else needs the account files.
	u.Evidence = []string{fmt.Sprintf("config: USER %s", spec)}
	needPasswd := !numericUID || !hasGroup
	var pw []passwdEntry
	if needPasswd {
		data, err := readAccountFile(img, passwdPath)
		switch {
		case err == nil:
			pw = parsePasswd(data)
		case errors.Is(err, fs.ErrNotExist) && numericUID:
			// A bare uid in an image without /etc/passwd is legal: runc
			// then runs with gid 0.
			u.Evidence = append(u.Evidence, "file: /etc/passwd absent")
		case errors.Is(err, fs.ErrNotExist):
			return u, fmt.Errorf("USER %q of image %s: the image has no /etc/passwd to resolve the name; use a numeric USER uid:gid", spec, img.Reference)
		default:
			return u, fmt.Errorf("reading /etc/passwd: %w", err)
		}
	}

	var entry *passwdEntry
	if numericUID {
		u.UID = uid
		for i := range pw {
			if pw[i].uid == uid {
				entry = &pw[i]
				break
			}
		}
	} else {
		for i := range pw {
			if pw[i].name == userPart {
				entry = &pw[i]
				break
			}
		}
		if entry == nil {
			return u, fmt.Errorf("USER %q of image %s: no user %q in the image's /etc/passwd; use a numeric USER uid:gid or add the user to the image", spec, img.Reference, userPart)
		}
		u.UID = entry.uid
		u.Evidence = append(u.Evidence, fmt.Sprintf("file: /etc/passwd: %s has uid %d", userPart, entry.uid))
	}

	switch {
	case numericGID:
		u.GID = gid
	case hasGroup:
		data, err := readAccountFile(img, groupPath)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return u, fmt.Errorf("USER %q of image %s: the image has no /etc/group to resolve group %q; use a numeric gid", spec, img.Reference, groupPart)
			}
			return u, fmt.Errorf("reading /etc/group: %w", err)
		}
		g, ok := lookupGroup(data, groupPart)
		if !ok {
			return u, fmt.Errorf("USER %q of image %s: no group %q in the image's /etc/group; use a numeric gid", spec, img.Reference, groupPart)
		}
		u.GID = g
		u.Evidence = append(u.Evidence, fmt.Sprintf("file: /etc/group: %s has gid %d", groupPart, g))
	case entry != nil:
		u.GID = entry.gid
		u.Evidence = append(u.Evidence, fmt.Sprintf("file: /etc/passwd: uid %d has primary gid %d", entry.uid, entry.gid))
	default:
		u.GID = 0
		u.Evidence = append(u.Evidence, fmt.Sprintf("uid %d is not in /etc/passwd: gid 0, as the container runtime does", uid))
	}
	return u, nil
}

func readAccountFile(img Image, p string) ([]byte, error) {
	if img.FS == nil {
		return nil, fmt.Errorf("%s: image files are not available: %w", p, fs.ErrNotExist)
	}
	return img.FS.ReadFile(p, maxAccountFile)
}

// parseID accepts a decimal id in the range container runtimes accept.
func parseID(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

type passwdEntry struct {
	name     string
	uid, gid int
}

// parsePasswd reads name:pw:uid:gid:... lines, skipping malformed ones the
// way libc does rather than failing on a stray comment.
func parsePasswd(data []byte) []passwdEntry {
	var out []passwdEntry
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) < 4 || f[0] == "" || strings.HasPrefix(f[0], "#") {
			continue
		}
		uid, err1 := parseID(f[2])
		gid, err2 := parseID(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, passwdEntry{name: f[0], uid: uid, gid: gid})
	}
	return out
}

// lookupGroup finds a group by name (or a number that is not a name) in
// /etc/group content.
func lookupGroup(data []byte, name string) (int, bool) {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) < 3 || f[0] != name {
			continue
		}
		if gid, err := parseID(f[2]); err == nil {
			return gid, true
		}
	}
	return 0, false
}
