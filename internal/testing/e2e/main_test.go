package e2e

import (
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// requireHeavy skips under -short: the end-to-end tests need root, daemons
// and (cold) minutes of debootstrap.
func requireHeavy(t testing.TB) {
	t.Helper()
	testenv.RequireIntegration(t)
}
