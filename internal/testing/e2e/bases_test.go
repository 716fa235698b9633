package e2e

import (
	"sync"
	"testing"
)

// The runtime bases are built (or found in the cache) and have the sample
// app on top.
func TestRuntimeBases(t *testing.T) {
	requireHeavy(t)
	var wg sync.WaitGroup
	for _, rt := range Runtimes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := rt.AppImage()
			if err != nil {
				t.Errorf("%s: %v", rt.Name, err)
				return
			}
			layers, _ := img.Layers()
			if len(layers) != 2 {
				t.Errorf("%s: %d layers, want base + app", rt.Name, len(layers))
			}
		}()
	}
	wg.Wait()
}
