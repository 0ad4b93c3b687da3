################################################################################
# Redis on ElastiCache: encryption in transit and at rest, AUTH token generated here and
# published in Secrets Manager, private subnets, reachable from the EKS nodes only.
################################################################################

# ElastiCache AUTH tokens allow 16-128 printable characters; alphanumerics keep the token safe to
# embed in a rediss:// URL.
resource "random_password" "redis_auth_token" {
  length  = 64
  special = false
}

module "redis" {
  source  = "terraform-aws-modules/elasticache/aws"
  version = "1.7.0"

  replication_group_id = "${local.project}-redis"
  description          = "ToggleMaster flag cache and invalidation channel"

  engine             = "redis"
  engine_version     = var.redis_engine_version
  node_type          = var.redis_node_type
  num_cache_clusters = var.redis_num_cache_clusters

  automatic_failover_enabled = var.redis_num_cache_clusters > 1
  multi_az_enabled           = var.redis_num_cache_clusters > 1

  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  auth_token                 = random_password.redis_auth_token.result
  auth_token_update_strategy = "ROTATE"

  maintenance_window       = "sun:05:30-sun:06:30"
  snapshot_window          = "02:00-03:00"
  snapshot_retention_limit = var.redis_snapshot_retention_days
  apply_immediately        = false

  vpc_id = module.vpc.vpc_id
  security_group_rules = {
    ingress_eks_nodes = {
      description                  = "Redis from the EKS node security group"
      referenced_security_group_id = module.eks.node_security_group_id
    }
  }

  subnet_ids = module.vpc.private_subnets

  # Own parameter group (default volatile-lru eviction: only keys with a TTL are evicted).
  create_parameter_group = true
  parameter_group_family = "redis7"

  log_delivery_configuration = {
    slow-log = {
      destination_type                       = "cloudwatch-logs"
      log_format                             = "json"
      cloudwatch_log_group_retention_in_days = var.log_retention_days
    }
  }
}
