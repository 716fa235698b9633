package main

import (
	"strings"
	"testing"
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
