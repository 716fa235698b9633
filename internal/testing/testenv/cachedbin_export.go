package testenv

// CachedBinary is cachedBinary for the test-support packages outside
// testenv (internal/testing/k8scluster caches k3s and metrics-server the
// way buildkitd is cached here): a program built from a Go module once per
// machine, kept in TestCacheDir()/Dir/Name with its stamp next to it, and
// built under a file lock.
type CachedBinary struct {
	Name, Dir string
	// Env names a binary to use as is (no build, no version check).
	Env string
	// Module is the Go module the binary is built from (a binary put in
	// place by hand without a stamp is adopted when its build info names
	// it at the wanted version).
	Module string
	// Want is the stamp to match: "module version".
	Want func() (string, error)
	// Build writes the binary to bin (renamed into place afterwards).
	Build func(bin string) error
	// Unavailable is the error every failure wraps.
	Unavailable error
}

// Path returns the cached binary, building it first when its stamp does
// not match Want.
func (c CachedBinary) Path() (string, error) {
	return cachedBinary{
		name: c.Name, dir: c.Dir, env: c.Env, module: c.Module,
		want: c.Want, build: c.Build, unavailable: c.Unavailable,
	}.path()
}
