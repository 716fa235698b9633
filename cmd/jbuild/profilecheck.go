package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// checkForProfile refuses flag values the agent profile cannot take: a
// domain id or a port outside the agent's range, a --param the profile does
// not declare. buildplan.Make refuses them too, for every engine, but by
// then the error looks like a failed wrap (exit code 1) while it is a wrong
// command line (2). With --profile the check is exact. Without, the profile
// is picked later from the agent bundle or the image (templates.Choose), so
// a value is refused here when none of the built-in profiles takes it.
func (f *planFlags) checkForProfile(prof *buildplan.Profile, params map[string]string) error {
	cands := []*buildplan.Profile{prof}
	if prof == nil {
		all, err := templates.Profiles()
		if err != nil {
			return err
		}
		cands = all
	}
	if f.domainIDGiven {
		if err := refusedByAll(cands, func(p *buildplan.Profile) error {
			return p.CheckDomainID(flagNames{}.Name(buildplan.OptDomainID), f.domainID)
		}); err != nil {
			return err
		}
	}
	if f.serverPortGiven {
		if err := refusedByAll(cands, func(p *buildplan.Profile) error {
			return p.CheckServerPort(flagNames{}.Name(buildplan.OptServerPort), f.serverPort)
		}); err != nil {
			return err
		}
	}
	for _, name := range sortedNames(params) {
		if err := checkParam(cands, prof != nil, name); err != nil {
			return err
		}
	}
	return nil
}

// refusedByAll returns the first candidate's error when every candidate
// refuses, else nil.
func refusedByAll(cands []*buildplan.Profile, check func(*buildplan.Profile) error) error {
	var first error
	for _, p := range cands {
		err := check(p)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// checkParam refuses a --param no candidate profile declares, listing the
// parameters there are.
func checkParam(cands []*buildplan.Profile, given bool, name string) error {
	var declared []string
	for _, p := range cands {
		if _, ok := p.Params[name]; ok {
			return nil
		}
		for _, k := range sortedNames(p.Params) {
			if given {
				declared = append(declared, k)
			} else {
				declared = append(declared, k+" ("+p.Name+")")
			}
		}
	}
	list := strings.Join(declared, ", ")
	if list == "" {
		list = "none"
	}
	if given {
		return fmt.Errorf("--param %s: profile %s has no such parameter (it declares: %s)", name, cands[0].Name, list)
	}
	return fmt.Errorf("--param %s: no built-in profile has such a parameter (they declare: %s); check the name, or pass the --profile that declares it", name, list)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
