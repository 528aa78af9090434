"""The machine layer's invariant numbers, for the program and the operator tools.

The ones the policy pack also enforces live in the pack's own standard-library
module ``policies.rules.thresholds`` (the pack runs alone and imports nothing of
the project) and are re-exported here, so config defaults, the gate and the
audits read one source. The numbers only the program uses follow.
"""

from __future__ import annotations

from policies.rules.thresholds import (
    AWS_LIFETIME_MAX_SECONDS,
    AWS_LIFETIME_MIN_SECONDS,
    AWS_LIFETIME_OFF,
    DAILY_CYCLE_SECONDS,
    ECS_AMI_IMAGE_PREFIX,
    ECS_AMI_PARAMETER_ARM64,
    ECS_AMI_PARAMETER_ROOT,
    ECS_AMI_PARAMETER_X86_64,
    MIN_AVAILABILITY_ZONES,
    MIN_INSTANCES,
    RESOLVE_SSM,
)

__all__ = [
    "AWS_LIFETIME_MAX_SECONDS",
    "AWS_LIFETIME_MIN_SECONDS",
    "AWS_LIFETIME_OFF",
    "CYCLE_AUDIT_GRACE_SECONDS",
    "DAILY_CYCLE_SECONDS",
    "ECS_AMI_IMAGE_PREFIX",
    "ECS_AMI_PARAMETER_ARM64",
    "ECS_AMI_PARAMETER_ROOT",
    "ECS_AMI_PARAMETER_X86_64",
    "MIN_AVAILABILITY_ZONES",
    "MIN_INSTANCES",
    "RESOLVE_SSM",
    "ZONE_BALANCE_TOLERANCE",
]

# The cycle audit counts an instance as overdue only this long past its maximum lifetime: Auto Scaling replaces
# instances that reach it gradually, usually one at a time with a pause between (EC2 Auto Scaling user guide,
# "Replace Auto Scaling instances based on maximum instance lifetime"), not at the second.
CYCLE_AUDIT_GRACE_SECONDS = 7_200

# Auto Scaling spreads instances evenly over its zones, so an even spread differs by at most one instance per zone;
# more than that is an imbalance the status and the audit report.
ZONE_BALANCE_TOLERANCE = 1
