"""A CloudWatch log group with a retention and the stack's protection."""

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
    """

    log_group_name: str
    retention_days: int
    protect: bool


def log_group(resource_name: str, args: LogGroupArgs, parent: pulumi.Resource) -> aws.cloudwatch.LogGroup:
    """Log groups hold data: they are protected in stacks that protect stateful resources."""
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=args.log_group_name,
        retention_in_days=args.retention_days,
        opts=stateful_options(parent, args.protect),
    )
