#!/usr/bin/env bash
# Operates ToggleMaster's GitOps deployment: Argo CD syncs gitops/ and k8s/keda/ from Git (app of apps).
#
#   scripts/gitops-manager.sh deploy   [service]   apply the Argo CD project and applications, wait until healthy
#   scripts/gitops-manager.sh status   [service]   sync and health of the applications; pods, scalers of a service
#   scripts/gitops-manager.sh sync     [service]   sync now instead of at Argo CD's next poll (needs the argocd CLI)
#   scripts/gitops-manager.sh rollback <service> [commit]
#                                    revert the service's last image bump (or that commit) in Git; push it and
#                                    Argo CD rolls the previous image out
#
# service: auth-service flag-service targeting-service evaluation-service analytics-service analytics-worker
#          release-worker webhook-worker console
#          (sync also takes the platform applications: togglemaster, togglemaster-platform, -keda, -ingress)
# Environment: ARGOCD_NAMESPACE (argocd), TIMEOUT for deploy's wait (600 seconds).
set -euo pipefail

NAMESPACE="togglemaster"
ARGOCD_NAMESPACE="${ARGOCD_NAMESPACE:-argocd}"
ROOT_APP="togglemaster"
WORKLOADS=(auth-service flag-service targeting-service evaluation-service analytics-service analytics-worker release-worker webhook-worker console)
PLATFORM_APPS=(togglemaster-platform togglemaster-keda togglemaster-ingress)
TIMEOUT="${TIMEOUT:-600}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ACCOUNT_ENV="gitops/environments/production/account.env"

usage() {
  sed -n '2,/^set -euo pipefail$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}
log() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

is_workload() {
  local candidate="$1" workload
  for workload in "${WORKLOADS[@]}"; do
    [ "$workload" = "$candidate" ] && return 0
  done
  return 1
}

is_application() {
  local candidate="$1" app
  is_workload "$candidate" && return 0
  for app in "$ROOT_APP" "${PLATFORM_APPS[@]}"; do
    [ "$app" = "$candidate" ] && return 0
  done
  return 1
}

require_kubectl() {
  command -v kubectl >/dev/null 2>&1 ||
    die "kubectl is not installed. Install it (https://kubernetes.io/docs/tasks/tools/), then: aws eks update-kubeconfig --name togglemaster --region us-east-1"
  local context
  context="$(kubectl config current-context 2>/dev/null || true)"
  [ -n "$context" ] || die "kubectl has no current context. Run: aws eks update-kubeconfig --name togglemaster --region us-east-1"
  kubectl get --raw=/readyz --request-timeout=15s >/dev/null 2>&1 ||
    die "the cluster of context '$context' does not answer. Check your AWS credentials (aws sts get-caller-identity) and the cluster endpoint's allowed CIDRs."
}

require_argocd_crds() {
  kubectl get crd applications.argoproj.io >/dev/null 2>&1 ||
    die "Argo CD is not installed in this cluster. Run gitops/argocd/install.sh first."
}

require_git() {
  command -v git >/dev/null 2>&1 || die "git is not installed."
  git -C "$REPO_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$REPO_ROOT is not a Git working tree."
}

# Waits until an Argo CD application exists, is Synced and Healthy (the root application creates the children).
wait_app() {
  local app="$1" deadline sync health
  deadline=$((SECONDS + TIMEOUT))
  while :; do
    sync="$(kubectl -n "$ARGOCD_NAMESPACE" get application "$app" -o jsonpath='{.status.sync.status}' 2>/dev/null || true)"
    health="$(kubectl -n "$ARGOCD_NAMESPACE" get application "$app" -o jsonpath='{.status.health.status}' 2>/dev/null || true)"
    if [ "$sync" = "Synced" ] && [ "$health" = "Healthy" ]; then
      log "$app: Synced, Healthy"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      warn "$app is ${sync:-not created yet}/${health:-unknown} after ${TIMEOUT}s. Look at: kubectl -n $ARGOCD_NAMESPACE describe application $app"
      return 1
    fi
    sleep 10
  done
}

cmd_deploy() {
  local service="${1:-}" placeholders unbumped app failed=0
  [ -z "$service" ] || is_application "$service" || die "unknown service '$service' (one of: ${WORKLOADS[*]})"
  require_kubectl
  require_argocd_crds

  placeholders="$(grep -nE '000000000000|REPLACE-ME' "$REPO_ROOT/$ACCOUNT_ENV" || true)"
  [ -z "$placeholders" ] ||
    die "$ACCOUNT_ENV still has placeholders (fill them from 'terraform -chdir=infra output -json', commit and push, see docs/operations.md):
$placeholders"
  unbumped="$(grep -l 'newTag: set-by-ci' "$REPO_ROOT"/gitops/manifests/*/kustomization.yaml || true)"
  [ -z "$unbumped" ] ||
    warn "no image built yet for (CI sets the tag on its first run; until then these pods cannot pull their image):
$unbumped"

  log "applying the Argo CD project and applications (gitops/apps)"
  kubectl apply -k "$REPO_ROOT/gitops/apps"
  log "Argo CD now syncs from Git; waiting for the applications (up to ${TIMEOUT}s each)"
  if [ -n "$service" ]; then
    wait_app "$service" || failed=1
  else
    for app in "$ROOT_APP" "${PLATFORM_APPS[0]}" "${WORKLOADS[@]}" "${PLATFORM_APPS[@]:1}"; do
      wait_app "$app" || failed=1
    done
  fi
  [ "$failed" -eq 0 ] || die "some applications are not healthy yet: scripts/gitops-manager.sh status"
  log "deployed. Public address: kubectl -n $NAMESPACE get ingress togglemaster -o jsonpath='{.status.loadBalancer.ingress[0].hostname}'"
}

cmd_status() {
  local service="${1:-}"
  [ -z "$service" ] || is_workload "$service" || die "unknown service '$service' (one of: ${WORKLOADS[*]})"
  require_kubectl
  require_argocd_crds
  log "Argo CD applications"
  kubectl -n "$ARGOCD_NAMESPACE" get applications -l app.kubernetes.io/part-of=togglemaster \
    -o custom-columns='NAME:.metadata.name,SYNC:.status.sync.status,HEALTH:.status.health.status,REVISION:.status.sync.revision,OPERATION:.status.operationState.phase'
  if [ -z "$service" ]; then
    log "workloads in namespace $NAMESPACE"
    kubectl -n "$NAMESPACE" get deployments,horizontalpodautoscalers,pods -o wide
    kubectl -n "$NAMESPACE" get scaledobjects 2>/dev/null || true
    return 0
  fi
  log "$service"
  kubectl -n "$NAMESPACE" get deployment "$service" \
    -o custom-columns='NAME:.metadata.name,READY:.status.readyReplicas,DESIRED:.spec.replicas,IMAGE:.spec.template.spec.containers[0].image'
  kubectl -n "$NAMESPACE" get replicasets,pods -l "app.kubernetes.io/name=$service" -o wide
  # The workers are scaled by KEDA (k8s/keda): their HPA is the one KEDA made, keda-hpa-<workload>.
  if [ "$service" = "analytics-worker" ] || [ "$service" = "release-worker" ] || [ "$service" = "webhook-worker" ]; then
    kubectl -n "$NAMESPACE" get scaledobject "$service" 2>/dev/null || warn "no ScaledObject yet (application togglemaster-keda)"
    kubectl -n "$NAMESPACE" get horizontalpodautoscaler "keda-hpa-$service" 2>/dev/null || true
  else
    kubectl -n "$NAMESPACE" get horizontalpodautoscaler "$service" 2>/dev/null || true
  fi
  kubectl -n "$NAMESPACE" get externalsecrets -l "app.kubernetes.io/name=$service" 2>/dev/null || true
}

cmd_sync() {
  local service="${1:-}"
  [ -z "$service" ] || is_application "$service" || die "unknown application '$service' (one of: ${WORKLOADS[*]} $ROOT_APP ${PLATFORM_APPS[*]})"
  command -v argocd >/dev/null 2>&1 ||
    die "the argocd CLI is not installed (https://argo-cd.readthedocs.io/en/stable/cli_installation/).
Without it, ask Argo CD to look at Git now; it then syncs by itself (automated sync):
  kubectl -n $ARGOCD_NAMESPACE annotate application ${service:-$ROOT_APP} argocd.argoproj.io/refresh=normal --overwrite"
  if ! argocd account get-user-info >/dev/null 2>&1; then
    die "the argocd CLI is not logged in. Run: kubectl -n $ARGOCD_NAMESPACE port-forward svc/argocd-server 8080:443 &
  argocd login localhost:8080 --username admin --insecure
(or use core mode: kubectl config set-context --current --namespace $ARGOCD_NAMESPACE; export ARGOCD_OPTS=--core)"
  fi
  if [ -n "$service" ]; then
    log "syncing $service"
    argocd app sync "$service" --timeout "$TIMEOUT"
    argocd app wait "$service" --health --timeout "$TIMEOUT"
  else
    log "syncing the root application, then every ToggleMaster application"
    argocd app sync "$ROOT_APP" --timeout "$TIMEOUT"
    argocd app sync -l app.kubernetes.io/part-of=togglemaster --timeout "$TIMEOUT"
    argocd app wait -l app.kubernetes.io/part-of=togglemaster --health --timeout "$TIMEOUT"
  fi
}

cmd_rollback() {
  local service="${1:-}" commit="${2:-}" file current previous touched subject
  [ -n "$service" ] || die "rollback needs a service: scripts/gitops-manager.sh rollback <service> [commit] (one of: ${WORKLOADS[*]})"
  is_workload "$service" || die "unknown service '$service' (one of: ${WORKLOADS[*]})"
  require_git
  file="gitops/manifests/$service/kustomization.yaml"
  [ -z "$(git -C "$REPO_ROOT" status --porcelain -- gitops/manifests)" ] ||
    die "gitops/manifests has uncommitted changes; commit or stash them first."

  if [ -z "$commit" ]; then
    commit="$(git -C "$REPO_ROOT" log -n 1 --format=%H -G'newTag:' -- "$file")"
    [ -n "$commit" ] || die "no image bump of $service in the history of $file."
    subject="$(git -C "$REPO_ROOT" log -n 1 --format=%s "$commit")"
    case "$subject" in
      Revert\ *)
        die "the last image change of $service is already a rollback ($subject).
To go further back, revert an earlier bump explicitly: scripts/gitops-manager.sh rollback $service <commit>
$(git -C "$REPO_ROOT" log -n 10 --format='  %h %ad %s' --date=short -G'newTag:' -- "$file")"
        ;;
    esac
  fi
  git -C "$REPO_ROOT" cat-file -e "$commit^{commit}" 2>/dev/null || die "$commit is not a commit of this repository."
  current="$(git -C "$REPO_ROOT" show "$commit:$file" 2>/dev/null | sed -n 's/^ *newTag: *//p')"
  previous="$(git -C "$REPO_ROOT" show "$commit^:$file" 2>/dev/null | sed -n 's/^ *newTag: *//p')"
  if [ -z "$current" ] || [ -z "$previous" ] || [ "$current" = "$previous" ]; then
    die "$commit does not change the image tag of $service: nothing to roll back."
  fi
  touched="$(git -C "$REPO_ROOT" show --format= --name-only "$commit" | tr '\n' ' ')"

  log "$service: image tag $current -> $previous (reverting $(git -C "$REPO_ROOT" log -n 1 --format='%h %s' "$commit"))"
  log "that commit changed: $touched"
  # Argo CD's own rollback is refused while automated sync is on, and self-heal would undo a kubectl rollback:
  # Git is the truth, so the rollback is a revert commit that Argo CD then syncs like any other change.
  # (An analytics bump changes analytics-service and analytics-worker together, a flags bump flag-service,
  # release-worker and webhook-worker; the revert restores them all.)
  git -C "$REPO_ROOT" revert --no-edit "$commit"
  cat <<EOF

Created the revert commit locally. To roll out:
  git push
  scripts/gitops-manager.sh sync $service      (or wait for Argo CD's next poll, about 3 minutes)
  scripts/gitops-manager.sh status $service
Migrations are forward-only: the previous image must work with the current schema (expand/contract changes).
EOF
}

main() {
  local command="${1:-}"
  [ "$#" -eq 0 ] || shift
  case "$command" in
    deploy) cmd_deploy "$@" ;;
    status) cmd_status "$@" ;;
    sync) cmd_sync "$@" ;;
    rollback) cmd_rollback "$@" ;;
    -h | --help | help) usage ;;
    "")
      usage >&2
      exit 2
      ;;
    *) die "unknown command '$command' (deploy, status, sync, rollback; --help)" ;;
  esac
}

main "$@"
