package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"
)

// Marshal writes the manifests as one multi-document YAML stream
// (Deployment, Service, HorizontalPodAutoscaler), for `kubectl apply -f`.
// Fields the API server fills in (status, creationTimestamp) are left out;
// header lines become "# " comments at the top.
func (m *Manifests) Marshal(header ...string) ([]byte, error) {
	var buf bytes.Buffer
	for _, h := range header {
		for _, l := range strings.Split(h, "\n") {
			buf.WriteString(strings.TrimRight("# "+l, " ") + "\n")
		}
	}
	for i, obj := range []any{m.Deployment, m.Service, m.HPA} {
		y, err := marshalObject(obj)
		if err != nil {
			return nil, err
		}
		if i > 0 || buf.Len() > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(y)
	}
	return buf.Bytes(), nil
}

// marshalObject drops what only the API server writes.
func marshalObject(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var generic map[string]any
	if err := json.Unmarshal(j, &generic); err != nil {
		return nil, err
	}
	delete(generic, "status")
	prune(generic)
	y, err := yaml.Marshal(generic)
	if err != nil {
		return nil, fmt.Errorf("writing YAML: %w", err)
	}
	return y, nil
}

// droppable are fields k8s.io/api types write as {} for zero structs; an
// empty object anywhere else (emptyDir: {}) means something and stays.
var droppable = map[string]bool{"strategy": true, "resources": true, "status": true}

// prune removes null fields (creationTimestamp: null) and the empty objects
// above, recursively.
func prune(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			prune(e)
			if sub, ok := e.(map[string]any); e == nil || (ok && len(sub) == 0 && droppable[k]) {
				delete(t, k)
			}
		}
	case []any:
		for _, e := range t {
			prune(e)
		}
	}
}
