################################################################################
# VPC: 2 public + 2 private subnets in two AZs, internet gateway, NAT gateway
################################################################################

# Accepted findings (reviewed): the VPC's default network ACL stays open (the module's default);
# traffic is enforced by security groups (RDS and Redis accept the node security group only, the
# nodes accept the cluster and load balancers). Stateless NACLs would need ephemeral-port rules
# for every flow and add breakage without adding protection here.
#trivy:ignore:AVD-AWS-0102
#trivy:ignore:aws-ec2-no-excessive-port-access
#trivy:ignore:AVD-AWS-0105
#trivy:ignore:aws-ec2-no-public-ingress-acl
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.5.1"

  name = local.project
  cidr = var.vpc_cidr

  azs             = slice(data.aws_availability_zones.available.names, 0, 2)
  public_subnets  = var.public_subnet_cidrs
  private_subnets = var.private_subnet_cidrs

  create_igw             = true
  enable_nat_gateway     = true
  single_nat_gateway     = var.single_nat_gateway
  one_nat_gateway_per_az = !var.single_nat_gateway

  enable_dns_hostnames    = true
  enable_dns_support      = true
  map_public_ip_on_launch = false

  # Subnet discovery for the AWS Load Balancer Controller.
  public_subnet_tags = {
    "kubernetes.io/role/elb" = "1"
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = "1"
  }

  enable_flow_log                                 = var.enable_vpc_flow_logs
  create_flow_log_cloudwatch_log_group            = var.enable_vpc_flow_logs
  create_flow_log_cloudwatch_iam_role             = var.enable_vpc_flow_logs
  flow_log_max_aggregation_interval               = 600
  flow_log_cloudwatch_log_group_retention_in_days = var.log_retention_days
}
