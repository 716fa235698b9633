package transport

import (
	"slices"
	"testing"

	"github.com/docker/docker/api/types/image"
)

// TestHistoryFrom checks which ImageHistory entries are taken for layers
// (newest first in, oldest first out), and that a history that cannot be
// matched to the layers is refused (the wrap then falls back to docker
// save), not guessed.
func TestHistoryFrom(t *testing.T) {
	ids := []string{"sha256:aa", emptyTarDiffID, "sha256:cc"}
	hist := []image.HistoryResponseItem{ // newest first, as the API sends it
		{CreatedBy: "/bin/sh -c #(nop)  CMD [\"java\"]", Created: 40},
		{CreatedBy: "/bin/sh -c #(nop) COPY file:abc in /app ", Size: 300, Created: 30},
		{CreatedBy: "RUN /bin/sh -c true # buildkit", Created: 20},
		{CreatedBy: "/bin/sh -c #(nop)  ENV A=1", Created: 15},
		{CreatedBy: "/bin/sh -c #(nop) ADD file:root in / ", Size: 1000, Created: 10},
	}
	h, sizes, err := historyFrom(hist, ids)
	if err != nil {
		t.Fatal(err)
	}
	var empty []bool
	for _, e := range h {
		empty = append(empty, e.EmptyLayer)
	}
	if want := []bool{false, true, false, false, true}; !slices.Equal(empty, want) {
		t.Errorf("empty layers %v, want %v", empty, want)
	}
	if len(sizes) != 3 || sizes[0] != 1000 || sizes[1] != 0 || sizes[2] != 300 {
		t.Errorf("sizes %v", sizes)
	}
	if h[0].Created.Unix() != 10 || h[4].CreatedBy != hist[0].CreatedBy {
		t.Errorf("not oldest first: %+v", h)
	}

	// Two size-0 entries that could each be the one size-0 layer: refused.
	amb := append([]image.HistoryResponseItem{{CreatedBy: "WORKDIR /x", Created: 50}}, hist...)
	if _, _, err := historyFrom(amb, ids); err == nil {
		t.Error("an ambiguous history was accepted")
	}
	// More layers than the history can name: refused.
	if _, _, err := historyFrom(hist[:2], ids); err == nil {
		t.Error("a history naming too few layers was accepted")
	}
}
