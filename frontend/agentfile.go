package frontend

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// singleFileContext makes a jennifer-agent context that holds one file (a
// folder with the jar as its registry serves it, or an https:// context,
// which BuildKit fetches as one file) the agent of a single-file profile,
// as `jbuild wrap --agent ./opentelemetry-javaagent-2.33.1.jar` does: the
// file is presented under the profile's agentFile name (the name its env
// activates), and its own name is the bundle's source, so the profile's
// versionFrom.fileName reads the version from it. The profile is the
// JENNIFER_PROFILE build arg's, else the one built-in single-file profile
// whose markers or version pattern match the file's name. Any other
// context is left as it is.
func singleFileContext(ctx context.Context, c gwclient.Client, in *agentInput, p ocispecs.Platform, forced *buildplan.Profile, what string) error {
	fsys, err := agentFS(ctx, c, in, p, what)
	if err != nil {
		return err
	}
	in.solved = fsys // unless the file is renamed below
	des, err := fsys.ReadDir(".")
	if err != nil || len(des) != 1 || !des[0].Type().IsRegular() {
		return nil
	}
	name, given := des[0].Name(), des[0].Name()
	if u := contextURL(c); u != "" && name == "context" {
		// BuildKit saves an http(s) context as the file "context": the
		// URL's last element is the name the registry serves it under.
		given = path.Base(u)
	}
	prof, err := singleFileProfile(forced, given)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if prof == nil {
		return nil
	}
	in.source = given
	if name == prof.AgentFile {
		return nil
	}
	in.state = llb.Scratch().File(
		llb.Copy(in.state, path.Join(in.dir, name), "/"+prof.AgentFile),
		llb.WithCustomName(fmt.Sprintf("[jbuild] the agent file %s as %s", given, prof.AgentFile)),
	)
	in.dir, in.solved = "/", nil
	return nil
}

// singleFileProfile is the single-file profile a file named name is the
// agent of: forced when it has an agentFile, else the built-in one that
// names it; nil when none does.
func singleFileProfile(forced *buildplan.Profile, name string) (*buildplan.Profile, error) {
	if forced != nil {
		if forced.AgentFile == "" {
			return nil, nil
		}
		return forced, nil
	}
	return templates.ForAgentFile(name, "--build-arg "+ArgProfile+"=NAME")
}

// contextURL is the jennifer-agent context's http(s) URL, without query
// or fragment; "" when the context is something else.
func contextURL(c gwclient.Client) string {
	v := c.BuildOpts().Opts["context:"+AgentContext]
	if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil {
		return ""
	}
	return u.Path
}
