################################################################################
# General
################################################################################

variable "aws_region" {
  description = "AWS region. Defaults to awsRegion in shared/contracts/platform-names.json."
  type        = string
  default     = null
}

variable "tags" {
  description = "Extra tags added to every resource (Project, ManagedBy and Stack are always set)."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups this stack creates (EKS control plane, RDS, Redis, VPC flow logs)."
  type        = number
  default     = 30
}

################################################################################
# CI (GitHub Actions OIDC)
################################################################################

variable "github_repository" {
  description = "GitHub repository allowed to assume the CI role, as OWNER/REPO. Only its main branch is trusted."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must look like OWNER/REPO."
  }
}

variable "create_github_oidc_provider" {
  description = "Create the account-wide GitHub Actions OIDC provider. Set to false when the account already has one (there can be only one per URL)."
  type        = bool
  default     = true
}

################################################################################
# Network
################################################################################

variable "vpc_cidr" {
  description = "CIDR of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "public_subnet_cidrs" {
  description = "Two public subnets (load balancers, NAT gateway), one per availability zone."
  type        = list(string)
  default     = ["10.0.101.0/24", "10.0.102.0/24"]

  validation {
    condition     = length(var.public_subnet_cidrs) == 2
    error_message = "Exactly two public subnets are expected."
  }
}

variable "private_subnet_cidrs" {
  description = "Two private subnets (nodes, RDS, ElastiCache), one per availability zone."
  type        = list(string)
  default     = ["10.0.1.0/24", "10.0.2.0/24"]

  validation {
    condition     = length(var.private_subnet_cidrs) == 2
    error_message = "Exactly two private subnets are expected."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both AZs (cheaper). Set to false for one per AZ (survives an AZ outage, ~$33/month more)."
  type        = bool
  default     = true
}

variable "enable_vpc_flow_logs" {
  description = "Send VPC flow logs to CloudWatch Logs."
  type        = bool
  default     = true
}

################################################################################
# EKS
################################################################################

variable "kubernetes_version" {
  description = "Kubernetes <major>.<minor> of the EKS control plane and node group."
  type        = string
  default     = "1.35"
}

variable "cluster_endpoint_public_access" {
  description = "Expose the Kubernetes API publicly (restricted to cluster_endpoint_public_access_cidrs). Terraform's helm provider and operators outside the VPC need it."
  type        = bool
  default     = true
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API (e.g. the office or VPN egress). 0.0.0.0/0 is refused on purpose."
  type        = list(string)

  validation {
    condition     = length(var.cluster_endpoint_public_access_cidrs) > 0 && alltrue([for cidr in var.cluster_endpoint_public_access_cidrs : can(cidrhost(cidr, 0)) && cidr != "0.0.0.0/0"])
    error_message = "Give at least one valid CIDR; 0.0.0.0/0 is not allowed."
  }
}

variable "node_instance_type" {
  description = "Instance type of the managed node group."
  type        = string
  default     = "t3.medium"
}

variable "node_min_size" {
  description = "Minimum number of nodes."
  type        = number
  default     = 1
}

variable "node_max_size" {
  description = "Maximum number of nodes."
  type        = number
  default     = 4
}

variable "node_desired_size" {
  description = "Initial number of nodes (later changes are ignored by the module so an autoscaler can own it)."
  type        = number
  default     = 2
}

################################################################################
# PostgreSQL (RDS)
################################################################################

variable "db_instance_class" {
  description = "Instance class of each of the three PostgreSQL instances (the specification uses db.t3.medium)."
  type        = string
  default     = "db.t3.medium"
}

variable "db_engine_version" {
  description = "PostgreSQL major version; RDS picks and upgrades the minor version."
  type        = string
  default     = "17"
}

variable "db_allocated_storage" {
  description = "Initial gp3 storage of each instance, in GiB."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling ceiling of each instance, in GiB."
  type        = number
  default     = 100
}

variable "db_multi_az" {
  description = "Run each instance with a synchronous standby in the other AZ (doubles the instance cost)."
  type        = bool
  default     = false
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time restore window)."
  type        = number
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "Backups must be kept between 1 and 35 days."
  }
}

variable "db_performance_insights_enabled" {
  description = "Enable RDS Performance Insights."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Protect the RDS instances and the DynamoDB table from deletion. Set to false (and apply) before a deliberate destroy."
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Skip the final RDS snapshot on destroy. Keep false in production."
  type        = bool
  default     = false
}

################################################################################
# Redis (ElastiCache)
################################################################################

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t3.micro"
}

variable "redis_engine_version" {
  description = "Redis OSS engine version."
  type        = string
  default     = "7.1"
}

variable "redis_num_cache_clusters" {
  description = "Nodes in the replication group (1 = primary only; 2 adds a replica and automatic failover)."
  type        = number
  default     = 1

  validation {
    condition     = var.redis_num_cache_clusters >= 1 && var.redis_num_cache_clusters <= 6
    error_message = "Between 1 and 6 nodes."
  }
}

variable "redis_snapshot_retention_days" {
  description = "Days of automatic Redis snapshots (0 disables them; Redis is a cache here)."
  type        = number
  default     = 1
}

################################################################################
# Secrets, ECR
################################################################################

variable "secret_recovery_window_days" {
  description = "Days a deleted Secrets Manager secret can be restored (0 deletes at once; 7 to 30 otherwise)."
  type        = number
  default     = 7
}

variable "ecr_force_delete" {
  description = "Let `terraform destroy` delete ECR repositories that still hold images."
  type        = bool
  default     = false
}

variable "ecr_keep_tagged_images" {
  description = "Tagged images kept per repository; older ones expire."
  type        = number
  default     = 50
}

variable "ecr_untagged_expiry_days" {
  description = "Days after which untagged images expire."
  type        = number
  default     = 7
}

################################################################################
# Cluster add-ons
################################################################################

variable "install_addons" {
  description = "Install the Helm add-ons (AWS Load Balancer Controller, External Secrets, KEDA, Argo CD). Apply once with false to create the AWS stack first, then with true."
  type        = bool
  default     = true
}
