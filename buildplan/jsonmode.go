package buildplan

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
)

// Modes in a plan's JSON (plan -o json, wrap --dry-run -o json) are octal
// strings as people write them ("0755"), not fs.FileMode's number (a
// directory's 0755 is 2147484141). The agent's files get their type as
// "type". AgentFile's own encoding is left as it is: it is stored in agent
// images' index label (internal/agent), whose bytes must not change.

// MarshalJSON writes the mode as an octal string.
func (e LayerEntry) MarshalJSON() ([]byte, error) {
	type plain LayerEntry
	return json.Marshal(struct {
		plain
		Mode string `json:"mode"`
	}{plain(e), octal(e.Mode)})
}

// UnmarshalJSON reads the mode as an octal string or a number.
func (e *LayerEntry) UnmarshalJSON(b []byte) error {
	type plain LayerEntry
	var v struct {
		*plain
		Mode json.RawMessage `json:"mode"`
	}
	v.plain = (*plain)(e)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	m, err := parseJSONMode(v.Mode)
	e.Mode = m
	return err
}

// agentFileView is an AgentFile as a plan shows it.
type agentFileView struct {
	Path string `json:"path"`
	Type string `json:"type"`
	Mode string `json:"mode"`
	Size int64  `json:"size,omitempty"`
	Link string `json:"link,omitempty"`
}

// MarshalJSON writes the agent with its files' modes as octal strings and
// their types (dir, file, symlink) apart.
func (a Agent) MarshalJSON() ([]byte, error) {
	type plain Agent
	files := make([]agentFileView, len(a.Files))
	for i, f := range a.Files {
		files[i] = agentFileView{Path: f.Path, Type: fileType(f.Mode), Mode: octal(f.Mode), Size: f.Size, Link: f.Link}
	}
	return json.Marshal(struct {
		plain
		Files []agentFileView `json:"files"`
	}{plain(a), files})
}

func octal(m fs.FileMode) string {
	p := m.Perm()
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return fmt.Sprintf("%04o", uint32(p))
}

func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return string(TypeDir)
	case m&fs.ModeSymlink != 0:
		return string(TypeSymlink)
	case m.IsRegular():
		return string(TypeFile)
	}
	return m.Type().String()
}

func parseJSONMode(raw json.RawMessage) (fs.FileMode, error) {
	if len(raw) == 0 {
		return 0, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, err := strconv.ParseUint(s, 8, 32)
		if err != nil || n > 0o7777 {
			return 0, fmt.Errorf("mode %q: want an octal mode such as 0755", s)
		}
		m := fs.FileMode(n & 0o777)
		if n&0o4000 != 0 {
			m |= fs.ModeSetuid
		}
		if n&0o2000 != 0 {
			m |= fs.ModeSetgid
		}
		if n&0o1000 != 0 {
			m |= fs.ModeSticky
		}
		return m, nil
	}
	var n uint32
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("mode %s: want an octal string such as \"0755\"", raw)
	}
	return fs.FileMode(n), nil
}
