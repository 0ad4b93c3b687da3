################################################################################
# PostgreSQL on RDS: one instance per owning service (auth, flags, targeting), as in the
# specification. Private subnets only, encrypted, automated backups, master password generated
# and rotated by RDS in Secrets Manager (never in Terraform state).
################################################################################

resource "aws_security_group" "rds" {
  name_prefix = "${local.project}-rds-"
  description = "PostgreSQL (RDS) - reachable from the EKS nodes only"
  vpc_id      = module.vpc.vpc_id

  tags = {
    Name = "${local.project}-rds"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "rds_from_nodes" {
  security_group_id            = aws_security_group.rds.id
  description                  = "PostgreSQL from the EKS node security group"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = module.eks.node_security_group_id
}

module "rds" {
  source  = "terraform-aws-modules/rds/aws"
  version = "7.0.0"

  for_each = local.databases

  identifier = "${local.project}-${each.value}"

  engine               = "postgres"
  engine_version       = var.db_engine_version
  family               = "postgres${var.db_engine_version}"
  major_engine_version = var.db_engine_version
  instance_class       = var.db_instance_class

  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name  = each.value
  username = "${each.value}_admin"
  port     = 5432

  # RDS creates the master password, stores it in Secrets Manager and rotates it.
  manage_master_user_password         = true
  iam_database_authentication_enabled = true

  multi_az               = var.db_multi_az
  publicly_accessible    = false
  create_db_subnet_group = true
  subnet_ids             = module.vpc.private_subnets
  vpc_security_group_ids = [aws_security_group.rds.id]

  backup_retention_period          = var.db_backup_retention_days
  backup_window                    = "03:00-04:00"
  maintenance_window               = "sun:04:30-sun:05:30"
  copy_tags_to_snapshot            = true
  deletion_protection              = var.deletion_protection
  skip_final_snapshot              = var.skip_final_snapshot
  final_snapshot_identifier_prefix = "${local.project}-${each.value}-final"
  delete_automated_backups         = false

  auto_minor_version_upgrade   = true
  performance_insights_enabled = var.db_performance_insights_enabled

  enabled_cloudwatch_logs_exports        = ["postgresql", "upgrade"]
  create_cloudwatch_log_group            = true
  cloudwatch_log_group_retention_in_days = var.log_retention_days

  create_db_option_group = false
  parameters = [
    {
      name  = "rds.force_ssl"
      value = "1"
    },
    {
      name  = "log_min_duration_statement"
      value = "500"
    },
  ]
}
