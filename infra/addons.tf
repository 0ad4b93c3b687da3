################################################################################
# Cluster add-ons installed by Terraform (pinned chart versions) and their IRSA roles:
#   - AWS Load Balancer Controller (ALB/NLB for Ingress and Services)
#   - External Secrets Operator (Secrets Manager -> Kubernetes Secrets)
#   - KEDA (scales the analytics worker on queue depth)
#   - Argo CD (GitOps)
#
# Terraform stops here. Argo CD then takes over: the Applications in gitops/ (bootstrapped once
# with `kubectl apply -f gitops/apps/`) deploy the namespace, service accounts (annotated with
# the role ARNs from `terraform output`), ExternalSecrets, KEDA ScaledObjects and the services.
################################################################################

locals {
  addons = local.names.addons

  irsa_annotation = "eks.amazonaws.com/role-arn"
}

################################################################################
# IRSA roles of the add-ons
################################################################################

# Accepted finding: the controller's upstream policy needs "*" on ec2/elasticloadbalancing
# Describe* calls (they have no resource-level permissions).
#trivy:ignore:AVD-AWS-0057
#trivy:ignore:aws-iam-no-policy-wildcards
module "irsa_aws_load_balancer_controller" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.2.3"

  name            = "${local.project}-${local.addons.awsLoadBalancerController.serviceAccount}"
  use_name_prefix = false
  policy_name     = "${local.project}-${local.addons.awsLoadBalancerController.serviceAccount}"
  description     = "IRSA role of the AWS Load Balancer Controller"

  attach_load_balancer_controller_policy = true

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${local.addons.awsLoadBalancerController.namespace}:${local.addons.awsLoadBalancerController.serviceAccount}"]
    }
  }
}

# External Secrets may read the "<project>/*" secrets and the RDS-managed master secrets, and
# nothing else (no ListSecrets, no writes).
# Accepted finding: "<project>/*" is a name prefix - Secrets Manager appends a random suffix.
#trivy:ignore:AVD-AWS-0057
#trivy:ignore:aws-iam-no-policy-wildcards
module "irsa_external_secrets" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.2.3"

  name            = "${local.project}-${local.addons.externalSecrets.serviceAccount}"
  use_name_prefix = false
  policy_name     = "${local.project}-${local.addons.externalSecrets.serviceAccount}"
  description     = "IRSA role of the External Secrets Operator"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${local.addons.externalSecrets.namespace}:${local.addons.externalSecrets.serviceAccount}"]
    }
  }

  permissions = {
    ReadToggleMasterSecrets = {
      actions = [
        "secretsmanager:GetSecretValue",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:ListSecretVersionIds",
      ]
      resources = concat(
        [local.project_secrets_arn_pattern],
        [for db in module.rds : db.db_instance_master_user_secret_arn],
      )
    }
  }
}

# KEDA's operator only reads the queue depth (aws-sqs-queue scaler, podIdentity provider aws).
module "irsa_keda_operator" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.2.3"

  name            = "${local.project}-${local.names.keda.operatorServiceAccount}"
  use_name_prefix = false
  policy_name     = "${local.project}-${local.names.keda.operatorServiceAccount}"
  description     = "IRSA role of the KEDA operator"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${local.names.keda.namespace}:${local.names.keda.operatorServiceAccount}"]
    }
  }

  permissions = {
    ReadQueueDepth = {
      actions   = ["sqs:GetQueueAttributes"]
      resources = [module.sqs_evaluation_events.queue_arn]
    }
  }
}

################################################################################
# Helm releases
################################################################################

resource "helm_release" "aws_load_balancer_controller" {
  count = var.install_addons ? 1 : 0

  name       = "aws-load-balancer-controller"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = "1.17.1"
  namespace  = local.addons.awsLoadBalancerController.namespace
  timeout    = 600

  values = [yamlencode({
    clusterName = module.eks.cluster_name
    region      = local.region
    vpcId       = module.vpc.vpc_id
    # Nodes keep the IMDS hop limit at 1, so the controller gets region/VPC from here.
    enableServiceMutatorWebhook = false
    serviceAccount = {
      create      = true
      name        = local.addons.awsLoadBalancerController.serviceAccount
      annotations = { (local.irsa_annotation) = module.irsa_aws_load_balancer_controller.arn }
    }
  })]

  depends_on = [module.eks]
}

resource "helm_release" "external_secrets" {
  count = var.install_addons ? 1 : 0

  name             = "external-secrets"
  repository       = "https://charts.external-secrets.io"
  chart            = "external-secrets"
  version          = "2.10.0"
  namespace        = local.addons.externalSecrets.namespace
  create_namespace = true
  timeout          = 600

  values = [yamlencode({
    installCRDs = true
    serviceAccount = {
      create      = true
      name        = local.addons.externalSecrets.serviceAccount
      annotations = { (local.irsa_annotation) = module.irsa_external_secrets.arn }
    }
  })]

  depends_on = [module.eks, helm_release.aws_load_balancer_controller]
}

resource "helm_release" "keda" {
  count = var.install_addons ? 1 : 0

  name             = "keda"
  repository       = "https://kedacore.github.io/charts"
  chart            = "keda"
  version          = "2.18.1"
  namespace        = local.names.keda.namespace
  create_namespace = true
  timeout          = 600

  # The chart's operator service account is keda-operator (platform-names.json keda.operatorServiceAccount);
  # the role ARN is annotated on it for TriggerAuthentication podIdentity.provider = aws.
  values = [yamlencode({
    podIdentity = {
      aws = {
        irsa = {
          enabled = true
          roleArn = module.irsa_keda_operator.arn
        }
      }
    }
  })]

  depends_on = [module.eks, helm_release.aws_load_balancer_controller]
}

resource "helm_release" "argocd" {
  count = var.install_addons ? 1 : 0

  name             = "argocd"
  repository       = "https://argoproj.github.io/argo-helm"
  chart            = "argo-cd"
  version          = "9.5.14"
  namespace        = local.addons.argocd.namespace
  create_namespace = true
  timeout          = 900

  # No SSO configured yet: the UI/CLI is reached with `kubectl port-forward` and the initial
  # admin secret; exposing it through an Ingress is left to gitops/.
  values = [yamlencode({
    dex = { enabled = false }
  })]

  depends_on = [module.eks, helm_release.aws_load_balancer_controller]
}
