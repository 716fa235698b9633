package runcheck

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

// Prepare fills opts for a restricted-pod run of img, a jbuild output, from
// the image itself: a listener (when opts.Listener is nil), the agent
// config from the image pointed at it (ProfileOverride: the profile's
// runCheck env and config, else the values that take the server address
// and port), the run check's kind (opts.Check, when nil), a tmpfs for every
// io.jbuild.volumes directory (added to opts.Volumes), and, when opts.User
// is empty, the image's user as numeric ids, so the volumes are owned by
// it. img is the same image the engine runs (as read from a registry, a
// layout or the engine); its layers are read for the config file and
// /etc/passwd only.
func Prepare(img v1.Image, opts *Options) error {
	cf, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("runcheck: reading the image config: %w", err)
	}
	labels := cf.Config.Labels
	fsys := imagefs.New(img, opts.Image, []string{labels[buildplan.LabelConfig], "/etc/passwd", "/etc/group"})

	if opts.User == "" {
		u, err := buildplan.ResolveUser(buildplan.Image{Reference: opts.Image, Config: wrap.OCIConfig(cf.Config), FS: fsys})
		if err != nil {
			return fmt.Errorf("runcheck: %w", err)
		}
		opts.User = fmt.Sprintf("%d:%d", u.UID, u.GID)
	}
	if v := labels[buildplan.LabelVolumes]; v != "" {
		for _, d := range strings.Split(v, ",") {
			if !slices.Contains(opts.Volumes, d) {
				opts.Volumes = append(opts.Volumes, d)
			}
		}
	}
	var content []byte
	if p := labels[buildplan.LabelConfig]; p != "" {
		if content, err = fsys.ReadFile(p, 1<<20); err != nil {
			return fmt.Errorf("runcheck: reading the agent config %s from the image: %w", p, err)
		}
	}
	if opts.Listener == nil {
		if opts.Listener, err = Listen(); err != nil {
			return err
		}
	}
	prof := opts.Profile
	if prof == nil {
		if labels[buildplan.LabelProfile] == "" {
			opts.Listener.Close()
			return fmt.Errorf("runcheck: the image has no %s label: not made by jbuild", buildplan.LabelProfile)
		}
		if prof, err = templates.ForImage(labels); err != nil {
			opts.Listener.Close()
			return fmt.Errorf("runcheck: %w", err)
		}
	}
	ov, env, err := ProfileOverride(prof, labels[buildplan.LabelConfig], content, "127.0.0.1", Port(opts.Listener))
	if err != nil {
		opts.Listener.Close()
		return err
	}
	if opts.Check == nil {
		opts.Check = prof.RunCheck
	}
	opts.Config = ov
	opts.Env = append(opts.Env, env...)
	return nil
}
