package buildplan

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// FuzzParseProfile: arbitrary bytes never panic the parser, and a profile
// it accepts holds only values that can be written into an image config
// and a config file, and survives a round trip through YAML whole (every
// field, an empty list or map coming back as none).
func FuzzParseProfile(f *testing.F) {
	files, _ := filepath.Glob("../templates/profiles/*.yaml")
	more, _ := filepath.Glob("../templates/profiles/examples/*.yaml")
	for _, p := range append(append(files, more...), "testdata/profiles/secret-params.yaml") {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(minimalProfile))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile(data, "fuzz.yaml")
		if err != nil {
			return
		}
		for i, e := range p.Env {
			if err := CheckEnvName("env", e.Name); err != nil {
				t.Fatalf("accepted env[%d] name: %v", i, err)
			}
			for _, v := range []string{e.Value, e.ValueIfUnset, e.Fallback, e.Separator} {
				if err := CheckValue("env", v); err != nil {
					t.Fatalf("accepted env[%d]: %v", i, err)
				}
			}
		}
		if c := p.Config; c != nil {
			for k, v := range c.Values {
				if strings.ContainsAny(k, "=\n\r") {
					t.Fatalf("accepted config key %q", k)
				}
				if err := CheckValue("config", v); err != nil {
					t.Fatalf("accepted config value: %v", err)
				}
			}
		}
		out, err := yaml.Marshal(p)
		if err != nil {
			t.Fatalf("accepted profile does not marshal: %v", err)
		}
		p2, err := ParseProfile(out, "fuzz.yaml")
		if err != nil {
			t.Fatalf("accepted profile does not parse back: %v\n%s", err, out)
		}
		want, got := *p, *p2
		nilEmpty(reflect.ValueOf(&want))
		nilEmpty(reflect.ValueOf(&got))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip changed the profile:\n%#v\n%#v\n%s", want, got, out)
		}
	})
}

// nilEmpty sets every empty slice and map reachable from v (a pointer) to
// nil: YAML leaves them out (omitempty), so they come back as nil.
func nilEmpty(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			nilEmpty(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			nilEmpty(v.Field(i))
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if v.CanSet() {
				v.SetZero()
			}
			return
		}
		for i := range v.Len() {
			nilEmpty(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 && v.CanSet() {
			v.SetZero()
		}
	}
}

// FuzzMergeEnv: for any image env and one change (of a valid name, as
// profiles guarantee), MergeEnv never duplicates a variable, is idempotent
// (wrapping a wrapped image changes nothing), keeps the image's own value
// of the variable (an append adds after it, a prepend before it, a default
// leaves it), and keeps every other variable as it was, in order.
func FuzzMergeEnv(f *testing.F) {
	f.Add("JAVA_TOOL_OPTIONS=-Xmx512m\nPATH=/usr/bin", "JAVA_TOOL_OPTIONS", byte(2), "-javaagent:/opt/a.jar", " ", "")
	f.Add("PHP_INI_SCAN_DIR=:/etc/php.d", "PHP_INI_SCAN_DIR", byte(3), "/opt/php.d", ":", ":/opt/php.d")
	f.Add("NODE_OPTIONS=--require /x", "NODE_OPTIONS", byte(2), "--require /x", " ", "")
	f.Add("A=1\nA=2\nB", "A", byte(1), "3", "", "")
	f.Add("", "CORECLR_PROFILER", byte(0), "{6C7CAF0F-D0E5-4274-A71B-6551761BBDC8}", "", "")
	f.Add("PYTHONPATH=/app:", "PYTHONPATH", byte(3), "/opt/boot", ":", "")
	f.Fuzz(func(t *testing.T, envText, name string, op byte, value, sep, unset string) {
		if CheckEnvName("name", name) != nil {
			t.Skip("profiles only hold valid names")
		}
		ops := []EnvOp{EnvSet, EnvDefault, EnvAppend, EnvPrepend}
		c := EnvChange{Name: name, Op: ops[int(op)%len(ops)], Value: value, Separator: sep, ValueIfUnset: unset}
		if (c.Op == EnvAppend || c.Op == EnvPrepend) && !validSeparator(sep) {
			t.Skip("profiles give append and prepend a one-character separator")
		}
		var env []string
		if envText != "" {
			env = strings.Split(envText, "\n")
		}
		count := func(env []string, n string) int {
			k := 0
			for _, e := range env {
				if k2, _, _ := strings.Cut(e, "="); k2 == n {
					k++
				}
			}
			return k
		}
		out, done := MergeEnv(env, []EnvChange{c})
		if len(done) != 1 {
			t.Fatalf("%d changes reported for one", len(done))
		}
		if before, after := count(env, name), count(out, name); after > max(before, 1) {
			t.Fatalf("%s appears %d times (was %d): %q", name, after, before, out)
		}
		// The image's value (the name's last entry, which the runtime
		// reads) is the start of the appended value and the end of the
		// prepended one, whole (a leading ":" of PHP_INI_SCAN_DIR's
		// ":/default" included).
		last := func(env []string) (string, bool) {
			for i := len(env) - 1; i >= 0; i-- {
				if k, v, _ := strings.Cut(env[i], "="); k == name {
					return v, true
				}
			}
			return "", false
		}
		if have, _ := last(env); have != "" {
			got, _ := last(out)
			switch c.Op {
			case EnvAppend:
				if !strings.HasPrefix(got, have) {
					t.Fatalf("append lost the image's value %q: %q", have, got)
				}
			case EnvPrepend:
				if !strings.HasSuffix(got, have) {
					t.Fatalf("prepend lost the image's value %q: %q", have, got)
				}
			case EnvDefault:
				if got != have {
					t.Fatalf("default replaced the image's value %q: %q", have, got)
				}
			}
		}
		again, _ := MergeEnv(out, []EnvChange{c})
		if !slices.Equal(again, out) {
			t.Fatalf("not idempotent:\nonce  %q\ntwice %q", out, again)
		}
		var keptIn, keptOut []string
		for _, e := range env {
			if k, _, _ := strings.Cut(e, "="); k != name {
				keptIn = append(keptIn, e)
			}
		}
		for _, e := range out {
			if k, _, _ := strings.Cut(e, "="); k != name {
				keptOut = append(keptOut, e)
			}
		}
		if !slices.Equal(keptIn, keptOut) {
			t.Fatalf("other variables changed:\nin  %q\nout %q", keptIn, keptOut)
		}
	})
}

// readConf is a reader of agent config files written for the tests, apart
// from the renderer's own parser: "key = value" lines (ini: "key: value"
// too, keys in any case, only those of section), "#" and ";" comments,
// the last line of a key wins. It returns the keys (lower case for ini)
// and their trimmed values.
func readConf(content string, ini bool, section string) map[string]string {
	vals := map[string]string{}
	in := !ini
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if ini && line[0] == '[' && line[len(line)-1] == ']' {
			in = strings.TrimSpace(line[1:len(line)-1]) == section
			continue
		}
		seps := "="
		if ini {
			seps = "=:"
		}
		i := strings.IndexAny(line, seps)
		if !in || i < 0 {
			continue
		}
		k := strings.TrimSpace(line[:i])
		if ini {
			k = strings.ToLower(k)
		}
		vals[k] = strings.TrimSpace(line[i+1:])
	}
	return vals
}

// FuzzRenderConfig: the agent config file renderer keeps the bundle's
// other lines and the values of its other keys, gives every key it sets
// exactly the (trimmed) value asked for, a default only where the bundle
// has no value, and is idempotent, for any bundle file and any value that
// passes CheckValue. Values are read back both with the renderer's parser
// and with readConf, which shares no code with it.
func FuzzRenderConfig(f *testing.F) {
	f.Add("# conf\nserver_address = 127.0.0.1\r\nenable_x = true\n", false, "server_address", "10.0.0.5", "server_port", "5000")
	f.Add("[OTHER]\nserver_address = keep\n[JENNIFER]\nSERVER_ADDRESS = old\nfoo: bar\n", true, "server_address", "10.0.0.5", "domain_id", "1000")
	f.Add("", true, "inst_id", "-1", "log_dir", "/tmp")
	f.Add("a=b\n[JENNIFER\n", false, "a", " c ", "b", "")
	// keyvalue keys are case-sensitive: the other key keeps its value.
	f.Add("SERVER_ADDRESS = keep\nserver_address = old\n", false, "server_address", "10.0.0.5", "domain_id", "1000")
	f.Fuzz(func(t *testing.T, base string, ini bool, k1, v1, k2, v2 string) {
		format, section := FormatKeyValue, ""
		if ini {
			format, section = FormatINI, "JENNIFER"
		}
		v := &validator{}
		v.configKey("k1", k1)
		v.configKey("k2", k2)
		if len(v.errs) > 0 || CheckValue("v1", v1) != nil || CheckValue("v2", v2) != nil {
			t.Skip("profiles and options refuse these")
		}
		values := map[string]string{k1: v1}
		defaults := map[string]string{k2: v2}
		out := MergeConfig([]byte(base), format, section, values, defaults)
		if again := MergeConfig([]byte(out), format, section, values, defaults); again != out {
			t.Fatalf("not idempotent:\nonce\n%s\ntwice\n%s", out, again)
		}
		got := configValue(out, format, section, k1)
		sameKey := k1 == k2 || (ini && strings.EqualFold(k1, k2))
		if want := strings.TrimSpace(v1); want != "" && got != want {
			t.Fatalf("%s = %q, want %q\n%s", k1, got, want, out)
		}
		if !sameKey && strings.TrimSpace(v1) != "" {
			if got2 := configValue(out, format, section, k2); got2 == "" && strings.TrimSpace(v2) != "" {
				t.Fatalf("default %s not applied:\n%s", k2, out)
			}
		}
		// Read independently: what an agent reading the file finds.
		key := func(k string) string {
			if ini {
				return strings.ToLower(k)
			}
			return k
		}
		in, read := readConf(base, ini, section), readConf(out, ini, section)
		if want := strings.TrimSpace(v1); want != "" && read[key(k1)] != want {
			t.Fatalf("read back, %s = %q, want %q\n%s", k1, read[key(k1)], want, out)
		}
		if !sameKey && strings.TrimSpace(v1) != "" {
			want := in[key(k2)]
			if want == "" {
				want = strings.TrimSpace(v2)
			}
			if read[key(k2)] != want {
				t.Fatalf("read back, %s = %q, want %q (the bundle's %q, else the default)\n%s", k2, read[key(k2)], want, in[key(k2)], out)
			}
		}
		for k, v := range in {
			if k != key(k1) && k != key(k2) && read[k] != v {
				t.Fatalf("the bundle's %s = %q became %q:\n%s", k, v, read[k], out)
			}
		}
		// Lines are only ever replaced or added, never dropped (a file of
		// blank lines and CRs only may come out empty).
		nonBlank := func(s string) int {
			n := 0
			for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
				if strings.Trim(l, "\r") != "" {
					n++
				}
			}
			return n
		}
		if n, m := nonBlank(base), nonBlank(out); m < n {
			t.Fatalf("rendered file has %d lines, the bundle's %d:\n%q\n%q", m, n, base, out)
		}
	})
}
