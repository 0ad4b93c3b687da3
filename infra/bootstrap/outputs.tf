output "state_bucket_name" {
  description = "S3 bucket holding the Terraform state (backend bucket)."
  value       = aws_s3_bucket.state.id
}

output "state_bucket_arn" {
  description = "ARN of the state bucket (for IAM policies of whoever runs Terraform)."
  value       = aws_s3_bucket.state.arn
}

output "state_kms_key_arn" {
  description = "KMS key encrypting the state (backend kms_key_id)."
  value       = aws_kms_key.state.arn
}

output "backend_config" {
  description = "Content for infra/backend.hcl."
  value       = <<-EOT
    bucket       = "${aws_s3_bucket.state.id}"
    key          = "${local.names.project}/infra/terraform.tfstate"
    region       = "${local.region}"
    encrypt      = true
    kms_key_id   = "${aws_kms_key.state.arn}"
    use_lockfile = true
  EOT
}

output "account_id" {
  description = "Account the backend lives in."
  value       = data.aws_caller_identity.current.account_id
}

output "partition" {
  description = "AWS partition of the account."
  value       = data.aws_partition.current.partition
}
