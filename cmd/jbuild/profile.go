package main

import (
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// startProfile writes a CPU profile to $JBUILD_CPUPROFILE and an execution
// trace to $JBUILD_TRACE when they are set: developer aids for `make bench`
// investigations (go tool pprof FILE, go tool trace FILE).
func startProfile() func() {
	var stops []func()
	if path := os.Getenv("JBUILD_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
			} else {
				stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
			}
		}
	}
	if path := os.Getenv("JBUILD_TRACE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if err := trace.Start(f); err != nil {
				f.Close()
			} else {
				stops = append(stops, func() { trace.Stop(); f.Close() })
			}
		}
	}
	if len(stops) == 0 {
		return nil
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}
