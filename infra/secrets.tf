################################################################################
# Application secrets in Secrets Manager, named in platform-names.json ("<project>/...").
# External Secrets (addons.tf) syncs them, and the RDS-managed master secrets, into Kubernetes.
#
# - redisAuthToken: value written here (JSON: authToken, host, port, url).
# - jwtSigningKey, adminBootstrap: containers only; the values are put once by an operator
#   (see docs/infrastructure.md) so that private keys never pass through Terraform state.
################################################################################

resource "aws_secretsmanager_secret" "app" {
  for_each = local.app_secrets

  name                    = each.value
  description             = "ToggleMaster ${each.key} (managed by Terraform, read by External Secrets)"
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "redis_auth_token" {
  secret_id = aws_secretsmanager_secret.app["redisAuthToken"].id
  secret_string = jsonencode({
    authToken = random_password.redis_auth_token.result
    host      = module.redis.replication_group_primary_endpoint_address
    port      = local.redis_port
    url       = "rediss://:${random_password.redis_auth_token.result}@${module.redis.replication_group_primary_endpoint_address}:${local.redis_port}"
  })
}
