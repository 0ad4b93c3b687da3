################################################################################
# DynamoDB: analytics events and exact counters. On-demand, TTL on the expiry attribute,
# point-in-time recovery, encrypted. Keys and indexes come from platform-names.json.
################################################################################

locals {
  analytics_table = local.names.dynamodb

  # Every key attribute of the table and of its global secondary indexes (all strings).
  analytics_key_attributes = distinct(concat(
    [local.analytics_table.partitionKey, local.analytics_table.sortKey],
    flatten([for gsi in local.analytics_table.globalSecondaryIndexes : [gsi.partitionKey, gsi.sortKey]]),
  ))
}

module "dynamodb_analytics" {
  source  = "terraform-aws-modules/dynamodb-table/aws"
  version = "5.4.0"

  name         = local.analytics_table.analyticsTable
  billing_mode = "PAY_PER_REQUEST"

  hash_key  = local.analytics_table.partitionKey
  range_key = local.analytics_table.sortKey

  attributes = [for attribute in local.analytics_key_attributes : { name = attribute, type = "S" }]

  global_secondary_indexes = [
    for gsi in local.analytics_table.globalSecondaryIndexes : {
      name            = gsi.name
      hash_key        = gsi.partitionKey
      range_key       = gsi.sortKey
      projection_type = "ALL"
    }
  ]

  # TTL deletes the counter log's items (7 days, or the raw-event retention) and metric items at no write cost:
  # the worker never deletes them itself (docs/adr/0015-event-path-cost.md). gsi1 indexes only raw events written
  # before ADR 15; nothing new writes it, and it can be dropped once they have expired (30 days by default).
  ttl_enabled        = true
  ttl_attribute_name = local.analytics_table.ttlAttribute

  point_in_time_recovery_enabled = true
  server_side_encryption_enabled = true
  deletion_protection_enabled    = var.deletion_protection
}
