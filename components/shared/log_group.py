"""A CloudWatch log group with a retention, the stack's protection and the logs key (Checkov CKV_AWS_158)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.stateful import stateful_options


@dataclass(frozen=True)
class LogGroupArgs:
    """Inputs of ``log_group``.

    Attributes:
        log_group_name: name of the CloudWatch Logs group, fixed so services and operators can find it.
        retention_days: how long its events are kept, a CloudWatch Logs retention value.
        protect: protect and retain the group, so no destroy or refactor deletes its logs.
        kms_key_arn: the customer-managed key its events are encrypted with: the owning stack's logs key. None
            only for a tenant of an owner deployed before it exported one (the pack then reports the group).
    """

    log_group_name: str
    retention_days: int
    protect: bool
    kms_key_arn: pulumi.Input[str] | None


def log_group(resource_name: str, args: LogGroupArgs, parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
    """Log groups hold data: they are protected in stacks that protect stateful resources."""
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=args.log_group_name,
        retention_in_days=args.retention_days,
        kms_key_id=args.kms_key_arn,
        opts=stateful_options(parent, args.protect),
    )
