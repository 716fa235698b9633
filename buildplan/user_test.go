package buildplan

import (
	"io/fs"
	"strings"
	"testing"
)

// accountFS serves /etc/passwd and /etc/group only, counting reads.
type accountFS struct {
	passwd, group *string
	reads         []string
}

func (a *accountFS) Stat(p string) (fs.FileInfo, error) { return nil, fs.ErrNotExist }
func (a *accountFS) ReadDir(p string) ([]fs.DirEntry, error) {
	return nil, fs.ErrNotExist
}
func (a *accountFS) Lookup(p string) (FileStat, error) {
	return FileStat{}, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
}
func (a *accountFS) ReadFile(p string, limit int64) ([]byte, error) {
	a.reads = append(a.reads, p)
	var s *string
	switch p {
	case "/etc/passwd":
		s = a.passwd
	case "/etc/group":
		s = a.group
	}
	if s == nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	return []byte(*s), nil
}

func TestResolveUser(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken line\napp:x:1000:1000::/home/app:/bin/sh\nweb:x:33:33::/var/www:/usr/sbin/nologin\n"
	group := "root:x:0:\nstaff:x:50:app\napp:x:1000:\n"
	tests := []struct {
		user      string
		noPasswd  bool
		uid, gid  int
		reads     string
		wantError string
	}{
		{user: "", uid: 0, gid: 0},
		{user: "root", uid: 0, gid: 0},
		{user: "0", uid: 0, gid: 0, reads: "/etc/passwd"},
		{user: "1000", uid: 1000, gid: 1000, reads: "/etc/passwd"},
		{user: "4242", uid: 4242, gid: 0, reads: "/etc/passwd"},
		{user: "4242", noPasswd: true, uid: 4242, gid: 0, reads: "/etc/passwd"},
		{user: "1000:1000", uid: 1000, gid: 1000},
		{user: "5000:6000", uid: 5000, gid: 6000},
		{user: "app", uid: 1000, gid: 1000, reads: "/etc/passwd"},
		{user: "web", uid: 33, gid: 33, reads: "/etc/passwd"},
		{user: "app:staff", uid: 1000, gid: 50, reads: "/etc/passwd,/etc/group"},
		{user: "app:1001", uid: 1000, gid: 1001, reads: "/etc/passwd"},
		{user: "1000:staff", uid: 1000, gid: 50, reads: "/etc/group"},
		{user: "nobody", wantError: `USER "nobody" of image img:1: no user "nobody" in the image's /etc/passwd`},
		{user: "app:wheel", wantError: `no group "wheel" in the image's /etc/group`},
		{user: "app", noPasswd: true, wantError: `the image has no /etc/passwd`},
		{user: "app:", wantError: `is malformed`},
	}
	for _, tt := range tests {
		name := tt.user
		if tt.noPasswd {
			name += " without passwd"
		}
		t.Run(name, func(t *testing.T) {
			afs := &accountFS{passwd: &passwd, group: &group}
			if tt.noPasswd {
				afs.passwd = nil
			}
			img := Image{Reference: "img:1", FS: afs}
			img.Config.User = tt.user
			u, err := ResolveUser(img)
			if tt.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantError) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.UID != tt.uid || u.GID != tt.gid || u.Spec != tt.user {
				t.Errorf("got %s %d:%d, want %d:%d", u.Spec, u.UID, u.GID, tt.uid, tt.gid)
			}
			if got := strings.Join(afs.reads, ","); got != tt.reads {
				t.Errorf("read %q, want %q", got, tt.reads)
			}
			if len(u.Evidence) == 0 {
				t.Error("no evidence")
			}
		})
	}
}
