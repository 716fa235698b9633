package k8s

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/jbuild-dev/jbuild/internal/imagefs"
)

// maxWalk bounds the agent files lint looks at.
const maxWalk = 5000

// identity is the process's user and groups in the pod.
type identity struct {
	uid    int64
	groups map[int64]bool
}

// podIdentity is the effective runAsUser (container over pod) and the
// groups the process has: runAsGroup, fsGroup, supplementalGroups. nil
// when the pod keeps the image's user.
func (l *containerLint) podIdentity() (*identity, string) {
	var uid, gid *int64
	field := ""
	ps := l.w.Pod.SecurityContext
	if ps != nil {
		if ps.RunAsUser != nil {
			uid, field = ps.RunAsUser, l.w.PodPath+".securityContext.runAsUser"
		}
		gid = ps.RunAsGroup
	}
	if cs := l.c.SecurityContext; cs != nil {
		if cs.RunAsUser != nil {
			uid, field = cs.RunAsUser, l.field+".securityContext.runAsUser"
		}
		if cs.RunAsGroup != nil {
			gid = cs.RunAsGroup
		}
	}
	if uid == nil && gid == nil {
		return nil, ""
	}
	id := &identity{groups: map[int64]bool{}}
	if uid != nil {
		id.uid = *uid
	} else {
		id.uid = *l.img.UID
		field = l.field + ".securityContext.runAsGroup"
	}
	if gid != nil {
		id.groups[*gid] = true
	} else if uid == nil || *uid == *l.img.UID {
		id.groups[*l.img.GID] = true
	}
	if ps != nil {
		if ps.FSGroup != nil {
			id.groups[*ps.FSGroup] = true
		}
		for _, g := range ps.SupplementalGroups {
			id.groups[g] = true
		}
	}
	return id, field
}

// checkUser: a runAsUser/runAsGroup other than the image's must still read
// the agent files and write the agent's directories that are not mounted
// volumes (owned by the image's user, group-writable).
func (l *containerLint) checkUser() {
	img := l.img
	if img == nil || img.Profile == nil || img.UID == nil || img.GID == nil || img.Files == nil {
		return
	}
	id, field := l.podIdentity()
	if id == nil || id.uid == 0 || (id.uid == *img.UID && id.groups[*img.GID]) {
		return
	}
	prof := img.Profile
	// Writable dirs on the image's filesystem (not replaced by a mount).
	var cannotWrite []string
	dirs := make([]string, 0, len(prof.WritableDirs)+len(prof.Volumes))
	for _, d := range prof.WritableDirs {
		dirs = append(dirs, path.Join(prof.InstallDir, d))
	}
	dirs = append(dirs, prof.Volumes...)
	for _, d := range dirs {
		if i, why := writableMount(l.w.Pod, l.c, d); i >= 0 && why == "" {
			continue // an emptyDir or the like: writable by fsGroup
		}
		if readOnlyRoot(l.c) {
			continue // read-only anyway; checkMounts says what must be mounted
		}
		fi, err := img.Files.Stat(d)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				l.add(SeverityWarning, RuleUser, field, fmt.Sprintf("could not read the image's files to check %s: %v", d, err), "make the image's layers readable")
				return
			}
			continue
		}
		if !id.permits(fi, 0o3) {
			cannotWrite = append(cannotWrite, describe(d, fi))
		}
	}
	// Agent files readable.
	var cannotRead []string
	n := 0
	var walk func(dir string)
	walk = func(dir string) {
		des, err := img.Files.ReadDir(dir)
		if err != nil {
			return
		}
		for _, de := range des {
			if n++; n > maxWalk {
				return
			}
			p := path.Join(dir, de.Name())
			fi, err := de.Info()
			if err != nil || fi.Mode()&fs.ModeSymlink != 0 {
				continue
			}
			need := fs.FileMode(0o4)
			if fi.IsDir() {
				need = 0o5
			}
			if !id.permits(fi, need) {
				cannotRead = append(cannotRead, describe(p, fi))
			}
			if fi.IsDir() {
				walk(p)
			}
		}
	}
	walk(prof.InstallDir)
	sort.Strings(cannotRead)
	user := fmt.Sprintf("runAsUser %d with groups %s", id.uid, groupList(id.groups))
	if len(cannotRead) > 0 {
		l.add(SeverityError, RuleUser, field,
			fmt.Sprintf("%s cannot read the agent's files: %s", user, strings.Join(first(cannotRead, 5), ", ")),
			fmt.Sprintf("run as the image's user (runAsUser: %d, runAsGroup: %d)", *img.UID, *img.GID))
	}
	if len(cannotWrite) > 0 {
		l.add(SeverityError, RuleUser, field,
			fmt.Sprintf("%s cannot write the agent's directories %s (they belong to the image's user %d:%d): the agent cannot write its logs and settings", user, strings.Join(cannotWrite, ", "), *img.UID, *img.GID),
			fmt.Sprintf("run as the image's user (runAsUser: %d), or give the pod group %d (runAsGroup or fsGroup: %d), or mount emptyDirs there", *img.UID, *img.GID, *img.GID))
	}
}

func (id *identity) permits(fi fs.FileInfo, need fs.FileMode) bool {
	own, _ := fi.Sys().(imagefs.Owner)
	perm := fi.Mode().Perm()
	switch {
	case int64(own.UID) == id.uid:
		return (perm>>6)&need == need
	case id.groups[int64(own.GID)]:
		return (perm>>3)&need == need
	}
	return perm&need == need
}

func describe(p string, fi fs.FileInfo) string {
	own, _ := fi.Sys().(imagefs.Owner)
	return fmt.Sprintf("%s (%d:%d %04o)", p, own.UID, own.GID, fi.Mode().Perm())
}

func groupList(g map[int64]bool) string {
	var s []string
	for k := range g {
		s = append(s, fmt.Sprint(k))
	}
	sort.Strings(s)
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ",")
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
