provider "aws" {
  region = local.region

  default_tags {
    tags = local.tags
  }
}

# The helm provider talks to the cluster created in this configuration. It authenticates with
# `aws eks get-token`, so the machine running Terraform needs the AWS CLI and network access to
# the public endpoint (restricted to var.cluster_endpoint_public_access_cidrs).
provider "helm" {
  kubernetes = {
    host                   = module.eks.cluster_endpoint
    cluster_ca_certificate = base64decode(module.eks.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.eks.cluster_name, "--region", local.region]
    }
  }
}
