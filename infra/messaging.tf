################################################################################
# SQS: evaluation events (evaluation service -> analytics worker) with a dead-letter queue.
# SSE-SQS (SQS-managed keys) keeps producers and consumers free of KMS permissions.
################################################################################

# Accepted finding: SSE-SQS instead of a customer managed KMS key (see docs/infrastructure.md).
#trivy:ignore:AVD-AWS-0135
#trivy:ignore:aws-sqs-queue-encryption-use-cmk
module "sqs_evaluation_events" {
  source  = "terraform-aws-modules/sqs/aws"
  version = "5.2.1"

  name = local.names.queues.evaluationEvents

  # Longer than the worker's batch processing time; long polling to cut empty receives.
  visibility_timeout_seconds = 60
  receive_wait_time_seconds  = 20
  message_retention_seconds  = 345600 # 4 days
  sqs_managed_sse_enabled    = true

  create_dlq = true
  dlq_name   = local.names.queues.evaluationEventsDeadLetter
  redrive_policy = {
    maxReceiveCount = 5
  }
  dlq_message_retention_seconds = 1209600 # 14 days, the SQS maximum
  dlq_sqs_managed_sse_enabled   = true
}
