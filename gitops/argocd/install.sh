#!/usr/bin/env bash
# Installs Argo CD in the cluster of the current kubectl context (or finds the one Terraform installed) and prepares
# it for ToggleMaster. Run it after `terraform apply` and `aws eks update-kubeconfig`, before
# `scripts/gitops-manager.sh deploy`.
#
#   gitops/argocd/install.sh [--expose] [--help]
#
#   1. Argo CD ARGOCD_VERSION from the project's release manifests, unless Argo CD already runs in ARGOCD_NAMESPACE
#      (infra/addons.tf installs it with Helm, chart argo-cd 9.5.14 = Argo CD v3.4.2, when install_addons = true:
#      that installation is kept as it is).
#   2. The health check of Application resources in argocd-cm, without which the sync waves of the root
#      application (app of apps) do not wait for one child to be healthy before the next.
#   3. Waits for the Argo CD components, then prints how to log in.
#   --expose  also publishes the Argo CD UI through a LoadBalancer Service (internet-facing: only with SSO or a
#             strong admin password; the default is `kubectl port-forward`).
set -euo pipefail

# Pinned: the same Argo CD as the Helm chart of infra/addons.tf. Override only to test an upgrade.
ARGOCD_VERSION="${ARGOCD_VERSION:-v3.4.2}"
ARGOCD_NAMESPACE="${ARGOCD_NAMESPACE:-argocd}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-600s}"
EXPOSE=false

usage() {
  sed -n '2,/^set -euo pipefail$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

log() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

for argument in "$@"; do
  case "$argument" in
    --expose) EXPOSE=true ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument: $argument (see --help)" ;;
  esac
done

command -v kubectl >/dev/null 2>&1 ||
  die "kubectl is not installed. Install it (https://kubernetes.io/docs/tasks/tools/), then point it at the cluster: aws eks update-kubeconfig --name togglemaster --region us-east-1"

context="$(kubectl config current-context 2>/dev/null || true)"
[ -n "$context" ] ||
  die "kubectl has no current context. Run: aws eks update-kubeconfig --name togglemaster --region us-east-1"
kubectl get --raw=/readyz --request-timeout=15s >/dev/null 2>&1 ||
  die "the cluster of context '$context' does not answer. Check your AWS credentials (aws sts get-caller-identity), the cluster endpoint's allowed CIDRs, and that Terraform finished."
log "cluster: $context"

if kubectl -n "$ARGOCD_NAMESPACE" get deployment argocd-server >/dev/null 2>&1; then
  image="$(kubectl -n "$ARGOCD_NAMESPACE" get deployment argocd-server -o jsonpath='{.spec.template.spec.containers[0].image}')"
  managed_by="$(kubectl -n "$ARGOCD_NAMESPACE" get deployment argocd-server -o jsonpath='{.metadata.labels.app\.kubernetes\.io/managed-by}')"
  log "Argo CD already runs in namespace $ARGOCD_NAMESPACE ($image${managed_by:+, managed by $managed_by}): not reinstalling it"
  case "$image" in
    *":$ARGOCD_VERSION") ;;
    *) warn "it is not $ARGOCD_VERSION; upgrade it where it was installed (infra/addons.tf for the Helm release)" ;;
  esac
else
  log "installing Argo CD $ARGOCD_VERSION in namespace $ARGOCD_NAMESPACE"
  kubectl create namespace "$ARGOCD_NAMESPACE" --dry-run=client -o yaml | kubectl apply -f -
  # Server-side apply: the CRDs are too large for the last-applied annotation of a client-side apply.
  kubectl apply -n "$ARGOCD_NAMESPACE" --server-side --force-conflicts \
    -f "https://raw.githubusercontent.com/argoproj/argo-cd/${ARGOCD_VERSION}/manifests/install.yaml"
fi

log "waiting for the Argo CD components (up to $WAIT_TIMEOUT)"
kubectl -n "$ARGOCD_NAMESPACE" rollout status deployment/argocd-server --timeout="$WAIT_TIMEOUT"
kubectl -n "$ARGOCD_NAMESPACE" rollout status deployment/argocd-repo-server --timeout="$WAIT_TIMEOUT"
kubectl -n "$ARGOCD_NAMESPACE" rollout status statefulset/argocd-application-controller --timeout="$WAIT_TIMEOUT"

log "adding the Application health check to argocd-cm (sync waves of the app of apps wait on it)"
patch_file="$(mktemp)"
trap 'rm -f "$patch_file"' EXIT
cat >"$patch_file" <<'PATCH'
data:
  resource.customizations.health.argoproj.io_Application: |
    hs = {}
    hs.status = "Progressing"
    hs.message = ""
    if obj.status ~= nil then
      if obj.status.health ~= nil then
        hs.status = obj.status.health.status
        if obj.status.health.message ~= nil then
          hs.message = obj.status.health.message
        end
      end
    end
    return hs
PATCH
kubectl -n "$ARGOCD_NAMESPACE" patch configmap argocd-cm --type merge --patch-file "$patch_file" >/dev/null
if [ "${managed_by:-}" = "Helm" ]; then
  warn "argocd-cm belongs to the Helm release: add this health check to its values (configs.cm) in infra/addons.tf, or the next Helm upgrade removes it"
fi

if [ "$EXPOSE" = true ]; then
  log "publishing the Argo CD server through a LoadBalancer Service"
  kubectl -n "$ARGOCD_NAMESPACE" patch service argocd-server --patch '{"spec": {"type": "LoadBalancer"}}' >/dev/null
  warn "the Argo CD UI is now reachable from the internet: change the admin password or configure SSO"
fi

cat <<EOF

Argo CD is ready in namespace $ARGOCD_NAMESPACE.
  Initial admin password: kubectl -n $ARGOCD_NAMESPACE get secret argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d; echo
  UI and API:             kubectl -n $ARGOCD_NAMESPACE port-forward svc/argocd-server 8080:443   (https://localhost:8080, user admin)
  CLI login:              argocd login localhost:8080 --username admin --insecure
Next: fill gitops/environments/production/account.env, push, then run scripts/gitops-manager.sh deploy
EOF
