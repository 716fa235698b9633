package buildplan

import (
	yaml "go.yaml.in/yaml/v3"

	"github.com/jbuild-dev/jbuild/internal/yamlnode"
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
	files := yamlnode.Get(doc.Content[0], "files")
	if files == nil || files.Kind != yaml.SequenceNode || len(files.Content) != len(p.Files) {
		return
	}
	for i, f := range files.Content {
		if m := yamlnode.Get(f, "mode"); m != nil && m.Kind == yaml.ScalarNode && m.Tag != "!!null" {
			p.Files[i].Mode = m.Value
		}
	}
}
