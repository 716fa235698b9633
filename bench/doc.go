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
// More scenarios, each with its peer in the same run (-scenarios selects
// groups: core (a-d2), ci, first, raise, fresh, many, containerd, daemon, memory;
// default all):
//
//	e1, e2  a CI build (USER app by name, a new app layer per run): jbuild against crane (ci.go), <= 0.5x
//	u       a bare upload of the agent layer a just made (raise.go): a <= 1.5x u
//	n1, n2  a and c with the agent's files just written, as a CI job unpacks them (fresh.go): figures n1/a, n2/c
//	m1, mN  jbuild wrap -f over 1 and over N (-many, 20) images sharing a base (many.go): mN <= 4x m1
//	f1, f2  the first wrap of a never-seen base (USER app by name): jbuild against crane (first.go), <= 1.0x
//	k       jbuild wrap containerd: of a's image against a; the content store shows only new blobs (stores.go)
//	w1, w2  jbuild wrap docker-daemon: against the classic docker build of the hand-written Dockerfile (daemon.go), <= 1.5x
//	memory  peak RSS of a wrap of a 2 GB image (-mem-mb) on every store, cold cache (memory.go): <= 100 MB each
//
// Beside each scenario's median the table prints its commands' client CPU
// (user+sys of the processes the bench started) and how busy the whole
// machine was while they ran (machinecpu.go): near 100% means the scenario
// is bound by the cores, so on a machine with more of them it is faster.
//
// containerd and docker-daemon come from a dockerd testenv starts (root,
// Debian's docker.io); without one their figures are n/a with the reason.
// At -mem-mb 2048 the memory group needs about 4 GB of memory in the bench
// process while it builds the image and about 20 GB of disk under the
// temporary directory (the image in every store, and the outputs).
//
// The frontend section (frontend.go) builds one sample Dockerfile on the
// pinned buildkitd with the jbuild frontend and BuildKit's own as `# syntax=`
// images (target: warm jbuild <= 1.1x BuildKit's), then makes the fallback
// figure (fallback.go): the jbuild frontend on Docker Engine 28.5's own
// builder (buildx's docker driver, overlay2, no MergeOp: the agent is
// copied) against the hand-written Dockerfile that COPYs the agent, on the
// same builder (a figure, beside BuildKit's own frontend's on that
// Dockerfile), and against that Dockerfile run through BuildKit's own
// `# syntax=` image (target: warm <= 1.1x); -fallback=false leaves it out.
// -profile prints where the warm builds' time goes (BuildKit's vertices,
// and the jbuild frontend's gateway calls when run in process).
//
// crane is built from the go-containerregistry module pinned in go.mod and
// cached under the user cache dir. Run from the repository root:
//
//	go run ./bench [-n 5] [-jbuild bin/jbuild] [-big-mb 500] [-small-mb 5] [-agent-mb 20] [-only wrap|frontend] [-profile]
//	    [-scenarios core,ci,first,raise,fresh,many,containerd,daemon,memory] [-many 20] [-many-app-mb 10] [-mem-mb 2048]
package main
