package faultproxy

import "testing"

// Start is New for a test: it fails t when the proxy cannot start and
// closes the proxy when t and its subtests end.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatalf("starting a fault proxy in front of %s: %v", target, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
