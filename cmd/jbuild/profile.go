package main

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile to $JBUILD_CPUPROFILE when it is set: a
// developer aid for `make bench` investigations (go tool pprof FILE).
func startProfile() func() {
	path := os.Getenv("JBUILD_CPUPROFILE")
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
