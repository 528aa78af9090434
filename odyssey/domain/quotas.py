"""AWS quotas and limits the design depends on, each with the AWS document it comes from.

One place: the decisions, the config checks and the policy pack's parameters
read these names. Adjustable quotas hold AWS's default; an account with a
raised quota says so in its config where a setting exists for it.
"""

from __future__ import annotations

from policies.rules.thresholds import ALB_RULES_PER_LOAD_BALANCER as ALB_RULES_PER_LOAD_BALANCER
from policies.rules.thresholds import ALB_TARGET_GROUPS_PER_LOAD_BALANCER as ALB_TARGET_GROUPS_PER_LOAD_BALANCER

# "Quotas for your Application Load Balancers", Elastic Load Balancing User Guide
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
# Target groups per ALB (100, not adjustable) and rules per ALB (100 by default, adjustable; the listeners' default
# rules do not count) live in the pack's thresholds, which the policy pack enforces with the same numbers.
ALB_TARGETS_PER_LOAD_BALANCER = 1_000  # default, adjustable
ALB_LISTENERS_PER_LOAD_BALANCER = 50
ALB_CERTIFICATES_PER_LOAD_BALANCER = 25  # not counting the default certificate
ALB_CONDITION_WILDCARDS_PER_RULE = 5  # the `*` and `?` of a rule's host-header and path-pattern values together
ALB_TARGET_GROUPS_PER_ACTION = 5
ALB_LOAD_BALANCERS_PER_REGION = 50  # default, adjustable

# "Listener rules for your Application Load Balancer", Elastic Load Balancing User Guide
# https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html
# "You can specify up to three comparison strings per condition and up to five per rule."
ALB_VALUES_PER_CONDITION = 3
ALB_VALUES_PER_RULE = 5
# CreateRule, Elastic Load Balancing API Reference: Priority, "Valid Range: Minimum value of 1. Maximum 50000."
ALB_RULE_PRIORITY_MAX = 50_000
# "Condition types for listener rules": host header and path pattern values are at most 128 characters.
ALB_CONDITION_VALUE_LENGTH_MAX = 128
# Matcher, Elastic Load Balancing API Reference (HttpCode): "For Application Load Balancers, you can specify values
# between 200 and 499, with the default value being 200."
# https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Matcher.html
ALB_HEALTH_CHECK_CODE_MIN = 200
ALB_HEALTH_CHECK_CODE_MAX = 499

# "Amazon ECS service quotas", Amazon ECS Developer Guide
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
ECS_CONTAINER_INSTANCES_PER_CLUSTER = 5_000
# "Amazon ECS endpoints and quotas", AWS General Reference: "Tasks per service" 5,000, not adjustable (a service's
# desired count, and so an autoscaling maximum).
# https://docs.aws.amazon.com/general/latest/gr/ecs-service.html
ECS_TASKS_PER_SERVICE = 5_000

# PutParameter, AWS Systems Manager API Reference (Name): "A parameter name can't be prefixed with "aws" or "ssm"
# (case-insensitive)"; "Parameter hierarchies are limited to a maximum depth of fifteen levels."
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
SSM_RESERVED_PREFIXES = ("aws", "ssm")
SSM_HIERARCHY_DEPTH_MAX = 15

# "Instance user data", Amazon EC2 User Guide: "limited to 16 KB, in raw form, before it is base64-encoded".
EC2_USER_DATA_BYTES_MAX = 16 * 1024

# PutRetentionPolicy, Amazon CloudWatch Logs API Reference: retentionInDays "Valid Values".
CLOUDWATCH_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                                 2557, 2922, 3288, 3653)

# Tmpfs, Amazon ECS API Reference: mountOptions "Valid Values"; size is in MiB.
ECS_TMPFS_MOUNT_OPTIONS = (
    "defaults", "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "sync", "async", "dirsync", "remount",
    "mand", "nomand", "atime", "noatime", "diratime", "nodiratime", "bind", "rbind", "unbindable", "runbindable",
    "private", "rprivate", "shared", "rshared", "slave", "rslave", "relatime", "norelatime", "strictatime",
    "nostrictatime", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol",
)
