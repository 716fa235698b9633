// Package templates holds what jbuild ships as data rather than code: the
// agent profiles (profiles/*.yaml, embedded in the binary) that tell the
// engine how each agent attaches to its runtime, plus example profiles for
// other agents (profiles/examples, not embedded as defaults). The profile
// format is buildplan.Profile; users pass their own with --profile.
package templates
