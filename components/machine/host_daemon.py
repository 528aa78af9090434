"""HostDaemon: one container on every cluster instance (log routers, agents).

This is the part of the original "ecsextender" bootstrap that ran processes on
each host. As an ECS service with the DAEMON scheduling strategy it is
versioned and deployed like any container, and a freshly cycled instance gets
it without a bootstrap script. DAEMON services cannot use a capacity provider
strategy, so they name the EC2 launch type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from odyssey.config.machine import HostDaemon as HostDaemonConfig
from odyssey.domain.containers import container_definition


@dataclass(frozen=True)
class HostDaemonArgs:
    """Inputs of ``HostDaemon``.

    Attributes:
        daemon_name: name of the daemon (a key of ``odyssey:cluster.daemons``): its container's name and its
            log streams' prefix.
        config: the daemon's settings: pinned image, CPU units, memory limit, command and environment.
        cluster_arn: ARN of the ECS cluster the DAEMON service runs one task on per instance.
        log_group_name: name of the log group the container's awslogs driver writes to (the hosts' group).
        region: region of that log group.
    """

    daemon_name: str
    config: HostDaemonConfig
    cluster_arn: pulumi.Input[str]
    log_group_name: pulumi.Input[str]
    region: str


class HostDaemon(pulumi.ComponentResource):
    """A task definition and a DAEMON service. Outputs: ``service_name``, ``task_definition_arn``."""

    def __init__(self, name: str, args: HostDaemonArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:daemon:HostDaemon", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        task = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=name,
            network_mode="bridge",
            requires_compatibilities=["EC2"],
            container_definitions=pulumi.Output.from_input(args.log_group_name).apply(
                lambda group: json.dumps([container_definition(args.daemon_name, args.config, group, args.region)])
            ),
            opts=child,
        )
        service = aws.ecs.Service(
            f"{name}-service",
            cluster=args.cluster_arn,
            task_definition=task.arn,
            scheduling_strategy="DAEMON",
            launch_type="EC2",
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            opts=child,
        )
        self.service_name = service.name
        self.task_definition_arn = task.arn
        self.register_outputs({"serviceName": self.service_name, "taskDefinitionArn": self.task_definition_arn})
