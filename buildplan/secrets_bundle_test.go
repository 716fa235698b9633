package buildplan

import (
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Credentials the agent bundle's own config file brings along end up in
// the image's layer: the plan warns about them like about jbuild's own.
func TestPlanWarnsOnBundleConfigSecrets(t *testing.T) {
	prof, err := ParseProfile([]byte(minimalProfile+`
config:
  path: conf/a.conf
  format: keyvalue
  values: {server_address: "${SERVER_ADDRESS}", server_port: "${SERVER_PORT}", domain_id: "${DOMAIN_ID}"}
  defaults: {log_dir: "${INSTALL_DIR}/logs"}
`), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prof.InstallDir = "/srv/apm/jennifer17"
	img := Image{Reference: "app:1", Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispec.ImageConfig{Entrypoint: []string{"java", "-jar", "/app.jar"}, User: "0:0"}}
	conf := "server_address = x\ndb_password = hunter2\nlicense_key = ACME-1234\napi_token = t0k\npassword_masking = true\n"
	agent := Agent{Source: "a.zip", Files: []AgentFile{{Path: "conf/a.conf", Size: int64(len(conf))}},
		ReadFile: func(string) ([]byte, error) { return []byte(conf), nil }}
	plan, err := Make(img, prof, agent, Options{ServerAddress: "10.0.0.5", ServerPort: 5000, DomainID: 1000})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan.Warnings, "\n")
	for _, k := range []string{"db_password", "license_key", "api_token"} {
		if !strings.Contains(all, k+" in the agent config file conf/a.conf (from the agent bundle's own file) looks like a secret") {
			t.Errorf("no warning for the bundle's %s:\n%s", k, all)
		}
	}
	for _, k := range []string{"server_address", "log_dir", "password_masking"} {
		if strings.Contains(all, k+" in the agent config file") {
			t.Errorf("a warning for %s:\n%s", k, all)
		}
	}
}
