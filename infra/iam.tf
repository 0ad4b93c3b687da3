################################################################################
# Least-privilege IAM.
#
# One IAM role per Kubernetes service account (IRSA). Each role trusts exactly one subject,
# system:serviceaccount:<namespace>:<serviceAccount>, both taken from platform-names.json, and
# carries only the actions its workload needs. Add-on roles (KEDA, External Secrets, AWS Load
# Balancer Controller) live beside their Helm releases in addons.tf.
################################################################################

locals {
  analytics_table_arns = concat(
    [module.dynamodb_analytics.dynamodb_table_arn],
    [for gsi in local.analytics_table.globalSecondaryIndexes : "${module.dynamodb_analytics.dynamodb_table_arn}/index/${gsi.name}"],
  )
}

# auth: its RDS master secret, the JWT signing key and the admin bootstrap secret - nothing else.
module "irsa_auth" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.2.3"

  name            = "${local.project}-${local.names.services.auth.serviceAccount}"
  use_name_prefix = false
  policy_name     = "${local.project}-${local.names.services.auth.serviceAccount}"
  description     = "IRSA role of ${local.names.namespace}/${local.names.services.auth.serviceAccount}"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${local.names.namespace}:${local.names.services.auth.serviceAccount}"]
    }
  }

  permissions = {
    ReadOwnSecrets = {
      actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = [
        module.rds["auth"].db_instance_master_user_secret_arn,
        aws_secretsmanager_secret.app["jwtSigningKey"].arn,
        aws_secretsmanager_secret.app["adminBootstrap"].arn,
      ]
    }
  }
}

# flags: its RDS master secret and the Redis token (cache invalidation).
module "irsa_flags" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.2.3"

  name            = "${local.project}-${local.names.services.flags.serviceAccount}"
  use_name_prefix = false
  policy_name     = "${local.project}-${local.names.services.flags.serviceAccount}"
  description     = "IRSA role of ${local.names.namespace}/${local.names.services.flags.serviceAccount}"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${local.names.namespace}:${local.names.services.flags.serviceAccount}"]
    }
  }

  permissions = {
    ReadOwnSecrets = {
      actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = [
        module.rds["flags"].db_instance_master_user_secret_arn,
        aws_secretsmanager_secret.app["redisAuthToken"].arn,
      ]
    }
  }
}

# targeting: its RDS master secret and the Redis token (cache invalidation).
module "irsa_targeting" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.2.3"

  name            = "${local.project}-${local.names.services.targeting.serviceAccount}"
  use_name_prefix = false
  policy_name     = "${local.project}-${local.names.services.targeting.serviceAccount}"
  description     = "IRSA role of ${local.names.namespace}/${local.names.services.targeting.serviceAccount}"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${local.names.namespace}:${local.names.services.targeting.serviceAccount}"]
    }
  }

  permissions = {
    ReadOwnSecrets = {
      actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      resources = [
        module.rds["targeting"].db_instance_master_user_secret_arn,
        aws_secretsmanager_secret.app["redisAuthToken"].arn,
      ]
    }
  }
}

# evaluation: may only send evaluation events to the queue.
module "irsa_evaluation" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.2.3"

  name            = "${local.project}-${local.names.services.evaluation.serviceAccount}"
  use_name_prefix = false
  policy_name     = "${local.project}-${local.names.services.evaluation.serviceAccount}"
  description     = "IRSA role of ${local.names.namespace}/${local.names.services.evaluation.serviceAccount}"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${local.names.namespace}:${local.names.services.evaluation.serviceAccount}"]
    }
  }

  permissions = {
    SendEvaluationEvents = {
      actions   = ["sqs:SendMessage", "sqs:GetQueueUrl"]
      resources = [module.sqs_evaluation_events.queue_arn]
    }
  }
}

# analytics (HTTP API): read-only access to the analytics table and its indexes.
module "irsa_analytics" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.2.3"

  name            = "${local.project}-${local.names.services.analytics.serviceAccount}"
  use_name_prefix = false
  policy_name     = "${local.project}-${local.names.services.analytics.serviceAccount}"
  description     = "IRSA role of ${local.names.namespace}/${local.names.services.analytics.serviceAccount}"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${local.names.namespace}:${local.names.services.analytics.serviceAccount}"]
    }
  }

  permissions = {
    ReadAnalyticsTable = {
      # DescribeTable: /readyz checks that the table answers.
      actions   = ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"]
      resources = local.analytics_table_arns
    }
  }
}

# analytics ingest worker: consume the queue, read and write the analytics table.
module "irsa_analytics_worker" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.2.3"

  name            = "${local.project}-${local.names.workers["analytics-worker"].serviceAccount}"
  use_name_prefix = false
  policy_name     = "${local.project}-${local.names.workers["analytics-worker"].serviceAccount}"
  description     = "IRSA role of ${local.names.namespace}/${local.names.workers["analytics-worker"].serviceAccount}"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${local.names.namespace}:${local.names.workers["analytics-worker"].serviceAccount}"]
    }
  }

  permissions = {
    ConsumeEvaluationEvents = {
      actions = [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
      ]
      resources = [module.sqs_evaluation_events.queue_arn]
    }
    ReadWriteAnalyticsTable = {
      actions = [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:ConditionCheckItem",
        # /readyz checks that the table answers.
        "dynamodb:DescribeTable",
      ]
      resources = local.analytics_table_arns
    }
    # A message that can never be processed is moved aside so the worker carries on.
    SendPoisonToDeadLetterQueue = {
      actions   = ["sqs:SendMessage"]
      resources = [module.sqs_evaluation_events.dead_letter_queue_arn]
    }
  }
}

# release worker (scheduled changes, release plans): its guardrail evaluator reads the metric aggregates of the
# analytics table, read-only and on the table itself (it queries no index). Its PostgreSQL and Redis credentials
# reach it through External Secrets, so it needs no Secrets Manager action.
module "irsa_release_worker" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.2.3"

  name            = "${local.project}-${local.names.workers["release-worker"].serviceAccount}"
  use_name_prefix = false
  policy_name     = "${local.project}-${local.names.workers["release-worker"].serviceAccount}"
  description     = "IRSA role of ${local.names.namespace}/${local.names.workers["release-worker"].serviceAccount}"

  oidc_providers = {
    main = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${local.names.namespace}:${local.names.workers["release-worker"].serviceAccount}"]
    }
  }

  permissions = {
    ReadGuardrailAggregates = {
      # DescribeTable: /readyz checks that the table answers.
      actions   = ["dynamodb:Query", "dynamodb:DescribeTable"]
      resources = [module.dynamodb_analytics.dynamodb_table_arn]
    }
  }
}

################################################################################
# GitHub Actions (CI): OIDC federation, main branch of one repository, push to the five ECR
# repositories and nothing else.
################################################################################

module "github_oidc_provider" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-oidc-provider"
  version = "6.2.3"

  count = var.create_github_oidc_provider ? 1 : 0

  url = "https://token.actions.githubusercontent.com"
}

# Accepted finding: ecr:GetAuthorizationToken has no resource-level permissions; AWS requires "*".
#trivy:ignore:AVD-AWS-0057
#trivy:ignore:aws-iam-no-policy-wildcards
module "github_actions_ecr_push" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role"
  version = "6.2.3"

  name            = "${local.project}-github-ecr-push"
  use_name_prefix = false
  description     = "GitHub Actions (${var.github_repository}, main branch) pushes service images to ECR"

  enable_github_oidc   = true
  oidc_subjects        = ["repo:${var.github_repository}:ref:refs/heads/main"]
  max_session_duration = 3600

  create_inline_policy = true
  inline_policy_permissions = {
    EcrAuthorizationToken = {
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    }
    EcrPushServiceImages = {
      actions = [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:CompleteLayerUpload",
        "ecr:InitiateLayerUpload",
        "ecr:PutImage",
        "ecr:UploadLayerPart",
      ]
      resources = [for repository in module.ecr : repository.repository_arn]
    }
  }

  depends_on = [module.github_oidc_provider]
}
