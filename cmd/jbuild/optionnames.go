package main

import "github.com/jbuild-dev/jbuild/buildplan"

// flagNames words buildplan's options as this command's flags, so the
// errors and hints of buildplan.Make say what to type here ("--server-port
// 70000: ...", "pass --runtime java|dotnet|..."). planOptions sets it as
// the Options.Names of every wrap and plan, --builder's included.
type flagNames struct{}

// optionFlags are the flags of the options buildplan names; a profile
// parameter is --param NAME=VALUE.
var optionFlags = map[buildplan.Option]string{
	buildplan.OptServerAddress:  "--server-address",
	buildplan.OptServerPort:     "--server-port",
	buildplan.OptDomainID:       "--domain-id",
	buildplan.OptRuntime:        "--runtime",
	buildplan.OptRuntimeVersion: "--runtime-version",
	buildplan.OptPlatform:       "--platform",
	buildplan.OptProfileFile:    "--profile",
}

func (flagNames) Name(o buildplan.Option) string {
	if p, ok := o.Param(); ok {
		return "--param " + p
	}
	if f, ok := optionFlags[o]; ok {
		return f
	}
	return string(o) // an option newer than this table: its neutral name
}

func (n flagNames) Give(o buildplan.Option, value string) string {
	if p, ok := o.Param(); ok {
		if value == "" {
			value = "VALUE"
		}
		return "pass --param " + p + "=" + value
	}
	if _, ok := optionFlags[o]; !ok {
		return buildplan.Neutral.Give(o, value)
	}
	if value == "" {
		return "pass " + n.Name(o)
	}
	return "pass " + n.Name(o) + " " + value
}
