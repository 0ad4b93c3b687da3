################################################################################
# EKS: control plane, managed node group (2 x t3.medium, 1..4), OIDC provider for IRSA,
# core add-ons managed through the EKS add-on API.
################################################################################

# Accepted findings (reviewed):
# - The public API endpoint is on so that Terraform (helm provider) and operators outside the VPC
#   can reach it; it only accepts var.cluster_endpoint_public_access_cidrs (0.0.0.0/0 refused).
# - Nodes need egress to the internet (through the NAT gateway) to pull public images
#   (KEDA, Argo CD, External Secrets) and to reach AWS APIs without VPC endpoints.
# - The module's own IAM policies (cluster role, node role) are AWS-managed or scoped by the module.
#trivy:ignore:AVD-AWS-0040
#trivy:ignore:aws-eks-no-public-cluster-access
#trivy:ignore:AVD-AWS-0104
#trivy:ignore:aws-ec2-no-public-egress-sgr
#trivy:ignore:AVD-AWS-0057
#trivy:ignore:aws-iam-no-policy-wildcards
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.25.1"

  name               = local.cluster_name
  kubernetes_version = var.kubernetes_version

  vpc_id     = module.vpc.vpc_id
  subnet_ids = module.vpc.private_subnets

  endpoint_private_access      = true
  endpoint_public_access       = var.cluster_endpoint_public_access
  endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs

  # IAM OIDC provider for IAM Roles for Service Accounts (see iam.tf and addons.tf).
  enable_irsa = true

  # The identity that runs `terraform apply` becomes cluster admin through an access entry.
  enable_cluster_creator_admin_permissions = true

  enabled_log_types                      = ["api", "audit", "authenticator"]
  cloudwatch_log_group_retention_in_days = var.log_retention_days

  addons = {
    coredns    = {}
    kube-proxy = {}
    vpc-cni = {
      before_compute = true
      # Enforce the NetworkPolicies of gitops/ (the VPC CNI's network policy agent is off by default).
      configuration_values = jsonencode({ enableNetworkPolicy = "true" })
    }
    # CPU metrics for the HorizontalPodAutoscalers of the HTTP services (an EKS community add-on).
    metrics-server = {}
    eks-pod-identity-agent = {
      before_compute = true
    }
  }

  eks_managed_node_groups = {
    default = {
      ami_type       = "AL2023_x86_64_STANDARD"
      instance_types = [var.node_instance_type]

      min_size     = var.node_min_size
      max_size     = var.node_max_size
      desired_size = var.node_desired_size
    }
  }
}
