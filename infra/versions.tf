terraform {
  # 1.10 brought the S3 backend's native lock file (use_lockfile); 1.11.1 is the floor of the
  # RDS module v7 (write-only attributes).
  required_version = ">= 1.11.1, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.50"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}
