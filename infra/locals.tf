locals {
  # The one place that names what Terraform creates and what the services and manifests use.
  names = jsondecode(file("${path.module}/../shared/contracts/platform-names.json"))

  project      = local.names.project
  region       = coalesce(var.aws_region, local.names.awsRegion)
  cluster_name = local.names.eks.clusterName

  # Workloads that own a PostgreSQL database (auth, flags, targeting): key => database name.
  databases = { for key, svc in local.names.services : key => svc.database if try(svc.database, null) != null }

  # One ECR repository per image: each service's and the web console's (the worker runs its service's image).
  # key => repository name.
  ecr_repositories = { for key, image in merge(local.names.services, local.names.frontends) : key => image.ecrRepository }

  # Secrets that Terraform creates in Secrets Manager: logical key => secret name.
  app_secrets = local.names.secrets

  # ARN pattern of every secret under "<project>/" (what External Secrets may read).
  project_secrets_arn_pattern = "arn:${data.aws_partition.current.partition}:secretsmanager:${local.region}:${data.aws_caller_identity.current.account_id}:secret:${local.project}/*"

  redis_port = 6379

  tags = merge(
    {
      Project   = local.project
      ManagedBy = "terraform"
      Stack     = "infra"
    },
    var.tags,
  )
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}
