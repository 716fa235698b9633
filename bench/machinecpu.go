package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The "machine busy" column of both tables: how busy the whole machine was
// (every core, every process: jbuild or crane, the registry, buildkitd and
// the other daemons, the kernel's loopback copies) while a scenario's
// commands or a frontend's builds ran. A command
// whose machine is near 100% is bound by CPU, so its time is the CPU work
// of all it asks for (a blob read is the registry's sending, the kernel's
// copy and jbuild's hash) divided by the cores; one with the machine half
// idle waits on something else. It is read from /proc/stat's first line,
// in clock ticks (10 ms), summed over the recorded runs, so short commands
// still add up to a fair share.

// machineTicks are /proc/stat's all-CPU counters: busy ticks and all ticks.
type machineTicks struct{ busy, total uint64 }

func (t machineTicks) plus(u machineTicks) machineTicks {
	return machineTicks{t.busy + u.busy, t.total + u.total}
}

func (t machineTicks) minus(u machineTicks) machineTicks {
	return machineTicks{t.busy - u.busy, t.total - u.total}
}

// share is the busy part, "93%", or "—" with nothing measured.
func (t machineTicks) share() string {
	if t.total == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(t.busy)/float64(t.total))
}

// readMachineTicks reads the counters now; zero where /proc/stat cannot be
// read (not Linux), which leaves the column at "—".
func readMachineTicks() machineTicks {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return machineTicks{}
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	t, err := parseCPULine(line)
	if err != nil {
		return machineTicks{}
	}
	return t
}

// parseCPULine reads "cpu user nice system idle iowait irq softirq steal
// ...": idle and iowait are the idle part; guest time is already counted
// in user and nice, so it is not added again.
func parseCPULine(line string) (machineTicks, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return machineTicks{}, fmt.Errorf("not /proc/stat's cpu line: %q", line)
	}
	var t machineTicks
	for i, s := range f[1:9] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return machineTicks{}, fmt.Errorf("/proc/stat field %d: %w", i+1, err)
		}
		t.total += v
		if i != 3 && i != 4 { // idle, iowait
			t.busy += v
		}
	}
	return t, nil
}
