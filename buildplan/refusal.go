package buildplan

import "fmt"

// RefusalError says an image cannot be monitored with the chosen agent, as
// opposed to jbuild failing: a Go binary, .NET on musl, an unknown runtime,
// an unsupported platform. The CLI prints Reason and Hint as they are.
type RefusalError struct {
	// Image is the reference as the user named it.
	Image string `json:"image"`
	// Reason is why, in terms of the image ("it runs a statically linked
	// binary").
	Reason string `json:"reason"`
	// Hint is what the user can do about it; may be empty.
	Hint string `json:"hint,omitempty"`
}

func (e *RefusalError) Error() string {
	s := fmt.Sprintf("%s cannot be monitored: %s", e.Image, e.Reason)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

func refuse(img Image, hint, format string, args ...any) *RefusalError {
	return &RefusalError{Image: img.Reference, Reason: fmt.Sprintf(format, args...), Hint: hint}
}
