package buildplan

import (
	"strings"
	"testing"
)

// files[].mode is read as written: unquoted YAML octal numbers ("0666",
// "0755") came through as their decimal value ("438", "493"), quoted in
// errors as the author never wrote them, and "0644" silently became 0420.
func TestProfileModeAsWritten(t *testing.T) {
	for _, tt := range []struct {
		mode string // as in the YAML
		want uint32
		err  string
	}{
		{"0644", 0o644, ""},
		{`"0644"`, 0o644, ""},
		{"0755", 0o755, ""},
		{"755", 0o755, ""},
		{"0o755", 0o755, ""},
		{"0666", 0o666, ""}, // masked to 0644 in the layer, like any mode
		{"0668", 0, `files[0].mode: "0668" is not an octal file mode`},
		{"0x1ff", 0, `files[0].mode: "0x1ff" is not an octal file mode`},
		{"rwxr-xr-x", 0, `"rwxr-xr-x" is not an octal file mode`},
		{"017777", 0, `"017777" is not an octal file mode`},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			p, err := ParseProfile([]byte(minimalProfile+"files:\n  - path: a.ini\n    content: x\n    mode: "+tt.mode+"\n"), "p.yaml")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m, err := parseMode(p.Files[0].Mode); err != nil || m != tt.want {
				t.Errorf("mode %q = %o (%v), want %o", p.Files[0].Mode, m, err, tt.want)
			}
		})
	}
	// JSON profiles give the mode as a string; a number is taken as written.
	if _, err := ParseProfile([]byte(`{"name":"t","agent":"T","runtime":"java","installDir":"/opt/t","files":[{"path":"a","content":"x","mode":"0755"}]}`), "p.json"); err != nil {
		t.Errorf("JSON profile: %v", err)
	}
}
