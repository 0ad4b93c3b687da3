variable "aws_region" {
  description = "AWS region of the state bucket. Defaults to awsRegion in shared/contracts/platform-names.json."
  type        = string
  default     = null
}

variable "state_bucket_name" {
  description = "Globally unique name of the S3 bucket that stores Terraform state (e.g. togglemaster-tfstate-<account id>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "S3 bucket names are 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days old state versions are kept (every apply writes a new version)."
  type        = number
  default     = 90
}

variable "tags" {
  description = "Extra tags added to every resource."
  type        = map(string)
  default     = {}
}
