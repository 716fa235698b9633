package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/k8s"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

func newK8sCmd(g *globalFlags) *cobra.Command {
	var (
		o                      k8s.Options
		platform, user, prof   string
		output                 string
		pin, offline           bool
		port                   int32
		minR, maxR, cpuPercent int32
	)
	o.Resources = k8s.DefaultResources()
	c := &cobra.Command{
		Use:   "k8s IMAGE",
		Short: "Render a Deployment, Service and HorizontalPodAutoscaler for a monitored image",
		Long: `k8s writes Kubernetes manifests for a monitored image: a Deployment that passes the
restricted Pod Security Standard (non-root numeric user, read-only root filesystem with an
emptyDir at every directory the agent writes, no privilege escalation, all capabilities
dropped, seccomp RuntimeDefault, resource requests), a Service, and a
HorizontalPodAutoscaler (autoscaling/v2, like kubectl autoscale --min --max --cpu-percent).
The pod gets the pod name and namespace through the downward API where the image's profile
lists them, never a variable the image sets.

The image config (labels, USER, EXPOSE) is read from the registry; with --offline give
--profile and --user instead. --cluster adds what differs on AKS, EKS, GKE and GKE
Autopilot (registry naming checks, Autopilot's resource rules). --pin names the image
as REPO:TAG@sha256:... (the tag kept for readers, the digest for the kubelet).

Renamed flags (the old names still work, with a note): --platform is now --cluster
(--platform is the image's os/arch in wrap and plan), -o/--output FILE is now
--output-file FILE (-o is the output format in plan, verify and lint).`,
		Example: `  jbuild k8s registry.example.com/shop/api:1.2-jennifer > api.yaml
  jbuild k8s myacr.azurecr.io/shop/api:1.2-jennifer --cluster aks --pin --output-file api.yaml
  jbuild k8s europe-west1-docker.pkg.dev/proj/shop/api:1.2-jennifer --cluster gke-autopilot --min 2 --max 10
  jbuild k8s registry.example.com/shop/api:1.2-jennifer --offline --profile jennifer-java --user 1000:1000 --port 8080`,
		Args: exactArgs(1, "one IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			// -o is a format everywhere else: "-o yaml" here meant that,
			// not a file named yaml.
			if f := cmd.Flags().Lookup("output"); f.Changed && (output == "json" || output == "yaml" || output == "text") {
				return usageError{fmt.Errorf("-o %s: jbuild k8s writes YAML manifests to stdout, or to --output-file FILE (its -o is the old name of --output-file)", output)}
			}
			ref, err := transport.Parse(args[0])
			if err != nil {
				return usageError{err}
			}
			if ref.Kind != transport.KindRegistry {
				return usageError{fmt.Errorf("%s: kubelet pulls images from a registry; push the image (jbuild wrap ... -t REGISTRY/REPO:TAG) and name that", args[0])}
			}
			if o.Platform, err = k8s.ParsePlatform(platform); err != nil {
				return usageError{err}
			}
			if user != "" {
				if o.UID, o.GID, err = k8s.ParseUser(user); err != nil {
					return usageError{err}
				}
			}
			var img *k8s.Image
			if offline {
				if prof == "" || user == "" {
					return usageError{fmt.Errorf("--offline needs --profile NAME (the profile the image was wrapped with) and --user UID[:GID] (its numeric user)")}
				}
				p, err := loadProfile(prof)
				if err != nil {
					return usageError{err}
				}
				img = k8s.Offline(args[0], p, o.UID, o.GID)
				// Said whatever the tag: images built with the frontend
				// keep their own tag, and only the labels tell.
				if !g.quiet {
					fmt.Fprintf(cmd.ErrOrStderr(), "note: %s was not read (--offline): make sure it is the monitored variant (jbuild wrap's output, or built with the jbuild frontend)\n", args[0])
				}
			} else {
				if prof != "" {
					return usageError{fmt.Errorf("--profile is read from the image's %s label; give it only with --offline", buildplan.LabelProfile)}
				}
				st, err := openStore(g, args[0], storeOptions(g))
				if err != nil {
					return err
				}
				if img, err = k8s.Inspect(ctx, st); err != nil {
					return fmt.Errorf("%w (to render without reading the image: --offline --profile NAME --user UID[:GID] --port N)", err)
				}
			}

			o.Image = args[0]
			if pin {
				switch {
				case img.Digest != "":
					o.Image = k8s.Pinned(args[0], img.Digest)
				case ref.Registry.Identifier() != "" && strings.HasPrefix(ref.Registry.Identifier(), "sha256:"):
					// Already pinned as given.
				default:
					return usageError{fmt.Errorf("--pin needs the image's digest: drop --offline so it is read from the registry, or name the image as REPO@sha256:...")}
				}
			}
			if o.Name == "" {
				o.Name = k8s.DefaultName(ref.Registry.Context().RepositoryStr())
			}
			o.Port = port
			if o.Port == 0 {
				switch {
				case offline:
					return usageError{fmt.Errorf("--offline needs --port N (the port the application listens on): the image's EXPOSE is not read")}
				case len(img.Ports) == 0:
					return usageError{fmt.Errorf("%s exposes no port: pass --port N (the port the application listens on)", args[0])}
				}
				o.Port, o.Protocol = img.Ports[0].Number, img.Ports[0].Protocol
			}
			o.MinReplicas, o.MaxReplicas, o.CPUUtilization = minR, maxR, cpuPercent
			switch o.Resources.MemoryLimit {
			case "":
				o.Resources.MemoryLimit = o.Resources.MemoryRequest
			case "none":
				o.Resources.MemoryLimit = ""
			}
			if err := o.Validate(); err != nil {
				return usageError{err}
			}
			m, err := k8s.Render(img, o)
			if err != nil {
				return err
			}
			if !g.quiet {
				for _, n := range m.Notes {
					fmt.Fprintf(cmd.ErrOrStderr(), "note: %s\n", n)
				}
			}
			for _, w := range m.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
			}
			header := fmt.Sprintf("Generated by jbuild k8s for %s (profile %s, platform %s).", o.Image, img.ProfileName(), o.Platform)
			data, err := m.Marshal(header)
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err = cmd.OutOrStdout().Write(data)
				return err
			}
			if err := os.WriteFile(output, data, 0o644); err != nil {
				return fmt.Errorf("writing %s: %w", output, err)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&o.Name, "name", "", "name of the Deployment, Service and HPA (default: the last part of the image repository)")
	f.StringVar(&o.Namespace, "namespace", "", "namespace written into the manifests (default: none, kubectl's current namespace)")
	f.Int32Var(&port, "port", 0, "container port, also the Service port (default: the image's first EXPOSE)")
	f.Int32Var(&o.Replicas, "replicas", 0, "Deployment replicas (default: left out, so the HPA owns the count and re-applying does not reset it)")
	f.Int32Var(&minR, "min", k8s.DefaultMinReplicas, "HPA minimum replicas")
	f.Int32Var(&maxR, "max", k8s.DefaultMaxReplicas, "HPA maximum replicas")
	f.Int32Var(&cpuPercent, "cpu", k8s.DefaultCPUPercent, "HPA target CPU utilization, percent of the CPU request")
	f.StringVar(&o.Resources.CPURequest, "cpu-request", k8s.DefaultCPURequest, "container CPU request")
	f.StringVar(&o.Resources.MemoryRequest, "memory-request", k8s.DefaultMemoryRequest, "container memory request")
	f.StringVar(&o.Resources.CPULimit, "cpu-limit", "", "container CPU limit (default: none; on gke-autopilot the request)")
	f.StringVar(&o.Resources.MemoryLimit, "memory-limit", "", "container memory limit (default: the memory request; none: no limit)")
	f.StringVar(&o.Resources.VolumeSize, "volume-size", k8s.DefaultVolumeSize, "sizeLimit of each emptyDir the agent writes to")
	f.StringVar(&platform, "cluster", "generic", "cluster `KIND`: aks, eks, gke, gke-autopilot or generic")
	// Old name, kept so scripts keep working: pflag prints the
	// deprecation note when it is used and hides it from --help.
	f.StringVar(&platform, "platform", "generic", "cluster kind (renamed --cluster)")
	f.MarkDeprecated("platform", "use --cluster (--platform is the image's os/arch in wrap and plan)")
	f.BoolVar(&pin, "pin", false, "name the image by digest (read from the registry)")
	f.BoolVar(&offline, "offline", false, "do not read the image; take --profile and --user instead")
	f.StringVar(&prof, "profile", "", "with --offline: the `PROFILE` the image was wrapped with (built-in name or file)")
	f.StringVar(&user, "user", "", "numeric `UID[:GID]` to run as (default: the image's USER; required with --offline)")
	f.StringVar(&output, "output-file", "", "write the manifests to `FILE` (default: stdout)")
	f.StringVarP(&output, "output", "o", "", "write the manifests to this file (renamed --output-file)")
	f.MarkDeprecated("output", "use --output-file FILE (-o is the output format in plan, verify and lint)")
	return c
}
