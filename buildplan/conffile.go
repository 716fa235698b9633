package buildplan

import (
	"strings"
)

// MergeConfig writes values into an agent config file, keeping everything
// else of the bundle's own file (comments, other keys, their order): agents
// ship tuned defaults and users pre-configure bundles, and jbuild must only
// touch what it was asked to. Values with an empty value are ignored (the
// bundle's value stays); defaults apply only where the key ends up empty.
//
// keyvalue files are "key = value" lines; ini files additionally have
// [section]s, accept ":" as separator and compare keys case-insensitively,
// as Python's configparser does. Comment lines ("#", ";") are never edited,
// so "# log_dir = /tmp" stays a comment and the key is appended instead.
func MergeConfig(base []byte, format ConfigFormat, section string, values, defaults map[string]string) string {
	c := parseConfigFile(string(base), format, section)
	for _, k := range configKeyOrder(values, defaults) {
		if v := values[k]; v != "" {
			c.set(k, v)
		} else if v := defaults[k]; v != "" && c.get(k) == "" {
			c.set(k, v)
		}
	}
	return c.String()
}

// wellKnownKeys come first when keys are appended, in the order JENNIFER's
// own sample configs use, so a generated file reads naturally; other keys
// follow sorted (profile maps carry no order).
var wellKnownKeys = []string{"server_address", "server_port", "domain_id", "inst_id"}

func configKeyOrder(maps ...map[string]string) []string {
	all := map[string]bool{}
	for _, m := range maps {
		for k := range m {
			all[k] = true
		}
	}
	var out []string
	for _, k := range wellKnownKeys {
		if all[k] {
			out = append(out, k)
			delete(all, k)
		}
	}
	return append(out, sortedKeys(all)...)
}

// configValue returns the value of key in rendered config content.
func configValue(content string, format ConfigFormat, section, key string) string {
	return parseConfigFile(content, format, section).get(key)
}

type configFile struct {
	format  ConfigFormat
	section string
	lines   []string
	// sectionEnd is the index after the last non-blank line of the target
	// section (ini), or -1 when the section is absent.
	sectionEnd int
}

func parseConfigFile(s string, format ConfigFormat, section string) *configFile {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	c := &configFile{format: format, section: section, sectionEnd: -1}
	if s != "" {
		c.lines = strings.Split(s, "\n")
		// CRs left at a line's end (a file cut after "\r", found by
		// FuzzRenderConfig) would pair with the "\n" jbuild writes after
		// it and the next run would read another file.
		for i, l := range c.lines {
			c.lines[i] = strings.TrimRight(l, "\r")
		}
		// Blank lines at the end are dropped: "\r" and "\n" must render
		// the same, twice.
		for len(c.lines) > 0 && c.lines[len(c.lines)-1] == "" {
			c.lines = c.lines[:len(c.lines)-1]
		}
	}
	c.scan()
	return c
}

// scan recomputes sectionEnd.
func (c *configFile) scan() {
	c.sectionEnd = -1
	if c.format != FormatINI {
		return
	}
	in := false
	for i, l := range c.lines {
		t := strings.TrimSpace(l)
		if name, ok := sectionHeader(t); ok {
			in = name == c.section
			if in && c.sectionEnd < 0 {
				c.sectionEnd = i + 1
			}
			continue
		}
		if in && t != "" {
			c.sectionEnd = i + 1
		}
	}
}

func sectionHeader(t string) (string, bool) {
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		return strings.TrimSpace(t[1 : len(t)-1]), true
	}
	return "", false
}

// entries calls fn for every key line in scope with its index, key, value.
func (c *configFile) entries(fn func(i int, key, value string)) {
	c.scanEntries(false, fn)
}

// configEntries lists every key line of a config file as {key, value}, in
// every section of an ini file: all of it ends up in the image.
func configEntries(content string, format ConfigFormat) [][2]string {
	var out [][2]string
	parseConfigFile(content, format, "").scanEntries(true, func(_ int, k, v string) {
		out = append(out, [2]string{k, v})
	})
	return out
}

// scanEntries is entries, in all sections when allSections is set.
func (c *configFile) scanEntries(allSections bool, fn func(i int, key, value string)) {
	in := c.format != FormatINI || allSections
	for i, l := range c.lines {
		t := strings.TrimSpace(l)
		if c.format == FormatINI {
			if name, ok := sectionHeader(t); ok {
				in = name == c.section || allSections
				continue
			}
		}
		if !in || t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
			continue
		}
		sep := strings.IndexByte(t, '=')
		if c.format == FormatINI {
			if j := strings.IndexByte(t, ':'); j >= 0 && (sep < 0 || j < sep) {
				sep = j
			}
		}
		if sep < 0 {
			continue
		}
		fn(i, strings.TrimSpace(t[:sep]), strings.TrimSpace(t[sep+1:]))
	}
}

func (c *configFile) sameKey(a, b string) bool {
	if c.format == FormatINI {
		return strings.EqualFold(a, b)
	}
	return a == b
}

func (c *configFile) get(key string) string {
	var v string
	c.entries(func(_ int, k, val string) {
		if c.sameKey(k, key) {
			v = val // the last one wins, as in every parser we know
		}
	})
	return v
}

func (c *configFile) set(key, value string) {
	line := key + " = " + value
	found := false
	c.entries(func(i int, k, _ string) {
		if c.sameKey(k, key) {
			c.lines[i] = line
			found = true
		}
	})
	if found {
		return
	}
	switch {
	case c.format != FormatINI:
		c.lines = append(c.lines, line)
	case c.sectionEnd < 0:
		if len(c.lines) > 0 {
			c.lines = append(c.lines, "")
		}
		c.lines = append(c.lines, "["+c.section+"]", line)
	default:
		c.lines = append(c.lines[:c.sectionEnd], append([]string{line}, c.lines[c.sectionEnd:]...)...)
	}
	c.scan()
}

func (c *configFile) String() string {
	if len(c.lines) == 0 {
		return ""
	}
	return strings.Join(c.lines, "\n") + "\n"
}
