package templates

import "github.com/jbuild-dev/jbuild/buildplan"

// Choose picks the profile for an image and an agent bundle, the same way
// for every engine: the profile the user forced; else the built-in profile
// whose marker files the bundle has (an agent.java folder means the Java
// profile whatever the image looks like); else the built-in profile for the
// runtime the user named or buildplan detects in the image.
func Choose(img buildplan.Image, bundle []buildplan.AgentFile, forced *buildplan.Profile, runtime buildplan.Runtime) (*buildplan.Profile, error) {
	if forced != nil {
		return forced, nil
	}
	if p, ok := MatchBundle(bundle); ok {
		return p, nil
	}
	if runtime == buildplan.RuntimeUnknown {
		f, err := buildplan.DetectRuntime(img)
		if err != nil {
			return nil, err
		}
		runtime = buildplan.Runtime(f.Value)
	}
	return ForRuntime(runtime)
}
