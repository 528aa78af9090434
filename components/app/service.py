"""Service: one containerized service of an application stack, deployed by image version.

A task definition in bridge mode with dynamic host ports; an ECS service on
the cluster's capacity provider that spreads over AZs, then packs by memory,
and rolls deployments forward only while new containers pass health checks
(the circuit breaker halts and rolls back, design doc 000). Public services get
a target group and a rule on the listener of the ALB their stack routes on (its
ALB in the owner's ingress pool); services with a port register SRV records in
Cloud Map; workers have neither.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.app.context import AppShared
from odyssey.config.app import ServiceConfig
from odyssey.domain.capacity import DEPLOYMENT_MAXIMUM_PERCENT, DEPLOYMENT_MINIMUM_HEALTHY_PERCENT
from odyssey.domain.containers import container_definition
from odyssey.domain.iam import exec_policy, service_trust_policy
from odyssey.domain.naming import ecs_service_name, target_group_logical_name
from odyssey.domain.routing import Route
from odyssey.domain.tenancy import TaskShape

ALARM_PERIOD_SECONDS = 60
# Five one-minute periods below desired: longer than a deploy's replacement of a task, so only real shortfalls page.
BELOW_DESIRED_PERIODS = 5
# Three one-minute periods of unhealthy targets or 5xx: long enough to skip one slow health check.
TARGET_ALARM_PERIODS = 3
# Target tracking: scale out after a minute, in after two, so a short dip does not shed tasks a spike needs.
SCALE_OUT_COOLDOWN_SECONDS = 60
SCALE_IN_COOLDOWN_SECONDS = 120


@dataclass(frozen=True)
class ServiceArgs:
    """Inputs of ``Service``.

    Attributes:
        service_name: the service's key in ``odyssey:services``: its container's name, its Cloud Map name and,
            with the stack, its ECS service name.
        config: the service's settings (image, CPU, memory, port, routing, scaling, secrets, ...).
        shared: what every service of the stack uses: cluster, namespace, log group, topic, execution role.
        route: the hosts and paths of its rule on its ALB's listener; None when the service is not public.
        priority: the rule's priority within the stack's slot; None when the service is not public.
        reservation: what one task reserves (CPU units, MiB) and how many run at the desired count; registered
            as the component's ``reservation`` prop, which the policy pack sums against the stack's quota.
    """

    service_name: str
    config: ServiceConfig
    shared: AppShared
    route: Route | None
    priority: int | None
    reservation: TaskShape


class Service(pulumi.ComponentResource):
    """Outputs: ``service_name``, ``task_definition_arn``, ``task_definition_family``, ``task_role_arn``.

    Props (inputs the policy pack sees): ``reservation`` {cpu, memory, count, public}: per-task CPU units and
    reserved MiB, the desired count, and whether the service has a target group and a listener rule.
    """

    def __init__(self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None):
        shape = args.reservation
        public = args.route is not None and args.priority is not None
        super().__init__("odyssey:service:Service", name, {"reservation": {
            "cpu": shape.cpu, "memory": shape.memory, "count": shape.count, "public": public}}, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        config, shared, service = args.config, args.shared, args.service_name
        machine = shared.machine

        task_role = self._task_role(name, args)
        family = shared.names.task_family(service)
        task = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=family,
            network_mode="bridge",
            requires_compatibilities=["EC2"],
            execution_role_arn=shared.execution_role_arn,
            task_role_arn=task_role.arn,
            container_definitions=pulumi.Output.all(shared.log_group_name, shared.secrets).apply(
                lambda v: json.dumps([container_definition(service, config, v[0], shared.region, v[1])])
            ),
            opts=self._child,
        )

        load_balancers, depends_on = [], []
        target_group = None
        if public:
            target_group, rule = self._route(name, args)
            load_balancers = [aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=target_group.arn, container_name=service, container_port=config.port)]
            # ECS refuses a target group that no listener rule uses yet.
            depends_on = [rule]

        registries = []
        if config.discoverable:
            discovery = aws.servicediscovery.Service(
                f"{name}-discovery",
                name=service,
                dns_config=aws.servicediscovery.ServiceDnsConfigArgs(
                    namespace_id=shared.namespace_id,
                    dns_records=[aws.servicediscovery.ServiceDnsConfigDnsRecordArgs(type="SRV", ttl=10)],
                    routing_policy="MULTIVALUE",
                ),
                health_check_custom_config=aws.servicediscovery.ServiceHealthCheckCustomConfigArgs(),
                opts=self._child,
            )
            registries = [aws.ecs.ServiceServiceRegistriesArgs(
                registry_arn=discovery.arn, container_name=service, container_port=config.port)]

        ecs_service = aws.ecs.Service(
            f"{name}-service",
            name=ecs_service_name(shared.names.stack, service),
            cluster=machine.cluster_arn,
            task_definition=task.arn,
            desired_count=config.autoscaling.min_count if config.autoscaling else config.desired_count,
            capacity_provider_strategies=[aws.ecs.ServiceCapacityProviderStrategyArgs(
                capacity_provider=machine.capacity_provider_name, weight=1, base=0)],
            ordered_placement_strategies=[
                aws.ecs.ServiceOrderedPlacementStrategyArgs(type="spread", field="attribute:ecs.availability-zone"),
                aws.ecs.ServiceOrderedPlacementStrategyArgs(type="binpack", field="memory"),
            ],
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            deployment_minimum_healthy_percent=DEPLOYMENT_MINIMUM_HEALTHY_PERCENT,
            deployment_maximum_percent=DEPLOYMENT_MAXIMUM_PERCENT,
            health_check_grace_period_seconds=config.health_check_grace_period_seconds if load_balancers else None,
            load_balancers=load_balancers,
            service_registries=registries[0] if registries else None,
            enable_execute_command=config.enable_exec,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            wait_for_steady_state=False,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=depends_on,
                # With autoscaling, Application Auto Scaling owns the desired count.
                ignore_changes=["desiredCount"] if config.autoscaling else None,
            ),
        )
        self.service_name = ecs_service.name
        self.task_definition_arn = task.arn
        self.task_definition_family = task.family
        self.task_role_arn = task_role.arn

        if config.autoscaling:
            self._autoscaling(name, args, target_group)
        self._alarms(name, args, target_group)
        self.register_outputs({
            "serviceName": self.service_name,
            "taskDefinitionArn": self.task_definition_arn,
            "taskRoleArn": self.task_role_arn,
        })

    def _task_role(self, name: str, args: ServiceArgs) -> aws.iam.Role:
        """Least privilege: nothing by default; the configured policies; ECS Exec's channel and key when enabled."""
        shared, config = args.shared, args.config
        role = aws.iam.Role(
            f"{name}-task",
            description=f"Task role of {shared.names.stack}/{args.service_name}",
            assume_role_policy=shared.account_id.apply(lambda a: service_trust_policy("ecs-tasks.amazonaws.com", a)),
            opts=self._child,
        )
        for index, policy_arn in enumerate(config.task_role_policy_arns):
            aws.iam.RolePolicyAttachment(f"{name}-task-{index}", role=role.name, policy_arn=policy_arn,
                                         opts=self._child)
        if config.enable_exec:
            aws.iam.RolePolicy(
                f"{name}-task-exec",
                role=role.id,
                policy=pulumi.Output.all(shared.secrets, shared.machine.exec_log_group_name,
                                         shared.machine.exec_key_arn).apply(
                    lambda v: exec_policy(shared.region, v[0].account_id, v[1], v[0].partition, v[2])),
                opts=self._child,
            )
        return role

    def _route(self, name: str, args: ServiceArgs) -> tuple[aws.lb.TargetGroup, aws.lb.ListenerRule]:
        shared, config, route = args.shared, args.config, args.route
        assert config.public is not None and route is not None
        check = config.public.health_check
        target_group = aws.lb.TargetGroup(
            target_group_logical_name(name),
            port=config.port,
            protocol="HTTP",
            target_type="instance",
            vpc_id=shared.machine.vpc_id,
            deregistration_delay=config.public.deregistration_delay_seconds,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=check.path,
                protocol="HTTP",
                port="traffic-port",
                interval=check.interval_seconds,
                timeout=check.timeout_seconds,
                healthy_threshold=check.healthy_threshold,
                unhealthy_threshold=check.unhealthy_threshold,
                matcher=check.matcher,
            ),
            tags=shared.load_balancer_tags,
            # Named from its stack and service until issue 8; the alias keeps the deployed target group.
            opts=pulumi.ResourceOptions(
                parent=self, aliases=[pulumi.Alias(name=shared.names.previous_target_group_name(args.service_name))]),
        )
        conditions = [aws.lb.ListenerRuleConditionArgs(
            host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=list(route.hosts)))]
        if route.paths:
            conditions.append(aws.lb.ListenerRuleConditionArgs(
                path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(route.paths))))
        alb = shared.load_balancer
        listener = alb["httpsListenerArn"] if alb["httpsListenerArn"] is not None else alb["httpListenerArn"]
        rule = aws.lb.ListenerRule(
            f"{name}-rule",
            listener_arn=listener,
            priority=args.priority,
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=target_group.arn)],
            conditions=conditions,
            tags=shared.load_balancer_tags,
            opts=self._child,
        )
        return target_group, rule

    def _autoscaling(self, name: str, args: ServiceArgs, target_group: aws.lb.TargetGroup | None) -> None:
        scaling, machine = args.config.autoscaling, args.shared.machine
        assert scaling is not None
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.all(machine.cluster_name, self.service_name).apply(
                lambda v: f"service/{v[0]}/{v[1]}"),
            min_capacity=scaling.min_count,
            max_capacity=scaling.max_count,
            opts=self._child,
        )
        metrics = []
        if scaling.cpu_target_percent is not None:
            metrics.append(("cpu", scaling.cpu_target_percent, aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="ECSServiceAverageCPUUtilization")))
        if scaling.requests_per_target is not None and target_group is not None:
            label = pulumi.Output.all(args.shared.load_balancer["arnSuffix"], target_group.arn_suffix).apply(
                lambda v: f"{v[0]}/{v[1]}")
            metrics.append(("requests", scaling.requests_per_target, aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                predefined_metric_type="ALBRequestCountPerTarget", resource_label=label)))
        for kind, value, metric in metrics:
            aws.appautoscaling.Policy(
                f"{name}-scaling-{kind}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=value,
                    predefined_metric_specification=metric,
                    scale_in_cooldown=SCALE_IN_COOLDOWN_SECONDS,
                    scale_out_cooldown=SCALE_OUT_COOLDOWN_SECONDS,
                ),
                opts=self._child,
            )

    def _alarms(self, name: str, args: ServiceArgs, target_group: aws.lb.TargetGroup | None) -> None:
        """Running below desired always; unhealthy hosts and 5xx for public services. All to the stack's topic."""
        shared, machine = args.shared, args.shared.machine
        actions = [shared.topic_arn]
        service_dimensions = {"ClusterName": machine.cluster_name, "ServiceName": self.service_name}

        def insight(metric_id: str, metric: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=metric_id,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="ECS/ContainerInsights", metric_name=metric, dimensions=service_dimensions,
                    period=ALARM_PERIOD_SECONDS, stat="Average"),
            )

        aws.cloudwatch.MetricAlarm(
            f"{name}-below-desired",
            alarm_description=f"{shared.names.stack}/{args.service_name} runs fewer tasks than desired",
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=BELOW_DESIRED_PERIODS,
            datapoints_to_alarm=BELOW_DESIRED_PERIODS,
            metric_queries=[
                insight("desired", "DesiredTaskCount"),
                insight("running", "RunningTaskCount"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(id="missing", expression="desired - running",
                                                          label="Tasks missing", return_data=True),
            ],
            treat_missing_data="notBreaching",
            alarm_actions=actions,
            ok_actions=actions,
            opts=self._child,
        )
        if target_group is None:
            return
        balancer_dimensions = {"TargetGroup": target_group.arn_suffix, "LoadBalancer": shared.load_balancer["arnSuffix"]}
        for alarm, metric, statistic, threshold, description in (
            ("unhealthy", "UnHealthyHostCount", "Maximum", 0, "has unhealthy targets"),
            ("5xx", "HTTPCode_Target_5XX_Count", "Sum", 10, "answers with 5xx errors"),
        ):
            aws.cloudwatch.MetricAlarm(
                f"{name}-{alarm}",
                alarm_description=f"{shared.names.stack}/{args.service_name} {description}",
                namespace="AWS/ApplicationELB",
                metric_name=metric,
                dimensions=balancer_dimensions,
                statistic=statistic,
                period=ALARM_PERIOD_SECONDS,
                evaluation_periods=TARGET_ALARM_PERIODS,
                datapoints_to_alarm=TARGET_ALARM_PERIODS,
                comparison_operator="GreaterThanThreshold",
                threshold=threshold,
                treat_missing_data="notBreaching",
                alarm_actions=actions,
                ok_actions=actions,
                opts=self._child,
            )
