package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseGroups(t *testing.T) {
	all, err := parseGroups("all")
	if err != nil || len(all) != len(groupOrder) {
		t.Fatalf("all: %v, %v", all, err)
	}
	some, err := parseGroups("raise, memory")
	if err != nil || len(some) != 2 || !some[gRaise] || !some[gMemory] {
		t.Fatalf("raise, memory: %v, %v", some, err)
	}
	for _, bad := range []string{"", "nope", "core,nope"} {
		if _, err := parseGroups(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestDeployments(t *testing.T) {
	got := deployments([]string{"r/a:1", "r/b:1"})
	if strings.Count(got, "kind: Deployment") != 2 || strings.Count(got, "\n---\n") != 1 ||
		!strings.Contains(got, "image: r/a:1\n") || !strings.Contains(got, "image: r/b:1\n") {
		t.Fatalf("deployments:\n%s", got)
	}
}

func TestReportTargets(t *testing.T) {
	groups, _ := parseGroups("raise,many,containerd,memory")
	ms := func(v int) []time.Duration { return []time.Duration{time.Duration(v) * time.Millisecond} }
	b := &bench{
		opts:       options{n: 1, bigMB: 500, agentMB: 20, manyN: 20, memMB: 2048, groups: groups},
		haveJbuild: true,
		times: map[string][]time.Duration{
			sJbuildCold: ms(150), sFloor: ms(100), // 1.5x: met
			sMany1: ms(100), sManyN: ms(450), // 4.5x: missed
		},
		ctrd: ctrdState{skipped: "starting dockerd: not root\nmore"},
		mem:  []memResult{{store: "registry", rss: 50 << 20, d: time.Second}, {store: "containerd", err: "no daemon"}},
	}
	var out strings.Builder
	b.report(&out)
	got := out.String()
	for _, want := range []string{
		"the raise: wrap, new agent / bare upload of its layer (a/u)  1.50x  <= 1.50x  PASS",
		"many images: wrap -f N / wrap -f 1 (mN/m1)                   4.50x  <= 4.00x  MISS",
		"k n/a: starting dockerd: not root\n",
		"registry    50.0 MB",
		"containerd  n/a",
		"containerd n/a: no daemon\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "jbuild / crane (a/b)") {
		t.Errorf("report has a core target without the core group:\n%s", got)
	}
}
