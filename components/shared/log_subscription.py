"""Ship a log group to the cluster's log search: a CloudWatch Logs subscription filter onto its Firehose stream.

The owner's stack subscribes the hosts' log group and its own application
stack's groups; a tenant's application stack subscribes its own, with the
stream and role the owner exports (``MachineLayerOutputs.log_search_*``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from odyssey.domain.log_search import subscription_filter_name

# An empty pattern matches every event: log search gets all of a group's lines.
EVERY_EVENT = ""


@dataclass(frozen=True)
class LogSearchTarget:
    """Where a subscription filter delivers: the cluster's Firehose stream, through the role CloudWatch Logs assumes.

    Attributes:
        stream_arn: the owner's Firehose delivery stream.
        role_arn: the role CloudWatch Logs assumes to put records on it (only that).
        cluster_name: the owner's cluster, which names the filter.
    """

    stream_arn: pulumi.Input[str]
    role_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]


def subscribe(resource_name: str, log_group_name: pulumi.Input[str], target: LogSearchTarget,
              parent: pulumi.Resource, protect: bool) -> aws.cloudwatch.LogSubscriptionFilter:
    """Protected where stateful resources are, so no refactor silently stops a group's shipping; never retained:
    a filter left behind would keep putting records to a stream that may be gone."""
    return aws.cloudwatch.LogSubscriptionFilter(
        resource_name,
        name=pulumi.Output.from_input(target.cluster_name).apply(subscription_filter_name),
        log_group=log_group_name,
        filter_pattern=EVERY_EVENT,
        destination_arn=target.stream_arn,
        role_arn=target.role_arn,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
