# Remote state in the S3 bucket made by infra/bootstrap. Bucket, key, region, KMS key and the
# native S3 lock file (use_lockfile = true) come from a partial configuration:
#
#   cp backend.hcl.example backend.hcl   # fill in the bootstrap outputs
#   terraform init -backend-config=backend.hcl
#
# CI validates with `terraform init -backend=false` and never touches the state.
terraform {
  backend "s3" {}
}
