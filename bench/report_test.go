package main

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{ms(5, 1, 3), 3 * time.Millisecond},
		{ms(4, 1, 3, 2), 2500 * time.Microsecond},
		{nil, 0},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseCPULine(t *testing.T) {
	got, err := parseCPULine("cpu  100 5 50 800 20 3 2 10 7 0\n")
	if err != nil {
		t.Fatal(err)
	}
	// busy: user, nice, system, irq, softirq, steal; idle: idle, iowait;
	// guest (7) is inside user already.
	if want := (machineTicks{busy: 170, total: 990}); got != want {
		t.Errorf("parseCPULine = %+v, want %+v", got, want)
	}
	if s := (machineTicks{busy: 93, total: 100}).share(); s != "93%" {
		t.Errorf("share = %q, want 93%%", s)
	}
	if s := (machineTicks{}).share(); s != "—" {
		t.Errorf("share of nothing = %q, want —", s)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 3", "cpu a b c d e f g h"} {
		if _, err := parseCPULine(bad); err == nil {
			t.Errorf("parseCPULine(%q) = nil error", bad)
		}
	}
}
