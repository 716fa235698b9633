package goimage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// staged fills in opts' defaults, stages the spec for them in a temporary
// directory (stage) and calls f with both; the directory is removed after.
func (s Spec) staged(ctx context.Context, opts Options, f func(Options, string) error) error {
	opts, err := opts.withDefaults(s)
	if err != nil {
		return fmt.Errorf("building the %s image: %w", s.Name, err)
	}
	dir, err := os.MkdirTemp("", "jbuild-goimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := s.stage(ctx, opts, dir); err != nil {
		return fmt.Errorf("building the %s image: %w", s.Name, err)
	}
	return f(opts, dir)
}

// stage writes what the layers are made of into dir: one binary per
// platform (binName), and the content of every other file and an empty
// directory for every directory with more than permission bits (source).
func (s Spec) stage(ctx context.Context, opts Options, dir string) error {
	if err := compileAll(ctx, s, opts, dir); err != nil {
		return err
	}
	for i, f := range s.Files {
		name := filepath.Join(dir, s.source(i, v1.Platform{}))
		switch {
		case f.Dir && f.Mode&^0o777 != 0:
			if err := os.Mkdir(name, 0o755); err != nil {
				return err
			}
		case f.Dir || f.Content == Binary:
		case f.Content == HostCACerts:
			certs, err := os.ReadFile(opts.HostCACerts)
			if err != nil {
				return fmt.Errorf("CA certificates for registry TLS: %w (install ca-certificates, or pass another bundle)", err)
			}
			if err := os.WriteFile(name, certs, 0o644); err != nil {
				return err
			}
		default:
			if err := os.WriteFile(name, []byte(f.Data), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// source is the name in the staging directory of what file i is made of
// on platform p.
func (s Spec) source(i int, p v1.Platform) string {
	if f := s.Files[i]; !f.Dir && f.Content == Binary {
		return binName(p)
	}
	return fmt.Sprintf("file-%d", i)
}
