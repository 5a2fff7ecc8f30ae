#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Renders deploy/helm/buntime with helm (lint + template, four value sets) and checks the objects; skipped without helm.
# Usage: check_helm.sh REPO_ROOT. Exit 77 (meson: skipped) when helm is not installed.
set -uo pipefail
root=$1
chart="$root/deploy/helm/buntime"
helm=$(command -v helm || true)
if [[ -z "$helm" ]]; then
  echo "SKIP: helm is not installed, the chart was not rendered (https://helm.sh/docs/intro/install/)"
  exit 77
fi
source "$(dirname "${BASH_SOURCE[0]}")/../support/checks.sh"

"$helm" lint "$chart" || fail "helm lint"

# render NAME EXPECTED_KINDS [--set ...]: the rendering parses and holds exactly those kinds.
render() {
  local name=$1 kinds=$2; shift 2
  local out
  if ! out=$("$helm" template rel "$chart" "$@" 2>&1); then
    fail "$name: helm template: $out"; return
  fi
  got=$(python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
print(" ".join(sorted(d["kind"] for d in docs)))
dep = [d for d in docs if d["kind"] == "Deployment"][0]["spec"]["template"]["spec"]
c = dep["containers"][0]
assert c["readinessProbe"]["httpGet"]["path"] == "/_/api/health/ready"
assert c["livenessProbe"]["httpGet"]["path"] == "/_/api/health/live"
assert c["securityContext"]["readOnlyRootFilesystem"] is True
assert dep["terminationGracePeriodSeconds"] == 25, dep["terminationGracePeriodSeconds"]
' <<<"$out" 2>&1) || { fail "$name: $got"; return; }
  if [[ "$got" == "$kinds" ]]; then echo "ok: $name renders $kinds"; else fail "$name: kinds '$got', want '$kinds'"; fi
}
render defaults "ConfigMap Deployment PersistentVolumeClaim PodDisruptionBudget Service"
render secret+hpa+ingress "ConfigMap Deployment HorizontalPodAutoscaler Ingress PersistentVolumeClaim PodDisruptionBudget Secret Service" \
  --set buntime.masterKey=k --set autoscaling.enabled=true --set ingress.host=buntime.example --set ingress.tls.enabled=true
render apps-image "ConfigMap Deployment PodDisruptionBudget Service" \
  --set persistence.apps.enabled=false --set appsImage.repository=localhost/buntime-apps
render existing "ConfigMap Deployment PodDisruptionBudget Service" \
  --set persistence.apps.existingClaim=apps --set buntime.existingSecret=s --set podDisruptionBudget.enabled=false

finish
