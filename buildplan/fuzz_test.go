package buildplan

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// FuzzParseProfile: arbitrary bytes never panic the parser, and a profile
// it accepts holds only values that can be written into an image config
// and a config file, and survives a round trip through YAML.
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
		if p2.Name != p.Name || len(p2.Env) != len(p.Env) || p2.InstallDir != p.InstallDir {
			t.Fatalf("round trip changed the profile:\n%+v\n%+v", p, p2)
		}
	})
}

// FuzzMergeEnv: for any image env and one change (of a valid name, as
// profiles guarantee), MergeEnv never duplicates a variable, is idempotent
// (wrapping a wrapped image changes nothing), and keeps every other
// variable as it was, in order.
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

// FuzzRenderConfig: the agent config file renderer keeps the bundle's
// other lines, gives every key it sets exactly the (trimmed) value asked
// for, and is idempotent, for any bundle file and any value that passes
// CheckValue.
func FuzzRenderConfig(f *testing.F) {
	f.Add("# conf\nserver_address = 127.0.0.1\r\nenable_x = true\n", false, "server_address", "10.0.0.5", "server_port", "5000")
	f.Add("[OTHER]\nserver_address = keep\n[JENNIFER]\nSERVER_ADDRESS = old\nfoo: bar\n", true, "server_address", "10.0.0.5", "domain_id", "1000")
	f.Add("", true, "inst_id", "-1", "log_dir", "/tmp")
	f.Add("a=b\n[JENNIFER\n", false, "a", " c ", "b", "")
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
