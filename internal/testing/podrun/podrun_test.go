package podrun

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: demo
spec:
  selector:
    matchLabels: {app: demo}
  template:
    metadata:
      labels: {app: demo}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        runAsGroup: 2000
        fsGroup: 3000
        supplementalGroups: [4000]
      containers:
        - name: sidecar
          image: busybox
        - name: app
          image: registry.example.com/demo:1-jennifer
          ports:
            - {name: http, containerPort: 8080}
          readinessProbe:
            httpGet: {path: health, port: http}
          env:
            - {name: GREETING, value: hi}
            - {name: MESSAGE, value: "$(GREETING) from $(POD_NAME), $(UNKNOWN), $$(GREETING) costs $$5"}
            - name: POD_NAME
              valueFrom: {fieldRef: {fieldPath: metadata.name}}
            - {name: LATER, value: "$(POD_NAME)"}
          securityContext:
            runAsUser: 1001
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
          volumeMounts:
            - {name: tmp, mountPath: /tmp}
            - {name: logs, mountPath: /opt/jennifer/agent.java/logs}
      volumes:
        - {name: tmp, emptyDir: {}}
        - {name: logs, emptyDir: {medium: Memory}}
`

func decode(t *testing.T, s string) *appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict([]byte(s), &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestOptions(t *testing.T) {
	d := decode(t, deployment)
	opts, err := Options(&d.Spec.Template.Spec, "app", Pod{Name: "demo-abc", Namespace: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Image != "registry.example.com/demo:1-jennifer" {
		t.Errorf("image %q", opts.Image)
	}
	// The container's runAsUser wins over the pod's; the group is the pod's.
	if opts.User != "1001:2000" {
		t.Errorf("user %q, want 1001:2000", opts.User)
	}
	if opts.FSGroup == nil || *opts.FSGroup != 3000 || !slices.Equal(opts.SupplementalGroups, []int{4000}) {
		t.Errorf("fsGroup %v, supplemental %v", opts.FSGroup, opts.SupplementalGroups)
	}
	if !opts.ReadOnlyRoot || !opts.NoNewPrivileges || !opts.DropAllCapabilities {
		t.Errorf("read-only %v, no new privileges %v, drop all %v", opts.ReadOnlyRoot, opts.NoNewPrivileges, opts.DropAllCapabilities)
	}
	if want := []string{"/tmp", "/opt/jennifer/agent.java/logs"}; !slices.Equal(opts.Volumes, want) {
		t.Errorf("volumes %q, want %q", opts.Volumes, want)
	}
	want := []string{
		"GREETING=hi",
		// POD_NAME is defined after MESSAGE: kept as written, as kubelet does.
		"MESSAGE=hi from $(POD_NAME), $(UNKNOWN), $(GREETING) costs $5",
		"POD_NAME=demo-abc",
		"LATER=demo-abc",
	}
	if !slices.Equal(opts.Env, want) {
		t.Errorf("env\n got %q\nwant %q", opts.Env, want)
	}
	if opts.ProbeURL != "http://127.0.0.1:8080/health" {
		t.Errorf("probe %q", opts.ProbeURL)
	}

	// No name: the first container.
	first, err := Options(&d.Spec.Template.Spec, "", Pod{})
	if err != nil || first.Image != "busybox" || first.User != "1000:2000" || first.ReadOnlyRoot || len(first.Volumes) != 0 {
		t.Errorf("first container: %+v, %v", first, err)
	}
}

func TestOptionsRefuses(t *testing.T) {
	for _, c := range []struct {
		name, edit, want string
	}{
		{"command", `          image: registry.example.com/demo:1-jennifer
          command: [sh]`, "command and args"},
		{"hostPath", `        - {name: tmp, hostPath: {path: /tmp}}`, `volume "tmp" is not an emptyDir`},
		{"secret env", `            - {name: GREETING, valueFrom: {secretKeyRef: {name: s, key: k}}}`, "only valueFrom.fieldRef"},
		{"root", `            runAsUser: 0`, "runAsNonRoot with runAsUser 0"},
		{"cap add", `            capabilities: {drop: [ALL], add: [NET_ADMIN]}`, "added capabilities"},
		{"unknown port", `            httpGet: {path: health, port: web}`, `port "web" names no container port`},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := deployment
			old := map[string]string{
				"command":      "          image: registry.example.com/demo:1-jennifer",
				"hostPath":     "        - {name: tmp, emptyDir: {}}",
				"secret env":   "            - {name: GREETING, value: hi}",
				"root":         "            runAsUser: 1001",
				"cap add":      "            capabilities: {drop: [ALL]}",
				"unknown port": "            httpGet: {path: health, port: http}",
			}[c.name]
			if !strings.Contains(src, old) {
				t.Fatalf("test edit %q does not apply", old)
			}
			d := decode(t, strings.Replace(src, old, c.edit, 1))
			_, err := Options(&d.Spec.Template.Spec, "app", Pod{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
	d := decode(t, deployment)
	if _, err := Options(&d.Spec.Template.Spec, "nope", Pod{}); err == nil {
		t.Error("a missing container is not an error")
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two"}
	for in, want := range map[string]string{
		"":             "",
		"plain":        "plain",
		"$(A)-$(B)":    "1-two",
		"$(C)":         "$(C)",
		"$$(A)":        "$(A)",
		"$$":           "$",
		"a$":           "a$",
		"$x":           "$x",
		"$(A":          "$(A",
		"x$(A)y$(B)z$": "x1ytwoz$",
	} {
		if got := expand(in, vars); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}
