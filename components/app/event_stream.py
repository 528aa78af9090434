"""EventStream: the ECS events of this stack's services, to its SNS topic and an audit log group.

003 wanted to "act when a deploy completes". EventBridge rules on the default
bus match this stack's deployments (completed, failed, rolled back), service
actions, and tasks that stopped with a non-zero exit code. The prefixes they
match on come from the functions that name the stack's ECS services and task
families (odyssey/domain/naming.py), and the cluster's owner refuses stacks
whose prefixes overlap, so prefix matching selects exactly this stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.app.context import AppShared
from components.shared.log_group import LogGroupArgs, log_group
from odyssey.domain.iam import events_log_policy
from odyssey.domain.naming import StackNames


@dataclass(frozen=True)
class EventStreamArgs:
    """Inputs of ``EventStream``.

    Attributes:
        shared: the stack's project, stack, region, cluster and SNS topic, which the EventBridge rules match on
            and send to.
        log_retention_days: retention of the audit log group, a security log (``odyssey:securityLogRetentionDays``).
        protect_logs: protect and retain the audit log group (``odyssey:protectStatefulResources``).
    """

    shared: AppShared
    log_retention_days: int
    protect_logs: bool


def event_patterns(names: StackNames, region: str, account_id: str, cluster_name: str,
                   cluster_arn: str, partition: str = "aws") -> dict[str, dict[str, Any]]:
    """The rules' event patterns, by rule name."""
    services = [{"prefix": names.service_arn_prefix(partition, region, account_id, cluster_name)}]
    return {
        "deployments": {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Deployment State Change"],
            "resources": services,
            "detail": {"$or": [
                {"eventName": ["SERVICE_DEPLOYMENT_COMPLETED", "SERVICE_DEPLOYMENT_FAILED"]},
                # A circuit-breaker rollback starts as a new deployment whose reason says so.
                {"eventName": ["SERVICE_DEPLOYMENT_IN_PROGRESS"], "reason": [{"wildcard": "*rolling back*"}]},
            ]},
        },
        "service-actions": {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Service Action"],
            "resources": services,
        },
        "failed-tasks": {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Task State Change"],
            "detail": {
                "clusterArn": [cluster_arn],
                "lastStatus": ["STOPPED"],
                "group": [{"prefix": names.service_group_prefix}, {"prefix": names.family_group_prefix}],
                # Not the tasks ECS stops itself during deploys and scale-in (they exit 143 on SIGTERM):
                # tasks that never started, and tasks whose essential container exited with an error.
                "$or": [
                    {"stopCode": ["TaskFailedToStart"]},
                    {"stopCode": ["EssentialContainerExited"], "containers": {"exitCode": [{"anything-but": 0}]}},
                ],
            },
        },
    }


class EventStream(pulumi.ComponentResource):
    """Three rules, each with two targets. Output: ``audit_log_group_name``."""

    def __init__(self, name: str, args: EventStreamArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:events:EventStream", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        shared, names = args.shared, args.shared.names
        audit = log_group(
            f"{name}-audit",
            LogGroupArgs(names.event_audit_log_group, args.log_retention_days, args.protect_logs,
                         shared.machine.logs_key_arn),
            self,
        )
        # EventBridge writes to CloudWatch Logs under a resource policy on the log group.
        aws.cloudwatch.LogResourcePolicy(
            f"{name}-audit",
            policy_name=names.event_log_policy_name,
            policy_document=audit.arn.apply(events_log_policy),
            opts=child,
        )
        patterns = pulumi.Output.all(
            shared.secrets, shared.machine.cluster_name, shared.machine.cluster_arn
        ).apply(lambda v: event_patterns(names, shared.region, v[0].account_id, v[1], v[2], v[0].partition))
        for rule_name in ("deployments", "service-actions", "failed-tasks"):
            rule = aws.cloudwatch.EventRule(
                f"{name}-{rule_name}",
                description=f"ECS {rule_name.replace('-', ' ')} of the {names.stack} application stack",
                event_pattern=patterns.apply(lambda p, r=rule_name: json.dumps(p[r])),
                opts=child,
            )
            aws.cloudwatch.EventTarget(f"{name}-{rule_name}-topic", rule=rule.name, arn=shared.topic_arn, opts=child)
            aws.cloudwatch.EventTarget(f"{name}-{rule_name}-audit", rule=rule.name, arn=audit.arn, opts=child)
        self.audit_log_group_name = audit.name
        self.register_outputs({"auditLogGroupName": self.audit_log_group_name})
