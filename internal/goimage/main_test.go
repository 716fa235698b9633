package goimage_test

import (
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
