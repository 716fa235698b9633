package frontend

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	apicapspb "github.com/moby/buildkit/util/apicaps/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// capsOnly is a gateway client that only answers BuildOpts, with the LLB
// capabilities of a builder that has all of BuildKit's but those dropped
// (as an older builder, which does not know them).
type capsOnly struct {
	gwclient.Client
	caps apicaps.CapSet
}

func (c capsOnly) BuildOpts() gwclient.BuildOpts { return gwclient.BuildOpts{LLBCaps: c.caps} }

func capsWithout(ids ...apicaps.CapID) apicaps.CapSet {
	var keep []*apicapspb.APICap
	for _, c := range pb.Caps.All() {
		drop := false
		for _, id := range ids {
			if c.ID == string(id) {
				drop = true
			}
		}
		if !drop {
			keep = append(keep, c)
		}
	}
	return pb.Caps.CapSet(keep)
}

// The injection's steps are checked against the builder's LLB
// capabilities before they are solved: a symlink action on a builder
// without file.symlink.create (BuildKit 0.8 to 0.18, Docker Engine 20.10
// to 27.x) fails with jbuild's message, which names the capability, the
// Docker Engine that has it and the ways out; what the base (the
// Dockerfile build) already uses is not held against the injection; a
// builder with every capability passes.
func TestCheckBuilderCaps(t *testing.T) {
	ctx := context.Background()
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	base := llb.Image("127.0.0.1:5000/app:1")
	withLink := base.File(llb.Mkdir("/opt/jennifer", 0o755).Symlink("jennifer.jar", "/opt/jennifer/agent.jar"), llb.WithCustomName("[jbuild] agent layer"))
	plain := base.File(llb.Mkdir("/opt/jennifer", 0o755), llb.WithCustomName("[jbuild] settings layer"))

	old := capsOnly{caps: capsWithout(pb.CapFileSymlinkCreate)}
	err := checkBuilderCaps(ctx, old, base, withLink, p)
	if err == nil {
		t.Fatal("a symlink step on a builder without file.symlink.create passed the check")
	}
	var ce *apicaps.CapError
	if !errors.As(err, &ce) || ce.ID != pb.CapFileSymlinkCreate {
		t.Errorf("the builder's CapError is not wrapped: %v", err)
	}
	for _, want := range []string{"adding the agent ([jbuild] agent layer)", "file.symlink.create", "Docker Engine 28.0",
		"BuildKit v0.19", "jbuild agent push", "JENNIFER_AGENT", "--driver docker-container", "--driver remote", "jbuild wrap docker-daemon:IMAGE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q:\n%v", want, err)
		}
	}
	if err := checkBuilderCaps(ctx, old, base, plain, p); err != nil {
		t.Errorf("no symlink step, still refused: %v", err)
	}
	if err := checkBuilderCaps(ctx, old, withLink, withLink.File(llb.Mkdir("/x", 0o755)), p); err != nil {
		t.Errorf("a capability the base already uses was held against the injection: %v", err)
	}
	if err := checkBuilderCaps(ctx, capsOnly{caps: pb.Caps.CapSet(pb.Caps.All())}, base, withLink, p); err != nil {
		t.Errorf("a builder with every capability was refused: %v", err)
	}
	// A capability jbuild has no entry for still gets the ways out.
	noDiff := capsOnly{caps: capsWithout(pb.CapDiffOp)}
	err = checkBuilderCaps(ctx, noDiff, base, llb.Diff(base, plain), p)
	if err == nil || !strings.Contains(err.Error(), "diffop") || !strings.Contains(err.Error(), "a newer Docker Engine or BuildKit") {
		t.Errorf("an unknown missing capability: %v", err)
	}
}
