################################################################################
# Outputs consumed by the Kubernetes manifests (gitops/, k8s/keda/), CI and operators.
# `terraform output -json` is the hand-over document; see docs/infrastructure.md.
################################################################################

output "aws_region" {
  description = "Region of the stack."
  value       = local.region
}

output "aws_account_id" {
  description = "Account of the stack."
  value       = data.aws_caller_identity.current.account_id
}

# --- Network ------------------------------------------------------------------

output "vpc_id" {
  description = "VPC ID."
  value       = module.vpc.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets (nodes, RDS, ElastiCache)."
  value       = module.vpc.private_subnets
}

output "public_subnet_ids" {
  description = "Public subnets (internet-facing load balancers, NAT)."
  value       = module.vpc.public_subnets
}

output "nat_public_ips" {
  description = "Public addresses of the NAT gateways: where the pods' traffic to the internet comes from, webhook deliveries included (receivers may allowlist them)."
  value       = module.vpc.nat_public_ips
}

# --- EKS ----------------------------------------------------------------------

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA bundle of the API endpoint."
  value       = module.eks.cluster_certificate_authority_data
}

output "cluster_oidc_provider_arn" {
  description = "IAM OIDC provider of the cluster (IRSA)."
  value       = module.eks.oidc_provider_arn
}

output "node_security_group_id" {
  description = "Security group shared by the nodes (allowed into RDS and Redis)."
  value       = module.eks.node_security_group_id
}

output "kubeconfig_command" {
  description = "Command that writes a kubeconfig entry for the cluster."
  value       = "aws eks update-kubeconfig --name ${module.eks.cluster_name} --region ${local.region}"
}

# --- SQS ----------------------------------------------------------------------

output "evaluation_events_queue_url" {
  description = "URL of the evaluation-events queue (evaluation service producer, analytics worker, KEDA trigger)."
  value       = module.sqs_evaluation_events.queue_url
}

output "evaluation_events_queue_arn" {
  description = "ARN of the evaluation-events queue."
  value       = module.sqs_evaluation_events.queue_arn
}

output "evaluation_events_queue_name" {
  description = "Name of the evaluation-events queue."
  value       = module.sqs_evaluation_events.queue_name
}

output "evaluation_events_dlq_url" {
  description = "URL of the dead-letter queue (alarms, redrive)."
  value       = module.sqs_evaluation_events.dead_letter_queue_url
}

output "evaluation_events_dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.sqs_evaluation_events.dead_letter_queue_arn
}

# --- DynamoDB -----------------------------------------------------------------

output "analytics_table_name" {
  description = "DynamoDB analytics table name."
  value       = module.dynamodb_analytics.dynamodb_table_id
}

output "analytics_table_arn" {
  description = "DynamoDB analytics table ARN."
  value       = module.dynamodb_analytics.dynamodb_table_arn
}

# --- ECR ----------------------------------------------------------------------

output "ecr_registry" {
  description = "Registry host for docker login (CI)."
  value       = "${data.aws_caller_identity.current.account_id}.dkr.ecr.${local.region}.amazonaws.com"
}

output "ecr_repository_urls" {
  description = "Repository URL per image key (auth, flags, targeting, evaluation, analytics, console)."
  value       = { for key, repository in module.ecr : key => repository.repository_url }
}

output "ecr_repository_arns" {
  description = "Repository ARN per image key."
  value       = { for key, repository in module.ecr : key => repository.repository_arn }
}

# --- IAM ----------------------------------------------------------------------

output "service_account_role_arns" {
  description = "IRSA role ARN per workload key, for the eks.amazonaws.com/role-arn annotation of each service account."
  value = {
    auth               = module.irsa_auth.arn
    flags              = module.irsa_flags.arn
    targeting          = module.irsa_targeting.arn
    evaluation         = module.irsa_evaluation.arn
    analytics          = module.irsa_analytics.arn
    "analytics-worker" = module.irsa_analytics_worker.arn
    "release-worker"   = module.irsa_release_worker.arn
  }
}

output "keda_operator_role_arn" {
  description = "IRSA role of the KEDA operator (TriggerAuthentication podIdentity.provider aws)."
  value       = module.irsa_keda_operator.arn
}

output "external_secrets_role_arn" {
  description = "IRSA role of the External Secrets Operator."
  value       = module.irsa_external_secrets.arn
}

output "aws_load_balancer_controller_role_arn" {
  description = "IRSA role of the AWS Load Balancer Controller."
  value       = module.irsa_aws_load_balancer_controller.arn
}

output "github_actions_role_arn" {
  description = "Role assumed by GitHub Actions (aws-actions/configure-aws-credentials role-to-assume) to push images."
  value       = module.github_actions_ecr_push.arn
}

# --- PostgreSQL -----------------------------------------------------------------

output "rds_endpoints" {
  description = "Per service key: host, port, database and master user of its PostgreSQL instance."
  value = {
    for key, db in module.rds : key => {
      host     = db.db_instance_address
      port     = db.db_instance_port
      database = local.databases[key]
      username = "${local.databases[key]}_admin"
    }
  }
}

output "rds_master_user_secret_arns" {
  description = "Per service key: ARN of the RDS-managed Secrets Manager secret (JSON username/password) of its instance."
  value       = { for key, db in module.rds : key => db.db_instance_master_user_secret_arn }
}

# --- Redis ----------------------------------------------------------------------

output "redis_primary_endpoint" {
  description = "Primary endpoint of the Redis replication group (TLS, AUTH)."
  value       = module.redis.replication_group_primary_endpoint_address
}

output "redis_port" {
  description = "Redis port."
  value       = local.redis_port
}

# --- Secrets Manager -------------------------------------------------------------

output "app_secret_arns" {
  description = "ARN per secret key of platform-names.json (jwtSigningKey, adminBootstrap, redisAuthToken)."
  value       = { for key, secret in aws_secretsmanager_secret.app : key => secret.arn }
}

output "redis_auth_token_secret_arn" {
  description = "Secret holding the Redis AUTH token (JSON authToken/host/port/url)."
  value       = aws_secretsmanager_secret.app["redisAuthToken"].arn
}

# --- Add-ons ----------------------------------------------------------------------

output "argocd_namespace" {
  description = "Namespace of Argo CD (kubectl -n ... port-forward svc/argocd-server 8080:443)."
  value       = local.addons.argocd.namespace
}
