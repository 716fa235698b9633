package buildplan

import (
	"fmt"
	"io"
	"strings"
)

// WriteText renders the plan for people: what was found and why, what is
// added and with which owner, how each variable changes, which labels are
// set. It is what `jbuild plan` and `wrap --dry-run` print.
func (p *Plan) WriteText(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.line("Image:     %s", p.Source)
	if p.SourceDigest != "" {
		tw.line("Digest:    %s", p.SourceDigest)
	}
	tw.line("Profile:   %s", p.Profile)
	tw.finding("Runtime", p.Runtime)
	if p.RuntimeVersion.Value != "" {
		tw.finding("Version", p.RuntimeVersion)
	}
	tw.finding("Libc", p.Libc)
	tw.finding("Arch", p.Arch)

	user := fmt.Sprintf("%d:%d", p.User.UID, p.User.GID)
	if p.User.Spec != "" {
		user = fmt.Sprintf("%s (%s)", p.User.Spec, user)
	} else {
		user = "root (0:0)"
	}
	tw.line("User:      %s", user)
	for _, e := range p.User.Evidence {
		tw.line("             - %s", e)
	}

	agent := p.Labels[LabelAgent]
	if p.Agent.Version != "" {
		agent += " " + p.Agent.Version
	}
	if p.Agent.Source != "" {
		agent += " from " + p.Agent.Source
	}
	tw.line("Agent:     %s", strings.TrimSpace(agent))
	if p.Agent.Digest != "" {
		tw.line("           %s", p.Agent.Digest)
	}
	if len(p.Carried) > 0 {
		tw.line("Carried:   %s (from the image being upgraded; a value given now wins)", strings.Join(p.Carried, ", "))
	}

	var files, dirs, links int
	var size int64
	for _, e := range p.Layer {
		switch e.Type {
		case TypeFile:
			files++
			size += e.Size
		case TypeDir:
			dirs++
		case TypeSymlink:
			links++
		}
	}
	tw.line("")
	tw.line("Agent layer:    %s (%d files, %d directories, %d symlinks, %s)", p.InstallDir, files, dirs, links, HumanSize(size))
	tw.line("                the agent as shipped: root:root, directories 0755, files 0644 (0755 executables);")
	tw.line("                the same bytes for every image wrapped with this agent")
	if len(p.Settings) == 0 {
		tw.line("Settings layer: none (no config file or writable dir for this image: the agent layer is the only layer added)")
	} else {
		tw.line("Settings layer: %d entries for this image", len(p.Settings))
	}
	for _, e := range p.Settings {
		tw.line("                %-7s %04o %d:%d %s", e.Type, e.Mode, e.UID, e.GID, e.Path)
	}
	for _, e := range p.Settings {
		if e.Type == TypeFile && e.Content != nil && e.Path != p.ConfigFile {
			tw.block("Generated "+e.Path, string(e.Content))
		}
	}
	if p.ConfigFile != "" {
		for _, e := range p.Settings {
			if e.Path == p.ConfigFile {
				tw.block("Config "+e.Path, string(e.Content))
			}
		}
	}

	tw.line("")
	tw.line("Environment:")
	if len(p.Env) == 0 {
		tw.line("  (unchanged)")
	}
	for _, c := range p.Env {
		op := string(c.Op)
		if c.Separator != "" {
			op += fmt.Sprintf(" %q", c.Separator)
		}
		before := "(unset)"
		if c.HadBefore {
			before = c.Before
		}
		switch {
		case c.HadBefore && c.Before == c.After:
			tw.line("  %s [%s] unchanged: %s", c.Name, op, c.After)
		default:
			tw.line("  %s [%s]", c.Name, op)
			tw.line("    before: %s", before)
			tw.line("    after:  %s", c.After)
		}
	}

	tw.line("")
	tw.line("Labels:")
	for _, k := range sortedKeys(p.Labels) {
		tw.line("  %s=%s", k, p.Labels[k])
	}
	if len(p.Unread) > 0 {
		tw.line("")
		tw.line("Layers not read (their history says they cannot change what planning looks at):")
		for _, u := range p.Unread {
			tw.line("  %s", u)
		}
	}
	if len(p.Warnings) > 0 {
		tw.line("")
		tw.line("Warnings:")
		for _, wr := range p.Warnings {
			tw.line("  ! %s", wr)
		}
	}
	return tw.err
}

type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) line(format string, args ...any) {
	if t.err != nil {
		return
	}
	_, t.err = fmt.Fprintf(t.w, format+"\n", args...)
}

func (t *textWriter) finding(label string, f Finding) {
	v := f.Value
	if v == "" {
		v = "(unknown)"
	}
	t.line("%-10s %s", label+":", v)
	for _, e := range f.Evidence {
		t.line("             - %s", e)
	}
}

func (t *textWriter) block(title, content string) {
	t.line("")
	t.line("%s:", title)
	for _, l := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
		t.line("  | %s", l)
	}
}

// HumanSize renders a byte count with binary units ("1.5 MiB"), as plans
// and jbuild's progress display show sizes.
func HumanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
