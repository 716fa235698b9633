package frontend

import "github.com/jbuild-dev/jbuild/buildplan"

// BuildArgNames words buildplan's options as the frontend's build args, so
// the errors and hints of buildplan.Make tell a BuildKit user what to set
// ("build-arg JENNIFER_SERVER_PORT 70000: ...", "set build-arg
// JENNIFER_RUNTIME=java|dotnet|..."), never a flag of the CLI's.
// ParseSettings sets it as the Options.Names of the build (`jbuild wrap
// --builder` sets the CLI's own).
var BuildArgNames buildplan.Namer = buildArgNames{}

type buildArgNames struct{}

// optionArgs are the build args of the options buildplan names; a profile
// parameter NAME is build arg JENNIFER_PARAM_NAME (argOf). The others have
// no build arg: the platform is the build's own, and JENNIFER_PROFILE takes
// a built-in profile's name, not a file.
var optionArgs = map[buildplan.Option]string{
	buildplan.OptServerAddress:  ArgServerAddress,
	buildplan.OptServerPort:     ArgServerPort,
	buildplan.OptDomainID:       ArgDomainID,
	buildplan.OptRuntime:        ArgRuntime,
	buildplan.OptRuntimeVersion: ArgRuntimeVer,
}

// argOf is o's build arg, if it has one.
func argOf(o buildplan.Option) (string, bool) {
	if p, ok := o.Param(); ok {
		return ArgParamPrefix + p, true
	}
	a, ok := optionArgs[o]
	return a, ok
}

func (buildArgNames) Name(o buildplan.Option) string {
	if a, ok := argOf(o); ok {
		return "build-arg " + a
	}
	switch o {
	case buildplan.OptPlatform:
		return "build platform"
	case buildplan.OptProfileFile:
		return "profile file"
	}
	return string(o)
}

func (buildArgNames) Give(o buildplan.Option, value string) string {
	if a, ok := argOf(o); ok {
		if value == "" {
			return "set build-arg " + a
		}
		return "set build-arg " + a + "=" + value
	}
	// No build arg: what the user can do instead.
	switch o {
	case buildplan.OptPlatform:
		return "build for " + value + " (docker buildx build --platform " + value + ")"
	case buildplan.OptProfileFile:
		return "wrap the built image with `jbuild wrap --profile " + value + "` (build-arg " + ArgProfile + " names a built-in profile only)"
	}
	return buildplan.Neutral.Give(o, value)
}
