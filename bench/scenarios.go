package main

import (
	"fmt"
	"strings"
)

// Scenario groups of the wrap section (-scenarios), in run and report order.
// Each group runs with its peer, so every ratio it prints is of one run.
const (
	gCore       = "core"       // a, b, c, d1, d2: jbuild wrap against crane, 500 MB and 5 MB bases
	gCI         = "ci"         // e1, e2: a CI build, USER by name, new app layer (ci.go)
	gFirst      = "first"      // f1, f2: the first wrap of a never-seen base (first.go)
	gRaise      = "raise"      // a against u, a bare upload of a's agent layer (raise.go)
	gFresh      = "fresh"      // n1, n2: a and c with the agent's files just written (fresh.go)
	gMany       = "many"       // m1, mN: wrap -f over one image and over N (many.go)
	gContainerd = "containerd" // k against a: the same image in containerd (stores.go)
	gMemory     = "memory"     // peak RSS of a wrap of a 2 GB image on every store (stores.go)
	gDaemon     = "daemon"     // w1, w2: wrap docker-daemon: against the classic docker build (daemon.go)
)

var groupOrder = []string{gCore, gCI, gFirst, gRaise, gFresh, gMany, gContainerd, gDaemon, gMemory}

func groupList() string { return strings.Join(groupOrder, ", ") }

// parseGroups reads -scenarios: "all" (the default) or a comma-separated
// list of groups.
func parseGroups(s string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, g := range strings.Split(s, ",") {
		g = strings.TrimSpace(g)
		switch {
		case g == "all":
			for _, k := range groupOrder {
				out[k] = true
			}
		case g == "":
		case isGroup(g):
			out[g] = true
		default:
			return nil, fmt.Errorf("-scenarios: unknown group %q (want %s, or all)", g, groupList())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-scenarios %q: no group", s)
	}
	return out, nil
}

func isGroup(g string) bool {
	for _, k := range groupOrder {
		if k == g {
			return true
		}
	}
	return false
}

// needs says which groups need what.
func (o options) wants(g string) bool { return o.groups[g] }

// needBig: scenario a and the 500 MB numeric-USER base (the peer of raise,
// fresh and containerd).
func (o options) needBig() bool {
	return o.wants(gCore) || o.wants(gRaise) || o.wants(gFresh) || o.wants(gContainerd)
}

// needCIBase: the CI base (USER app), which the many images share and
// the docker-daemon scenario loads.
func (o options) needCIBase() bool { return o.wants(gCI) || o.wants(gMany) || o.wants(gDaemon) }

// needDaemon: dockerd and its containerd.
func (o options) needDaemon() bool {
	return o.wants(gContainerd) || o.wants(gMemory) || o.wants(gDaemon)
}
