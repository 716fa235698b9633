package verify

import (
	"fmt"
	"io"
)

// Check is one verified property.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	// Skipped: could not be checked (and is not a failure), Detail says why.
	Skipped bool `json:"skipped,omitempty"`
}

// Report is the result for one image (one platform).
type Report struct {
	Image    string  `json:"image"`
	Platform string  `json:"platform"`
	Checks   []Check `json:"checks"`
}

// OK reports whether no check failed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK && !c.Skipped {
			return false
		}
	}
	return true
}

func (r *Report) add(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

func (r *Report) skip(name, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, Skipped: true, Detail: fmt.Sprintf(format, args...)})
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%s (%s)\n", r.Image, r.Platform)
	for _, c := range r.Checks {
		mark := "ok  "
		switch {
		case c.Skipped:
			mark = "skip"
		case !c.OK:
			mark = "FAIL"
		}
		if c.Detail != "" {
			fmt.Fprintf(w, "  [%s] %s: %s\n", mark, c.Name, c.Detail)
		} else {
			fmt.Fprintf(w, "  [%s] %s\n", mark, c.Name)
		}
	}
}
