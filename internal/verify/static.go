package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

// Base is the image a monitored variant was made from, when it can be found
// (nil: the config comparison is skipped).
type Base func(ctx context.Context, name, digest string) (v1.Image, error)

// Image verifies one platform image statically.
//
// prof is the agent's profile (verify --profile FILE, for an image made
// before outputs carried theirs); nil: the one the image carries, else the
// built-in one it names.
func Image(ctx context.Context, name string, img v1.Image, base Base, prof *buildplan.Profile) (*Report, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading config of %s: %w", name, err)
	}
	r := &Report{Image: name, Platform: platformString(cf)}
	labels := cf.Config.Labels

	// 1. Labels.
	var missing []string
	for _, k := range []string{buildplan.LabelVersion, buildplan.LabelProfile, buildplan.LabelRuntime, buildplan.LabelAgent} {
		if labels[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		r.add("jbuild labels", false, "missing %s: not a jbuild output (wrap it first)", strings.Join(missing, ", "))
		return r, nil
	}
	agent := labels[buildplan.LabelAgent]
	if v := labels[buildplan.LabelAgentVersion]; v != "" {
		agent += " " + v
	} else {
		agent += " (version unknown)"
	}
	r.add("jbuild labels", true, "profile %s, runtime %s, agent %s, jbuild %s", labels[buildplan.LabelProfile], labels[buildplan.LabelRuntime], agent, labels[buildplan.LabelVersion])
	if prof == nil {
		prof, err = templates.ForImage(labels)
	}
	if err != nil {
		r.skip("agent files", "profile %s is neither in the image's %s label (made by an older jbuild) nor built in: %v (pass it with --profile FILE)", labels[buildplan.LabelProfile], buildplan.LabelProfileDoc, err)
		return r, nil
	}

	// 2-4. Files, owners, modes, against the image's own user.
	fsys := imagefs.New(img, name, buildplan.ContentPaths())
	user, err := buildplan.ResolveUser(buildplan.Image{Reference: name, Config: wrap.OCIConfig(cf.Config), FS: fsys})
	if err != nil {
		r.add("runtime user", false, "%v", err)
		return r, nil
	}
	r.add("runtime user", true, "%s = %d:%d", orRoot(user.Spec), user.UID, user.GID)
	checkFiles(r, fsys, prof, user)

	// 5. Environment.
	checkEnv(r, prof, cf.Config.Env)

	// 6. Everything else is the base's.
	if bimg := checkUnchanged(ctx, r, cf, base); bimg != nil {
		checkBaseFolders(r, fsys, imagefs.New(bimg, "the base of "+name, nil), prof.InstallDir)
	}
	return r, nil
}

// checkBaseFolders: the folders above the install dir that the base has
// keep their type, owner, mode and symlink target (the agent layer's own
// root 0755 parents must not show through).
func checkBaseFolders(r *Report, img, base *imagefs.FS, installDir string) {
	var changed []string
	for p := path.Dir(installDir); p != "/"; p = path.Dir(p) {
		b, err := base.Lookup(p)
		if err != nil {
			continue // the agent added it
		}
		i, err := img.Lookup(p)
		if err != nil {
			changed = append(changed, fmt.Sprintf("%s: gone (%v)", p, err))
			continue
		}
		if b != i {
			changed = append(changed, fmt.Sprintf("%s: base %d:%d %v %q, image %d:%d %v %q", p, b.UID, b.GID, b.Mode, b.Link, i.UID, i.GID, i.Mode, i.Link))
		}
	}
	sort.Strings(changed)
	r.add("base folders kept", len(changed) == 0, "%s", listOr(changed, "owner, mode and links of the folders above "+installDir+" as in the base"))
}

func checkFiles(r *Report, fsys *imagefs.FS, prof *buildplan.Profile, user buildplan.User) {
	var files, unreadable, badOwner, setid []string
	writable := map[string]bool{}
	for _, d := range prof.WritableDirs {
		writable[path.Join(prof.InstallDir, d)] = true
	}
	inWritable := func(p string) bool {
		for d := range writable {
			if p == d || strings.HasPrefix(p, d+"/") {
				return true
			}
		}
		return false
	}
	var walk func(dir string) error
	walk = func(dir string) error {
		des, err := fsys.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, de := range des {
			p := path.Join(dir, de.Name())
			fi, err := de.Info()
			if err != nil {
				return err
			}
			own, _ := fi.Sys().(imagefs.Owner)
			mode := fi.Mode()
			files = append(files, p)
			if mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
				setid = append(setid, p)
			}
			if mode&fs.ModeSymlink == 0 && !readable(mode, own, user) {
				unreadable = append(unreadable, p)
			}
			if !inWritable(p) && mode&fs.ModeSymlink == 0 && (own.UID != 0 || mode&0o022 != 0) {
				badOwner = append(badOwner, fmt.Sprintf("%s (%d:%d %04o)", p, own.UID, own.GID, mode.Perm()))
			}
			if mode.IsDir() {
				if err := walk(p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if _, err := fsys.Stat(prof.InstallDir); err != nil {
		r.add("agent files", false, "%s is missing: %v", prof.InstallDir, err)
		return
	}
	if err := walk(prof.InstallDir); err != nil {
		r.add("agent files", false, "reading %s: %v", prof.InstallDir, err)
		return
	}
	var missing []string
	// A marker may be a pattern (opentelemetry-javaagent*.jar).
	for _, m := range prof.BundleMarkers {
		found := false
		for _, f := range files {
			if rel, ok := strings.CutPrefix(f, prof.InstallDir+"/"); ok && buildplan.MarkerMatches(m, rel) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, m)
		}
	}
	switch {
	case len(missing) > 0:
		r.add("agent files", false, "%s lacks %s", prof.InstallDir, strings.Join(missing, ", "))
	default:
		r.add("agent files", true, "%d entries under %s", len(files), prof.InstallDir)
	}
	r.add("readable by the runtime user", len(unreadable) == 0, "%s", listOr(unreadable, "every agent file and directory"))
	r.add("root-owned, not writable by others", len(badOwner) == 0, "%s", listOr(badOwner, "outside the writable dirs"))
	r.add("no setuid/setgid", len(setid) == 0, "%s", listOr(setid, "none"))

	var notWritable []string
	for d := range writable {
		fi, err := fsys.Stat(d)
		if err != nil {
			notWritable = append(notWritable, d+" (missing)")
			continue
		}
		own, _ := fi.Sys().(imagefs.Owner)
		if !writableBy(fi.Mode(), own, user) {
			notWritable = append(notWritable, fmt.Sprintf("%s (%d:%d %04o)", d, own.UID, own.GID, fi.Mode().Perm()))
		}
	}
	sort.Strings(notWritable)
	r.add("writable dirs writable by the runtime user", len(notWritable) == 0, "%s", listOr(notWritable, fmt.Sprintf("%d dirs", len(writable))))
}

// readable: r for files, r+x for directories, by owner, group or others.
func readable(mode fs.FileMode, own imagefs.Owner, u buildplan.User) bool {
	need := fs.FileMode(0o4)
	if mode.IsDir() {
		need = 0o5
	}
	return permits(mode, own, u, need)
}

func writableBy(mode fs.FileMode, own imagefs.Owner, u buildplan.User) bool {
	return mode.IsDir() && permits(mode, own, u, 0o3)
}

func permits(mode fs.FileMode, own imagefs.Owner, u buildplan.User, need fs.FileMode) bool {
	if u.UID == 0 {
		return true // root reads and writes everything (CAP_DAC_OVERRIDE)
	}
	perm := mode.Perm()
	switch {
	case own.UID == u.UID:
		return (perm>>6)&need == need
	case own.GID == u.GID:
		return (perm>>3)&need == need
	}
	return perm&need == need
}

// checkEnv: every variable the profile sets is there and carries the
// profile's value (values that depend on the user's settings only need to
// be present).
func checkEnv(r *Report, prof *buildplan.Profile, env []string) {
	have := map[string]string{}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		have[k] = v
	}
	var bad []string
	for _, spec := range prof.Env {
		v, ok := have[spec.Name]
		want := strings.ReplaceAll(spec.Value, "${"+buildplan.VarInstallDir+"}", prof.InstallDir)
		concrete := !strings.Contains(want, "${")
		switch {
		case !ok && spec.Value != "" && (concrete || spec.Required):
			bad = append(bad, spec.Name+" unset")
		case !ok:
		case concrete && spec.Op == buildplan.EnvSet && v != want:
			bad = append(bad, fmt.Sprintf("%s=%q, want %q", spec.Name, v, want))
		case concrete && (spec.Op == buildplan.EnvAppend || spec.Op == buildplan.EnvPrepend) && !strings.Contains(v, want):
			bad = append(bad, fmt.Sprintf("%s=%q lacks %q", spec.Name, v, want))
		}
	}
	r.add("environment activates the agent", len(bad) == 0, "%s", listOr(bad, fmt.Sprintf("%d variables as profile %s sets them", len(prof.Env), prof.Name)))
}

// checkUnchanged compares the config with the base's; it returns the base
// image when it could be read.
func checkUnchanged(ctx context.Context, r *Report, cf *v1.ConfigFile, base Base) v1.Image {
	labels := cf.Config.Labels
	name, digest := labels[buildplan.LabelBaseName], labels[buildplan.LabelBaseDigest]
	if base == nil || (digest == "" && labels[buildplan.LabelRestore] == "") {
		r.skip("unchanged from the base", "no base recorded (a frontend build older than %s) or no way to read it", buildplan.LabelRestore)
		return nil
	}
	bimg, err := base(ctx, name, digest)
	if err != nil {
		r.skip("unchanged from the base", "base %s@%s not readable: %v", name, digest, errors.Unwrap(err))
		return nil
	}
	bcf, err := bimg.ConfigFile()
	if err != nil {
		r.skip("unchanged from the base", "reading the base config: %v", err)
		return nil
	}
	var diffs []string
	cmp := func(field string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			diffs = append(diffs, fmt.Sprintf("%s: base %v, image %v", field, a, b))
		}
	}
	c, b := cf.Config, bcf.Config
	cmp("entrypoint", b.Entrypoint, c.Entrypoint)
	cmp("cmd", b.Cmd, c.Cmd)
	cmp("user", b.User, c.User)
	cmp("workdir", b.WorkingDir, c.WorkingDir)
	cmp("exposed ports", b.ExposedPorts, c.ExposedPorts)
	cmp("healthcheck", b.Healthcheck, c.Healthcheck)
	cmp("stop signal", b.StopSignal, c.StopSignal)
	for k, v := range b.Labels {
		// jbuild's own labels (the base was an output before) change.
		if c.Labels[k] != v && !strings.HasPrefix(k, "org.opencontainers.image.base.") && !strings.HasPrefix(k, "io.jbuild.") {
			diffs = append(diffs, fmt.Sprintf("label %s: base %q, image %q", k, v, c.Labels[k]))
		}
	}
	sort.Strings(diffs)
	where := name + "@" + digest
	if digest == "" {
		where = "the base rebuilt from its " + buildplan.LabelRestore + " record"
	}
	r.add("unchanged from the base", len(diffs) == 0, "%s", listOr(diffs, "entrypoint, cmd, user, workdir, ports, labels, healthcheck as in "+where))
	return bimg
}

func listOr(items []string, ok string) string {
	if len(items) == 0 {
		return ok
	}
	if len(items) > 8 {
		return strings.Join(items[:8], "; ") + fmt.Sprintf("; and %d more", len(items)-8)
	}
	return strings.Join(items, "; ")
}

func orRoot(s string) string {
	if s == "" {
		return "(root)"
	}
	return s
}

func platformString(cf *v1.ConfigFile) string {
	s := cf.OS + "/" + cf.Architecture
	if cf.Variant != "" {
		s += "/" + cf.Variant
	}
	return s
}
