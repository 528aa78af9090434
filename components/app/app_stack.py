"""AppStack: one application stack (prod, stage, ...) on a shared cluster.

Per stack: a Cloud Map private DNS namespace (replacing 000's Consul and
Registrator; services register SRV records because bridge-mode tasks get
dynamic host ports), a log group, an encrypted SNS topic for operational
events, a task execution role that may read only this stack's secrets, a
dead-letter queue for scheduled tasks; then the stack's services, scheduled
tasks and ECS event stream as children. When the cluster's owner has log
search, the stack's log groups (containers', ECS events') are subscribed to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.app.context import AppShared
from components.app.event_stream import EventStream, EventStreamArgs
from components.app.scheduled_task import ScheduledTask, ScheduledTaskArgs
from components.app.service import Service, ServiceArgs
from components.shared.alert_topic import AlertTopic, AlertTopicArgs
from components.shared.log_group import LogGroupArgs, log_group
from components.shared.log_subscription import LogSearchTarget, subscribe
from components.shared.stateful import stateful_options
from odyssey.config.checks import public_routes, task_shapes
from odyssey.config.stack import StackConfig
from odyssey.contract import MachineLayerOutputs
from odyssey.domain.containers import SecretLocations
from odyssey.domain.iam import execution_secrets_policy, service_trust_policy
from odyssey.domain.naming import StackNames, child_name
from odyssey.domain.routing import allocate_priorities

EXECUTION_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


@dataclass(frozen=True)
class AppStackArgs:
    """Inputs of ``AppStack``.

    Attributes:
        config: the whole stack configuration; the stack reads ``app``, ``services``, ``schedules``, the region,
            both log retentions and ``protectStatefulResources``.
        project: the Pulumi project, part of the log group, namespace and task family names.
        stack: the Pulumi stack, which prefixes every ECS service name (``<stack>-<service>``).
        machine: the machine layer's outputs (this stack's own, or the owner's through a StackReference): cluster,
            capacity provider, VPC, listeners.
        listener_slot: this stack's slot (1-10) of rule priorities on the shared listener, from the owner's
            ``odyssey:cluster.applicationStacks``.
    """

    config: StackConfig
    names: StackNames
    machine: MachineLayerOutputs
    listener_slot: int


class AppStack(pulumi.ComponentResource):
    """The application stack. Outputs: ``namespace_name``, ``topic_arn``, ``services`` (name -> ECS service name).

    Props (inputs the policy pack sees): ``tenancy`` {stack, targetGroups, rules, cpu, memory, loadBalancer}: the
    routing budget, capacity quota and ALB the owner allotted this stack (None where the owner did not say).
    """

    def __init__(self, name: str, args: AppStackArgs, opts: pulumi.ResourceOptions | None = None):
        config, names = args.config, args.names
        stack = names.stack
        super().__init__("odyssey:app:AppStack", name, {"tenancy": allotted_tenancy(args.machine, stack)}, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke).partition

        namespace = aws.servicediscovery.PrivateDnsNamespace(
            f"{name}-namespace",
            name=names.namespace(config.app.namespace),
            vpc=args.machine.vpc_id,
            description=f"Service discovery for the {stack} application stack",
            opts=child,
        )
        logs = log_group(
            f"{name}-logs",
            LogGroupArgs(names.app_log_group, config.log_retention_days, config.protect_stateful_resources,
                         args.machine.logs_key_arn),
            self,
        )
        topic = AlertTopic(
            f"{name}-events",
            AlertTopicArgs(f"{names.project} {stack} operational events", config.app.notifications.email,
                           config.app.notifications.https),
            opts=child,
        )
        secrets = pulumi.Output.all(caller.account_id, partition).apply(
            lambda v: SecretLocations(
                region=config.region, account_id=v[0], partition=v[1],
                ssm_path=names.secrets_path(config.app.secrets_path),
                secrets_manager_prefix=names.secrets_manager_prefix(config.app.secrets_path),
            )
        )
        execution_role = aws.iam.Role(
            f"{name}-execution",
            description=f"Starts {stack} tasks: pulls images, writes logs, reads only {stack}'s secrets",
            assume_role_policy=caller.account_id.apply(lambda a: service_trust_policy("ecs-tasks.amazonaws.com", a)),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(f"{name}-execution", role=execution_role.name,
                                     policy_arn=EXECUTION_ROLE_POLICY, opts=child)
        aws.iam.RolePolicy(
            f"{name}-execution-secrets",
            role=execution_role.id,
            policy=secrets.apply(lambda s: execution_secrets_policy(s.ssm_resource, s.secrets_manager_resource)),
            opts=child,
        )
        dead_letters = aws.sqs.Queue(
            f"{name}-schedule-dlq",
            sqs_managed_sse_enabled=True,
            message_retention_seconds=1_209_600,  # 14 days, the SQS maximum
            opts=stateful_options(self, config.protect_stateful_resources),
        )

        shared = AppShared(
            names=names, region=config.region, machine=args.machine,
            namespace_id=namespace.id, log_group_name=logs.name, topic_arn=topic.topic_arn,
            execution_role_arn=execution_role.arn, dead_letter_queue_arn=dead_letters.arn,
            secrets=secrets, account_id=caller.account_id,
        )
        routes = public_routes(config)
        priorities = allocate_priorities(args.listener_slot, routes.values())
        shapes = task_shapes(config)
        services = {
            service_name: Service(
                child_name(name, service_name),
                ServiceArgs(service_name, service, shared, routes.get(service_name), priorities.get(service_name),
                            shapes[service_name]),
                opts=child,
            )
            for service_name, service in config.services.items()
        }
        for schedule_name, schedule in config.schedules.items():
            ScheduledTask(
                child_name(name, schedule_name),
                ScheduledTaskArgs(schedule_name, schedule, shared, services[schedule.service]),
                opts=child,
            )
        events = EventStream(
            f"{name}-event-stream",
            EventStreamArgs(shared, config.security_log_retention_days, config.protect_stateful_resources),
            opts=child,
        )
        machine = args.machine
        if machine.has_log_search:
            target = LogSearchTarget(machine.log_search_stream_arn, machine.log_search_role_arn, machine.cluster_name)
            protect = config.protect_stateful_resources
            subscribe(f"{name}-logs-search", logs.name, target, self, protect)
            subscribe(f"{name}-events-search", events.audit_log_group_name, target, self, protect)

        self.namespace_name = namespace.name
        self.topic_arn = topic.topic_arn
        self.services: dict[str, Any] = {n: s.service_name for n, s in services.items()}
        self.listener_priorities = priorities
        self.register_outputs({
            "namespaceName": self.namespace_name,
            "topicArn": self.topic_arn,
            "services": self.services,
            "listenerPriorities": self.listener_priorities,
        })


def allotted_tenancy(machine: MachineLayerOutputs, stack: str) -> dict[str, Any]:
    """What the owner allotted ``stack``, as plain numbers (they cross a StackReference as floats)."""
    tenancy = machine.tenancy(stack) or {}

    def number(key: str) -> int | None:
        return None if tenancy.get(key) is None else int(tenancy[key])

    return {"stack": stack, "targetGroups": number("targetGroups"), "rules": number("rules"),
            "cpu": number("cpu"), "memory": number("memory"), "loadBalancer": machine.load_balancer_index(stack)}
