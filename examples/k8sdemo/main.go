// Command k8sdemo is the seed's walkthrough with jbuild, on a real
// single-node Kubernetes started for it (internal/testing/k8scluster: k3s
// and metrics-server built from their Go modules, Debian's containerd):
//
//  1. the Java sample is built from its Dockerfile, as shipped, through
//     BuildKit and the jbuild frontend, with the stand-in agent of
//     examples/agents and the data server's address and a domain id as
//     build args;
//  2. `jbuild k8s` renders its Deployment and Service, applied with the
//     cluster's own kubectl in a namespace that enforces the restricted
//     Pod Security level;
//  3. `kubectl autoscale deployment --max=3 java-sample --min=1`, as the
//     seed writes it;
//  4. a bounded load on the Service (from inside the cluster's network
//     namespace, nowhere else) until the HorizontalPodAutoscaler runs 3
//     pods, while a stand-in data server counts one agent connection per
//     pod, with the domain id of the build;
//  5. it prints pods, HPA and which pod's agent reported, scales back to
//     one pod and removes everything.
//
// Run it with `make k8s-demo` (root; `make test-deps` installs what it
// needs; the first run builds k3s, about 10 minutes on 2 cores).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jbuild-dev/jbuild/internal/testing/k8scluster"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

const (
	namespace = "jbuild-demo"
	app       = "java-sample"
	domainID  = "4242"
)

var (
	jbuildBin  = flag.String("jbuild", "bin/jbuild", "the jbuild binary (make k8s-demo builds it)")
	workers    = flag.Int("workers", 24, "concurrent clients of the load")
	cpuRequest = flag.String("cpu-request", "50m", "the pods' CPU request (jbuild k8s --cpu-request)")
	maxLoad    = flag.Duration("load-for", 6*time.Minute, "the longest the load runs (it stops once 3 pods reported)")
	timeout    = flag.Duration("timeout", 25*time.Minute, "the whole demo's limit")
)

func main() {
	flag.Parse()
	start := time.Now()
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "\nk8s-demo: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("\nk8s-demo: done in %s\n", time.Since(start).Round(time.Second))
}

func run() (err error) {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, *timeout)
	defer cancel()
	jbuild, err := filepath.Abs(*jbuildBin)
	if err != nil || !exists(jbuild) {
		return fmt.Errorf("no jbuild binary at %s: run `make k8s-demo` (it builds bin/jbuild) or pass -jbuild", *jbuildBin)
	}

	step("Starting a single-node Kubernetes (k3s %s, containerd, metrics-server %s)", k8scluster.K3sVersion, k8scluster.MetricsServerVersion)
	c, err := k8scluster.Start(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			fmt.Printf("\ncluster logs (tails):\n%s", c.Logs(3000))
		}
		c.Stop()
		if left := c.Leftovers(); len(left) > 0 {
			fmt.Printf("cluster stopped, but left behind: %q\n", left)
		} else {
			fmt.Println("cluster stopped: no process, mount, link, cgroup or file left behind")
		}
	}()
	data, err := c.StartAgentServer()
	if err != nil {
		return fmt.Errorf("data server: %w", err)
	}
	defer data.Close()
	kubectl(ctx, c, "get", "nodes", "-o", "wide")
	fmt.Printf("stand-in JENNIFER data server listening on %s:%d (an address of the node's)\n", k8scluster.DataServerIP, k8scluster.DataServerPort)

	step("Building examples/java-sample from its Dockerfile with the jbuild frontend")
	reg, stopReg, err := testenv.StartRegistry()
	if err != nil {
		return err
	}
	defer stopReg()
	bk, stopBk, err := testenv.StartBuildkitd(reg)
	if err != nil {
		return err
	}
	defer stopBk()
	frontend, err := testenv.PushFrontendImage(reg)
	if err != nil {
		return fmt.Errorf("frontend image: %w", err)
	}
	image := reg + "/samples/" + app + ":1.0"
	agent := filepath.Join(testenv.RepoRoot(), "examples/agents/jennifer-java-sample/agent.java")
	settings := map[string]string{"JENNIFER_SERVER_ADDRESS": k8scluster.DataServerIP, "JENNIFER_SERVER_PORT": fmt.Sprint(k8scluster.DataServerPort), "JENNIFER_DOMAIN_ID": domainID}
	fmt.Printf("BuildKit's Dockerfile frontend, then the jbuild frontend; as a docker command:\n")
	fmt.Printf("docker buildx build --build-arg BUILDKIT_SYNTAX=%s \\\n    --build-context jennifer-agent=examples/agents/jennifer-java-sample/agent.java \\\n"+
		"    --build-arg JENNIFER_SERVER_ADDRESS=%s --build-arg JENNIFER_SERVER_PORT=%d --build-arg JENNIFER_DOMAIN_ID=%s \\\n    -t %s --push examples/java-sample\n",
		frontend, k8scluster.DataServerIP, k8scluster.DataServerPort, domainID, image)
	t0 := time.Now()
	if err := buildSample(ctx, bk, frontend, reg, agent, image, settings); err != nil {
		return err
	}
	fmt.Printf("built and pushed in %s\n", time.Since(t0).Round(time.Second))
	img, err := readImage(ctx, image)
	if err != nil {
		return err
	}
	// The node pulls nothing from the host's loopback registry: the image
	// enters the cluster's containerd under the same name.
	if err := c.Import(ctx, image, img); err != nil {
		return err
	}

	step("jbuild k8s: manifests for the monitored image")
	dir, err := os.MkdirTemp("", "jbuild-k8s-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// A small CPU request: the HPA's target is a share of it (80% with
	// kubectl autoscale's default), and the load a 2-core machine can
	// send while running the cluster must cross it.
	cmd := exec.CommandContext(ctx, jbuild, "k8s", image, "--namespace", namespace, "--cpu-request", *cpuRequest)
	fmt.Printf("$ jbuild %s > demo.yaml\n", strings.Join(cmd.Args[1:], " "))
	cmd.Stderr = os.Stdout
	yaml, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("jbuild k8s: %w", err)
	}
	// jbuild k8s writes the HorizontalPodAutoscaler that `kubectl
	// autoscale` creates; the demo runs the seed's command instead.
	demo := filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(demo, withoutKind(yaml, "HorizontalPodAutoscaler"), 0o644); err != nil {
		return err
	}
	fmt.Printf("%s\n", withoutKind(yaml, "HorizontalPodAutoscaler"))

	step("kubectl apply -f demo.yaml (namespace %s enforces Pod Security \"restricted\")", namespace)
	if err := c.CreateNamespace(ctx, namespace, "restricted"); err != nil {
		return err
	}
	if _, err := c.Kubectl(ctx, nil, "config", "set-context", "--current", "--namespace="+namespace); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"apply", "-f", demo},
		{"rollout", "status", "deployment/" + app, "--timeout=4m"},
		{"autoscale", "deployment", "--max=3", app, "--min=1"},
	} {
		if err := kubectl(ctx, c, args...); err != nil {
			return err
		}
	}
	if err := c.WaitMetrics(ctx, 4*time.Minute); err != nil {
		return err
	}

	step("Load on the Service until the HPA runs 3 pods and every pod's agent reported")
	ip, err := c.Kubectl(ctx, nil, "get", "service", app, "-o", "jsonpath={.spec.clusterIP}:{.spec.ports[0].port}")
	if err != nil {
		return err
	}
	url := "http://" + strings.TrimSpace(ip) + "/"
	loadCtx, stopLoad := context.WithTimeout(ctx, *maxLoad)
	l := startLoad(loadCtx, c.HTTPClient(5*time.Second), url, *workers)
	fmt.Printf("%d clients on %s (the Service's ClusterIP, from the node), for at most %s\n", *workers, url, *maxLoad)
	pods, err := waitScaled(loadCtx, c, data)
	stopLoad()
	l.wait()
	fmt.Printf("load: %d answers, %d errors\n", l.ok.Load(), l.failed.Load())
	if err != nil {
		kubectl(ctx, c, "get", "pods,hpa", "-o", "wide")
		return err
	}
	kubectl(ctx, c, "get", "pods", "-o", "wide")
	kubectl(ctx, c, "get", "hpa")
	reports := data.Reports()
	fmt.Println("\nagents that reported to the data server:")
	for _, p := range pods {
		r := reports[p.ip]
		fmt.Printf("  %-36s %-12s %s  (%s)\n", p.name, p.ip, r.Line, r.At.Format("15:04:05"))
	}
	fmt.Printf("%d pods; the data server had %d connections, from %d addresses; domain id %s, as the build wrote it\n",
		len(pods), data.Connections(), len(reports), domainID)

	step("Scaling back down and cleaning up")
	for _, args := range [][]string{
		{"delete", "hpa", app},
		{"scale", "deployment", app, "--replicas=1"},
	} {
		if err := kubectl(ctx, c, args...); err != nil {
			return err
		}
	}
	if err := waitPods(ctx, c, 1); err != nil {
		return err
	}
	kubectl(ctx, c, "get", "pods")
	return kubectl(ctx, c, "delete", "namespace", namespace, "--timeout=2m")
}

func step(format string, args ...any) {
	fmt.Printf("\n==> "+format+"\n", args...)
}

// kubectl prints and runs kubectl args with its output on stdout.
func kubectl(ctx context.Context, c *k8scluster.Cluster, args ...string) error {
	return show(ctx, c.KubectlCommand(ctx, args...))
}

func show(ctx context.Context, cmd *exec.Cmd) error {
	name := filepath.Base(cmd.Path)
	fmt.Printf("$ %s %s\n", name, strings.Join(cmd.Args[1:], " "))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(cmd.Args[1:], " "), err)
	}
	return nil
}

// withoutKind drops the YAML documents of kind from a multi-document file.
func withoutKind(yaml []byte, kind string) []byte {
	var keep [][]byte
	for _, doc := range bytes.Split(yaml, []byte("\n---\n")) {
		if !bytes.Contains(doc, []byte("\nkind: "+kind+"\n")) && !bytes.HasPrefix(doc, []byte("kind: "+kind+"\n")) {
			keep = append(keep, doc)
		}
	}
	return bytes.Join(keep, []byte("\n---\n"))
}
