terraform {
  # The state backend configured in infra/backend.tf relies on use_lockfile (Terraform >= 1.10).
  required_version = ">= 1.11.1, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.50"
    }
  }

  # Bootstrap keeps its own (tiny) state locally: it creates the bucket every other state lives
  # in. Keep terraform.tfstate of this directory safe, or migrate it into the bucket afterwards
  # (see docs/infrastructure.md).
}

provider "aws" {
  region = local.region

  default_tags {
    tags = local.tags
  }
}
