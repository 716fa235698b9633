package yamlnode

import (
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

func TestGet(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte("a: 1\nb: {c: x}\n"), &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	if v := Get(root, "a"); v == nil || v.Value != "1" {
		t.Errorf("a = %v", v)
	}
	if v := Get(Get(root, "b"), "c"); v == nil || v.Value != "x" {
		t.Errorf("b.c = %v", v)
	}
	if Get(root, "z") != nil || Get(Get(root, "a"), "x") != nil || Get(nil, "a") != nil {
		t.Error("a missing key or a scalar gave a value")
	}
}
