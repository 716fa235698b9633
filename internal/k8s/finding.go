package k8s

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// Severity of a finding: an error defeats monitoring (the pods run without
// the agent, or the agent cannot work); a warning may, depending on what
// the manifest's author intended or on what lint could not see.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

func (s Severity) String() string { return string(s) }

// Rules, as findings name them.
const (
	RuleNotMonitored = "not-monitored"
	RuleEnvOverride  = "env-override"
	RuleEnvFrom      = "env-from"
	RuleEnvPrefix    = "env-prefix"
	RuleCommand      = "command"
	RuleReadOnlyRoot = "read-only-root"
	RuleHiddenFiles  = "mount-hides-agent"
	RuleUser         = "user"
	RuleUnreadable   = "image-unreadable"
)

// Finding is one problem in one container of one manifest object.
type Finding struct {
	Severity  Severity `json:"severity"`
	Rule      string   `json:"rule"`
	File      string   `json:"file"`
	Resource  string   `json:"resource"` // Kind/name
	Container string   `json:"container,omitempty"`
	Image     string   `json:"image,omitempty"`
	// Field is the path of the offending field in the object
	// ("spec.template.spec.containers[0].env[1]").
	Field   string `json:"field"`
	Message string `json:"message"`
	// Fix says what to change.
	Fix string `json:"fix"`
}

// Report is the outcome of linting some manifests.
type Report struct {
	Findings []Finding `json:"findings"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	// Checked counts the containers looked at.
	Checked int `json:"containersChecked"`
}

func (r *Report) add(f Finding) {
	r.Findings = append(r.Findings, f)
	if f.Severity == SeverityError {
		r.Errors++
	} else {
		r.Warnings++
	}
}

// sort orders findings by file, document order (kept by a stable sort),
// errors first within a container.
func (r *Report) sort() {
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.File != b.File || a.Resource != b.Resource || a.Container != b.Container {
			return false
		}
		return a.Severity == SeverityError && b.Severity != SeverityError
	})
}

// WriteText prints one block per finding and a summary line.
func (r *Report) WriteText(w io.Writer) {
	for _, f := range r.Findings {
		where := f.Resource
		if f.Container != "" {
			where += " container " + f.Container
		}
		fmt.Fprintf(w, "%s: %s: %s: %s: %s\n  fix: %s\n", f.File, f.Severity, where, f.Field, f.Message, f.Fix)
	}
	fmt.Fprintf(w, "%d error(s), %d warning(s) in %d container(s)\n", r.Errors, r.Warnings, r.Checked)
}

// WriteJSON prints the report as JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
