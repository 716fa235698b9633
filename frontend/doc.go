// Package frontend is jbuild's BuildKit frontend and the LLB form of a plan.
//
// Build is a gateway BuildFunc: it builds the Dockerfile exactly as
// BuildKit's own Dockerfile frontend of the pinned version does
// (builder.Build), then injects the agent into the final stage of every
// requested platform. Inject is the shared step: it reads the stage's config
// and files through the gateway, makes the plan with buildplan (the same
// plan `jbuild plan` makes), and adds the agent layer and the settings layer
// with a MergeOp, so no RUN step is needed and images without a shell are
// wrapped too. The CLI's `wrap --builder` runs the same Inject on a remote
// BuildKit.
//
// The plan's warnings (what `jbuild wrap` prints as "warning: ..." lines,
// e.g. a server address that points at the container itself) are BuildKit
// build warnings, on the vertex that adds the agent, each starting with
// "jbuild: "; a BuildKit without the gateway.warnings capability shows each
// as a progress line instead (reportWarnings).
//
// Subrequests (the requestid option: `docker buildx build
// --call=outline|targets`, `--check`) build no image: Build hands them to
// builder.Build before it reads any JENNIFER_* arg or loads the agent, and
// returns BuildKit's answer; the outline also lists the JENNIFER_* args
// (outline.go).
package frontend
