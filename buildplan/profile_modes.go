package buildplan

import (
	yaml "go.yaml.in/yaml/v3"
)

// modesAsWritten puts each files[].mode back as the profile's text has it.
// The profile goes through YAML-to-JSON conversion, where an unquoted
// "mode: 0666" is the YAML 1.1 octal number 438 and becomes the string
// "438": an error then quoted a number the author never wrote, and
// "mode: 0644" silently turned into 0420 (read as octal). A mode is octal
// text, so the text as written is what counts, quoted or not.
func modesAsWritten(data []byte, p *Profile) {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) != 1 {
		return // already decoded once; nothing to correct
	}
	files := mapValue(doc.Content[0], "files")
	if files == nil || files.Kind != yaml.SequenceNode || len(files.Content) != len(p.Files) {
		return
	}
	for i, f := range files.Content {
		if m := mapValue(f, "mode"); m != nil && m.Kind == yaml.ScalarNode && m.Tag != "!!null" {
			p.Files[i].Mode = m.Value
		}
	}
}

// mapValue is the value of key in a mapping node, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
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
