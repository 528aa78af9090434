"""The machine layer's invariant numbers and the AWS quotas the pack enforces: one source for the policy pack, the
config, the program and the operator tools.

Standard library only: the pack runs as its own process and imports nothing of
the project; the program imports this module (``odyssey.domain.invariants``
re-exports it) so the config's defaults, the gate and the audits never disagree.
"""

# Design doc 000 (shared/seeds/000_8418f32c5aaed4cc.txt), "ECS Instance Notes": "Minimum of 3 availability zones
# are used".
MIN_AVAILABILITY_ZONES = 3

# Design doc 000, "ECS Instance Notes": "Minimum of 4 instances are in service".
MIN_INSTANCES = 4

# Design doc 000, "ECS Instance Notes": "New machines are continually cycled (daily) into the cluster":
# the longest an instance may live, in seconds.
DAILY_CYCLE_SECONDS = 86_400

# AWS (EC2 Auto Scaling user guide, "Replace Auto Scaling instances based on maximum instance lifetime"): 0 turns
# replacement off, else at least 86,400 s (one day); the provider (pulumi-aws autoscaling.Group
# max_instance_lifetime) also caps it at 31,536,000 s (365 days).
AWS_LIFETIME_OFF = 0
AWS_LIFETIME_MIN_SECONDS = 86_400
AWS_LIFETIME_MAX_SECONDS = 31_536_000

# Design doc 000: "Instances run Amazon's ECS Optimized AMI". AWS publishes its ids as public SSM parameters
# (ECS developer guide, "Retrieving Amazon ECS-optimized Linux AMI metadata"); a launch template resolves one at
# each launch through the "resolve:ssm:" image-id prefix (EC2 user guide, "Use a Systems Manager parameter
# instead of an AMI ID").
RESOLVE_SSM = "resolve:ssm:"
ECS_AMI_PARAMETER_ROOT = "/aws/service/ecs/optimized-ami/"
ECS_AMI_PARAMETER_X86_64 = f"{ECS_AMI_PARAMETER_ROOT}amazon-linux-2023/recommended/image_id"
ECS_AMI_PARAMETER_ARM64 = f"{ECS_AMI_PARAMETER_ROOT}amazon-linux-2023/arm64/recommended/image_id"
# Every image id a node may boot starts with this: any ECS-optimized parameter, resolved at launch.
ECS_AMI_IMAGE_PREFIX = f"{RESOLVE_SSM}{ECS_AMI_PARAMETER_ROOT}"

# "Quotas for your Application Load Balancers", Elastic Load Balancing User Guide
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
# Target groups per Application Load Balancer: not adjustable.
ALB_TARGET_GROUPS_PER_LOAD_BALANCER = 100
# Rules per Application Load Balancer, not counting the listeners' default rules: AWS's default, adjustable per
# account (the program's odyssey:loadBalancer.rulesQuota and the pack's maxRulesPerLoadBalancer say when raised).
ALB_RULES_PER_LOAD_BALANCER = 100

# The AWS managed rule groups every internet-facing ALB's web ACL runs (AWS WAF Developer Guide, "AWS Managed Rules
# rule groups list": baseline rule groups and IP reputation rule groups): the core rule set (OWASP Top 10 classes),
# known bad inputs (request patterns of known exploits such as Log4j) and the Amazon IP reputation list (sources of
# bots and reconnaissance Amazon threat intelligence names). The program builds the web ACL from this list and the
# pack's waf-on-load-balancers requires it, so the two cannot disagree.
AWS_MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)

# Security and audit logs (VPC flow logs, ECS Exec transcripts, the ECS event audit log, WAF logs) are kept at least
# a year: Checkov CKV_AWS_338 ("CloudWatch log groups retain logs for at least 1 year"), and the look-back an
# incident investigation or an audit of who ran what inside a container needs.
SECURITY_LOG_RETENTION_MIN_DAYS = 365
