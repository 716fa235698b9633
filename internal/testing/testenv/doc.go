// Package testenv gives jbuild's integration tests and benchmarks the real
// services they run against, started on loopback by the test binary itself.
//
// Tests run in two tiers. The quick tier (`go test -short ./...`) needs
// nothing but Go: Registry then serves an in-process registry
// (RegistryHandler: go-containerregistry's pkg/registry with blobs scoped
// per repository, on 127.0.0.1 through httptest), and what needs a daemon
// skips, saying how to run it. The full tier (`go test ./...`, `make test`)
// runs everything against real services: Registry is then RealRegistry.
//
// RealRegistry starts one real OCI registry per test binary (Debian's
// docker-registry, distribution 2.8) on 127.0.0.1 with a throw-away storage
// directory and no auth; test packages call Main from TestMain so it is
// stopped when the tests end. Tests that need what only it shows
// (cross-repository mounts, its storage), AuthRegistry, TokenRegistry,
// TLSRegistry, Buildkitd, Dockerd and RequireIntegration skip under -short;
// without -short a missing binary or daemon fails the test (in CI too),
// never skips it. StartRegistry is the same starter without a testing.TB,
// for programs such as the benchmark harness in bench/.
//
// The image helpers (RandomImage, RandomIndex, PushRandomImage, PushIndex)
// build images from random layers and a caller-chosen config, so a test
// states exactly the config it needs (ENV, USER, ENTRYPOINT, platform).
// Image, Config and Index read results back; SampleJavaAgent is the path of
// the sample agent bundle in examples/agents.
//
// Usage in a test package:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
//	func TestWrap(t *testing.T) {
//		reg := testenv.Registry(t) // in process under -short
//		testenv.PushRandomImage(t, reg+"/app:1", 2, 1<<20, func(c *v1.ConfigFile) {
//			c.Config.User = "1000:1000"
//		})
//		...
//	}
package testenv
