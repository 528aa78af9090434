"""ScheduledTask: a cron or rate job run as an ECS task on the cluster's capacity provider (003 wanted cron tasks).

An EventBridge Scheduler schedule runs a service's task definition with its
own command, retries on failure and sends what it could not deliver to the
stack's dead-letter queue. Its role may run only that task definition on this
cluster and pass only that task's roles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.app.context import AppShared
from components.app.service import Service
from odyssey.config.app import ScheduleConfig
from odyssey.domain.containers import command_override
from odyssey.domain.iam import scheduler_policy, service_trust_policy
from odyssey.domain.naming import schedule_name


@dataclass(frozen=True)
class ScheduledTaskArgs:
    """Inputs of ``ScheduledTask``.

    Attributes:
        schedule_name: the schedule's key in ``odyssey:schedules``; with the stack, the EventBridge Scheduler
            schedule's name.
        config: the schedule's settings: expression, time zone, command, retries, event age, state.
        shared: what every task of the stack uses: cluster, capacity provider, execution role, dead-letter queue.
        service: the service whose task definition and task role each run uses.
    """

    schedule_name: str
    config: ScheduleConfig
    shared: AppShared
    service: Service


class ScheduledTask(pulumi.ComponentResource):
    """Outputs: ``schedule_name``."""

    def __init__(self, name: str, args: ScheduledTaskArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:schedule:ScheduledTask", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        shared, config, service = args.shared, args.config, args.service
        role = aws.iam.Role(
            f"{name}-scheduler",
            description=f"Runs the {shared.names.stack}/{args.schedule_name} scheduled task",
            assume_role_policy=shared.account_id.apply(lambda a: service_trust_policy("scheduler.amazonaws.com", a)),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler",
            role=role.id,
            policy=pulumi.Output.all(
                service.task_definition_arn, shared.machine.cluster_arn, shared.execution_role_arn,
                service.task_role_arn, shared.dead_letter_queue_arn,
            ).apply(lambda v: scheduler_policy(v[0], v[1], [v[2], v[3]], v[4])),
            opts=child,
        )
        schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            name=schedule_name(shared.names.stack, args.schedule_name),
            description=f"{shared.names.stack}: {config.service} {' '.join(config.command)}".strip(),
            schedule_expression=config.expression,
            schedule_expression_timezone=config.timezone,
            state="ENABLED" if config.enabled else "DISABLED",
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=shared.machine.cluster_arn,
                role_arn=role.arn,
                ecs_parameters=aws.scheduler.ScheduleTargetEcsParametersArgs(
                    task_definition_arn=service.task_definition_arn,
                    task_count=1,
                    capacity_provider_strategies=[aws.scheduler.ScheduleTargetEcsParametersCapacityProviderStrategyArgs(
                        capacity_provider=shared.machine.capacity_provider_name, weight=1, base=0)],
                    enable_ecs_managed_tags=True,
                    propagate_tags="TASK_DEFINITION",
                ),
                input=json.dumps(command_override(config.service, config.command)),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=config.retries,
                    maximum_event_age_in_seconds=config.max_event_age_seconds,
                ),
                dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(arn=shared.dead_letter_queue_arn),
            ),
            opts=child,
        )
        self.schedule_name = schedule.name
        self.register_outputs({"scheduleName": self.schedule_name})
