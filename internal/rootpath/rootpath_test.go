package rootpath

import (
	"errors"
	"io/fs"
	"testing"
)

type node struct {
	mode fs.FileMode
	link string
}

func lstatOf(tree map[string]node) Lstat[string] {
	return func(p string) (string, fs.FileMode, string, error) {
		n, ok := tree[p]
		if !ok {
			return "", 0, "", fs.ErrNotExist
		}
		return p, n.mode, n.link, nil
	}
}

func TestResolve(t *testing.T) {
	tree := map[string]node{
		"/":            {mode: fs.ModeDir},
		"/etc":         {mode: fs.ModeDir},
		"/etc/passwd":  {},
		"/usr":         {mode: fs.ModeDir},
		"/usr/lib":     {mode: fs.ModeDir},
		"/lib":         {mode: fs.ModeSymlink, link: "usr/lib"},
		"/usr/lib/x":   {},
		"/up":          {mode: fs.ModeSymlink, link: "../../../etc/passwd"},
		"/abs":         {mode: fs.ModeSymlink, link: "/etc"},
		"/loop":        {mode: fs.ModeSymlink, link: "/loop"},
		"/usr/lib/rel": {mode: fs.ModeSymlink, link: "../../etc/passwd"},
	}
	for in, want := range map[string]string{
		"/lib/x":       "/usr/lib/x",
		"/up":          "/etc/passwd", // ".." stays inside the root
		"/abs/passwd":  "/etc/passwd",
		"/lib/rel":     "/etc/passwd",
		"/":            "/",
		"etc//passwd/": "/etc/passwd",
	} {
		got, info, err := Resolve(in, lstatOf(tree))
		if err != nil || got != want || info != want {
			t.Errorf("Resolve(%q) = %q, %q, %v; want %q", in, got, info, err, want)
		}
	}
	if _, _, err := Resolve("/loop", lstatOf(tree)); !errors.Is(err, ErrLoop) {
		t.Errorf("loop: %v", err)
	}
	if _, _, err := Resolve("/lib/missing", lstatOf(tree)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
