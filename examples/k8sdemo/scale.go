package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jbuild-dev/jbuild/internal/testing/k8scluster"
)

type pod struct{ name, ip string }

// readyPods lists the app's Running, Ready pods.
func readyPods(ctx context.Context, c *k8scluster.Cluster) ([]pod, error) {
	out, err := c.Kubectl(ctx, nil, "get", "pods", "-l", "app.kubernetes.io/name="+app, "-o",
		`jsonpath={range .items[*]}{.metadata.name} {.status.podIP} {.status.phase} {.status.conditions[?(@.type=="Ready")].status} {.metadata.deletionTimestamp}{"\n"}{end}`)
	if err != nil {
		return nil, err
	}
	var pods []pod
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[2] == "Running" && f[3] == "True" {
			pods = append(pods, pod{f[0], f[1]})
		}
	}
	return pods, nil
}

// waitScaled prints the HPA every 10s until its status counts 3 replicas,
// 3 pods are Ready and each one's agent reported with the build's domain
// id.
func waitScaled(ctx context.Context, c *k8scluster.Cluster, data *k8scluster.AgentServer) ([]pod, error) {
	want := "JENNIFER domain_id=" + domainID + " "
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		hpa, _ := c.Kubectl(ctx, nil, "get", "hpa", app, "--no-headers")
		pods, err := readyPods(ctx, c)
		if err != nil {
			return nil, err
		}
		reports := data.Reports()
		reported := 0
		for _, p := range pods {
			if strings.HasPrefix(reports[p.ip].Line, want) {
				reported++
			}
		}
		current, _ := c.Kubectl(ctx, nil, "get", "hpa", app, "-o", "jsonpath={.status.currentReplicas}")
		fmt.Printf("%s  hpa: %s | ready pods %d, reported %d\n", time.Now().Format("15:04:05"), strings.Join(strings.Fields(hpa), " "), len(pods), reported)
		if len(pods) == 3 && reported == 3 && current == "3" {
			return pods, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the HPA did not reach 3 pods that all reported before the load ended (%d ready, %d reported)", len(pods), reported)
		case <-tick.C:
		}
	}
}

// waitPods waits until exactly n pods of the app remain.
func waitPods(ctx context.Context, c *k8scluster.Cluster, n int) error {
	for i := 0; i < 120; i++ {
		out, err := c.Kubectl(ctx, nil, "get", "pods", "-l", "app.kubernetes.io/name="+app, "-o", "name")
		if err == nil && len(strings.Fields(out)) == n {
			return nil
		}
		time.Sleep(time.Second)
	}
	return fmt.Errorf("the deployment did not get down to %d pod(s)", n)
}
