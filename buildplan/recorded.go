package buildplan

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
)

// LabelSettings records, as JSON, the settings the agent of this image runs
// with (Recorded): the data server address and port, the domain and the
// profile parameters the user gave. An agent upgrade (wrapping jbuild's
// output again with a new agent) carries them forward, so a new bundle's
// own config or the profile's defaults never silently replace what the
// image was monitored with.
const LabelSettings = "io.jbuild.settings"

// Recorded is the content of LabelSettings. Values are the effective ones:
// what the agent's config file or env ended up with, whichever of the
// flags, the bundle's config or the profile's defaults supplied them.
type Recorded struct {
	ServerAddress string            `json:"serverAddress,omitempty"`
	ServerPort    int               `json:"serverPort,omitempty"`
	DomainID      int               `json:"domainId,omitempty"`
	Params        map[string]string `json:"params,omitempty"`
}

// ParseRecorded reads LabelSettings from an image's labels; nil when the
// image has none.
func ParseRecorded(labels map[string]string) (*Recorded, error) {
	v, ok := labels[LabelSettings]
	if !ok || v == "" {
		return nil, nil
	}
	var r Recorded
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("label %s: %w", LabelSettings, err)
	}
	return &r, nil
}

func (r *Recorded) label() string {
	b, _ := json.Marshal(r) // plain strings and ints: cannot fail
	return string(b)
}

// carryForward fills the options the user did not give from the settings
// recorded in the image being upgraded (precedence: a value given now, then
// the image's, then the bundle's config, then the profile's default). It
// returns what it carried, for the summary.
func carryForward(opts *Options, prof *Profile) ([]string, error) {
	prev := opts.Previous
	if prev == nil {
		return nil, nil
	}
	// The label is input like any other: a value that would break the
	// agent's config is refused, named by where it came from.
	if err := CheckServerAddress("label "+LabelSettings+" serverAddress", prev.ServerAddress); err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(prev.Params) {
		if err := CheckValue("label "+LabelSettings+" params."+name, prev.Params[name]); err != nil {
			return nil, err
		}
	}
	var carried []string
	if opts.ServerAddress == "" && prev.ServerAddress != "" {
		opts.ServerAddress = prev.ServerAddress
		carried = append(carried, "server address "+prev.ServerAddress)
	}
	if opts.ServerPort == 0 && prev.ServerPort > 0 {
		opts.ServerPort = prev.ServerPort
		carried = append(carried, "server port "+strconv.Itoa(prev.ServerPort))
	}
	if opts.DomainID == 0 && prev.DomainID > 0 {
		opts.DomainID = prev.DomainID
		carried = append(carried, "domain id "+strconv.Itoa(prev.DomainID))
	}
	for _, name := range sortedKeys(prev.Params) {
		if _, declared := prof.Params[name]; !declared {
			continue // another agent's parameter: it has no meaning here
		}
		if _, given := opts.Params[name]; given {
			continue
		}
		opts.Params = maps.Clone(opts.Params)
		if opts.Params == nil {
			opts.Params = map[string]string{}
		}
		opts.Params[name] = prev.Params[name]
		carried = append(carried, opts.names().Name(OptParam(name)))
	}
	return carried, nil
}

// effectiveSettings is what the agent ends up with: the server settings as
// the rendered config file has them (a key templated from the variable
// alone), else as the variables have them, plus the parameters given.
func effectiveSettings(prof *Profile, vars map[string]string, configContent string, params map[string]string) *Recorded {
	value := func(name string) string {
		if c := prof.Config; c != nil && configContent != "" {
			for _, k := range sortedKeys(c.Values) {
				if c.Values[k] == "${"+name+"}" {
					if v := configValue(configContent, c.Format, c.Section, k); v != "" {
						return v
					}
				}
			}
		}
		return vars[name]
	}
	r := &Recorded{ServerAddress: value(VarServerAddress), Params: maps.Clone(params)}
	r.ServerPort, _ = strconv.Atoi(value(VarServerPort))
	r.DomainID, _ = strconv.Atoi(value(VarDomainID))
	if len(r.Params) == 0 {
		r.Params = nil
	}
	return r
}
