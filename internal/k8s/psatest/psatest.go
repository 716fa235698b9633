// Package psatest checks pod templates with Kubernetes' own Pod Security
// admission code (k8s.io/pod-security-admission/policy), the checks the
// API server runs for a namespace labelled
// pod-security.kubernetes.io/enforce=restricted. It is for tests only: the
// jbuild binary does not link it.
package psatest

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// Restricted returns why the pod template would be refused at the
// restricted level of the latest Pod Security Standards version, or nil if
// admission allows it.
func Restricted(tmpl corev1.PodTemplateSpec) error {
	ev, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return fmt.Errorf("pod security evaluator: %w", err)
	}
	lv := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	res := policy.AggregateCheckResults(ev.EvaluatePod(lv, &tmpl.ObjectMeta, &tmpl.Spec))
	if res.Allowed {
		return nil
	}
	return fmt.Errorf("violates PodSecurity %q: %s", lv.String(), strings.TrimSpace(res.ForbiddenDetail()))
}
