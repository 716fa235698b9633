package templates

import "testing"

func TestForAgentFile(t *testing.T) {
	for name, want := range map[string]string{
		"opentelemetry-javaagent-2.33.1.jar": "opentelemetry-java",
		"opentelemetry-javaagent.jar":        "opentelemetry-java",
		"jennifer.jar":                       "",
		"app.jar":                            "",
	} {
		p, err := ForAgentFile(name, "--profile")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := ""
		if p != nil {
			got = p.Name
		}
		if got != want {
			t.Errorf("%s: profile %q, want %q", name, got, want)
		}
	}
}
