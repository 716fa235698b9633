package templates

import "embed"

// CI holds the CI templates (ci/<system>/...): GitHub Actions (composite
// action and an example workflow), GitLab CI, Azure Pipelines (ACR to AKS),
// AWS CodeBuild (ECR to EKS) and Google Cloud Build (Artifact Registry to
// GKE). Each builds the monitored image with the jbuild frontend or wraps
// an existing one, pushes it, renders manifests with `jbuild k8s` and
// applies them. Embedded so tools can print or check them.
//
//go:embed ci
var CI embed.FS
