// Package yamlnode reads yaml.v3 node trees, for the places that need a
// value as it is written (a profile's file mode, a manifest's image field
// and its position) rather than as it decodes.
package yamlnode

import yaml "go.yaml.in/yaml/v3"

// Get returns the value of key in a mapping node, or nil when n is not a
// mapping or has no such key.
func Get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
