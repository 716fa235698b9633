// Command bench is `make bench`: it times `jbuild wrap` against the crane
// pipeline that does the same job by hand (tar the agent folder, `crane
// append` it as a layer, `crane mutate --env` the activation flags), side by
// side in one run, on a registry started on loopback (internal/testing/testenv).
//
// Scenarios, each run N times (median printed):
//
//	a   jbuild wrap of a ~500 MB Java image with a ~20 MB agent never seen before
//	b   the crane pipeline, same image, same-size agent never seen before
//	c   jbuild wrap again with the same agent (its layer already in the registry)
//	d1  jbuild wrap of a ~5 MB image, new agent    (compare with a)
//	d2  jbuild wrap of a ~5 MB image, agent known  (compare with c)
//
// "Never seen before" means the agent folder differs from every earlier run
// (a nonce comment in conf/jennifer.conf), so the layer digest is new to the
// registry and to jbuild's local layer cache: every run compresses and
// uploads the agent. Targets (printed, not enforced): a <= 0.5x b, and the
// 500 MB base within 1.2x of the 5 MB base.
//
// The frontend section (frontend.go) builds one sample Dockerfile on the
// pinned buildkitd with the jbuild frontend and BuildKit's own as `# syntax=`
// images (target: warm jbuild <= 1.1x BuildKit's), then makes the fallback
// figure (fallback.go): the jbuild frontend on Docker Engine 28.5's own
// builder (buildx's docker driver, overlay2, no MergeOp: the agent is
// copied) against the hand-written Dockerfile that COPYs the agent, on the
// same builder (target: warm <= 1.5x; -fallback=false leaves it out).
// -profile prints where the warm builds' time goes (BuildKit's vertices,
// and the jbuild frontend's gateway calls when run in process).
//
// crane is built from the go-containerregistry module pinned in go.mod and
// cached under the user cache dir. Run from the repository root:
//
//	go run ./bench [-n 5] [-jbuild bin/jbuild] [-big-mb 500] [-small-mb 5] [-agent-mb 20] [-only wrap|frontend] [-profile]
package main
