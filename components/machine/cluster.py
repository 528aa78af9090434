"""SharedCluster: the machine layer's ECS cluster, its instances' network access, host daemons and alarms.

The instances themselves (launch template, Auto Scaling group, capacity
provider, design doc 000) are a NodeGroup, a child of the cluster; see
components/machine/node_group.py for why they are built as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.machine.host_daemon import HostDaemon, HostDaemonArgs
from components.machine.node_group import NodeGroup, NodeGroupArgs
from components.shared.alert_topic import AlertTopic, AlertTopicArgs
from components.shared.encryption_key import EncryptionKey, EncryptionKeyArgs
from components.shared.log_group import LogGroupArgs, log_group
from odyssey.config.machine import ClusterConfig
from odyssey.domain.iam import account_key_policy

# Dynamic host ports come from the instance's ephemeral range; this covers both
# ranges ECS documents (32768-60999 on Linux, up to 65535 on older agents).
DYNAMIC_PORTS = (32768, 65535)
RESERVATION_ALARM_PERCENT = 85
# Three five-minute periods: a reservation that stays high for 15 minutes, not one deploy's spike.
RESERVATION_ALARM_PERIOD_SECONDS = 300
RESERVATION_ALARM_PERIODS = 3


@dataclass(frozen=True)
class SharedClusterArgs:
    """Inputs of ``SharedCluster``.

    Attributes:
        config: ``odyssey:cluster``: instance type, group size, instance lifetime, root volume, capacity target,
            ECS agent settings, sysctls, host daemons and the alarm email.
        region: region of the cluster; the host daemons' awslogs driver writes there.
        cluster_name: name of the ECS cluster, which the instances' user data joins (``ECS_CLUSTER``).
        vpc_id: VPC of the instances' security group.
        private_subnet_ids: subnets the Auto Scaling group launches instances in (its VPC zone identifiers).
        load_balancer_security_group_ids: the security groups of the ingress pool's ALBs (ALB 1 first), the only
            sources admitted to the instances' dynamic host ports (32768-65535); their egress rules to them are
            created here.
        exec_log_group_name: name of the log group of ECS Exec sessions (the cluster's execute-command logging).
        host_log_group_name: name of the log group the host daemons log to.
        log_retention_days: retention of the hosts' log group, a CloudWatch Logs retention value.
        security_log_retention_days: retention of the Exec session log group, a security log.
        protect_logs: protect and retain both log groups and the Exec key (``odyssey:protectStatefulResources``).
        logs_key_arn: the stack's logs key, which encrypts both log groups.
        exec_key_alias: the alias of the key ECS Exec sessions are encrypted with, which the cluster creates.
        instance_tags: tags for the instances (propagated by the Auto Scaling group), their volumes and network
            interfaces (the launch template), which the provider's default tags do not reach. Default: none.
    """

    config: ClusterConfig
    region: str
    cluster_name: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    load_balancer_security_group_ids: Sequence[pulumi.Input[str]]
    exec_log_group_name: str
    host_log_group_name: str
    log_retention_days: int
    security_log_retention_days: int
    protect_logs: bool
    logs_key_arn: pulumi.Input[str]
    exec_key_alias: str
    instance_tags: dict[str, str] = field(default_factory=dict)


class SharedCluster(pulumi.ComponentResource):
    """The ECS cluster, its node group and the capacity provider services run on.

    Outputs: ``cluster_name``, ``cluster_arn``, ``capacity_provider_name``,
    ``auto_scaling_group_name``, ``instance_security_group_id``,
    ``instance_role_arn``, ``host_log_group_name``, ``exec_log_group_name`` and ``exec_key_arn``.
    """

    def __init__(self, name: str, args: SharedClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:cluster:SharedCluster", name, None, opts)
        exec_logs, host_logs = self._log_groups(name, args)
        exec_key = EncryptionKey(f"{name}-exec", EncryptionKeyArgs(
            description=f"Encrypts ECS Exec sessions on the {args.cluster_name} cluster",
            alias=args.exec_key_alias, policy=account_key_policy, protect=args.protect_logs,
        ), opts=pulumi.ResourceOptions(parent=self))
        cluster = self._cluster(name, args, exec_logs, exec_key.arn)
        instance_sg = self._security_groups(name, args)
        nodes = NodeGroup(
            name,
            NodeGroupArgs(
                config=args.config,
                cluster_name=args.cluster_name,
                subnet_ids=args.private_subnet_ids,
                security_group_id=instance_sg.id,
                instance_tags=args.instance_tags,
                # The node group's resources were the cluster's own children until it was carved out.
                moved_from=self,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._capacity_providers(name, cluster, nodes)
        self._daemons(name, args, cluster, host_logs)

        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.capacity_provider_name = nodes.capacity_provider_name
        self.auto_scaling_group_name = nodes.auto_scaling_group_name
        self.instance_security_group_id = instance_sg.id
        self.instance_role_arn = nodes.instance_role_arn
        self.host_log_group_name = host_logs.name
        self.exec_log_group_name = exec_logs.name
        self.exec_key_arn = exec_key.arn
        self._alarms(name, args, cluster.name)
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "clusterArn": self.cluster_arn,
                "capacityProviderName": self.capacity_provider_name,
                "autoScalingGroupName": self.auto_scaling_group_name,
                "instanceSecurityGroupId": self.instance_security_group_id,
            }
        )

    def _log_groups(self, name: str, args: SharedClusterArgs) -> tuple[aws.cloudwatch.LogGroup, aws.cloudwatch.LogGroup]:
        exec_logs = log_group(f"{name}-exec", LogGroupArgs(
            args.exec_log_group_name, args.security_log_retention_days, args.protect_logs, args.logs_key_arn), self)
        host_logs = log_group(f"{name}-hosts", LogGroupArgs(
            args.host_log_group_name, args.log_retention_days, args.protect_logs, args.logs_key_arn), self)
        return exec_logs, host_logs

    def _cluster(self, name: str, args: SharedClusterArgs, exec_logs: aws.cloudwatch.LogGroup,
                 exec_key_arn: pulumi.Output[str]) -> aws.ecs.Cluster:
        """Container Insights on; ECS Exec sessions encrypted with the Exec key (Checkov CKV_AWS_224) and logged,
        encrypted, to the exec log group."""
        return aws.ecs.Cluster(
            f"{name}-ecs",
            name=args.cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            configuration=aws.ecs.ClusterConfigurationArgs(
                execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                    kms_key_id=exec_key_arn,
                    logging="OVERRIDE",
                    log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                        cloud_watch_encryption_enabled=True,
                        cloud_watch_log_group_name=exec_logs.name,
                    ),
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _capacity_providers(self, name: str, cluster: aws.ecs.Cluster, nodes: NodeGroup) -> None:
        """The cluster's one provider association: services without a strategy land on the node group."""
        aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=cluster.name,
            capacity_providers=[nodes.capacity_provider_name],
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=nodes.capacity_provider_name, weight=1, base=0
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _daemons(
        self, name: str, args: SharedClusterArgs, cluster: aws.ecs.Cluster, host_logs: aws.cloudwatch.LogGroup
    ) -> None:
        for daemon_name, daemon in args.config.daemons.items():
            HostDaemon(
                f"{name}-{daemon_name}",
                HostDaemonArgs(
                    daemon_name=daemon_name,
                    config=daemon,
                    cluster_arn=cluster.arn,
                    log_group_name=host_logs.name,
                    region=args.region,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _alarms(self, name: str, args: SharedClusterArgs, cluster_name: pulumi.Output[str]) -> None:
        """Reservation near full means the next deploy (which doubles a service for a while) may not fit."""
        topic = AlertTopic(
            f"{name}-alarms",
            AlertTopicArgs(f"{args.cluster_name} cluster alarms", args.config.alarm_email),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for metric in ("CPUReservation", "MemoryReservation"):
            aws.cloudwatch.MetricAlarm(
                f"{name}-{metric.lower()}",
                alarm_description=f"{args.cluster_name}: {metric} above {RESERVATION_ALARM_PERCENT}% for 15 minutes",
                namespace="AWS/ECS",
                metric_name=metric,
                dimensions={"ClusterName": cluster_name},
                statistic="Maximum",
                period=RESERVATION_ALARM_PERIOD_SECONDS,
                evaluation_periods=RESERVATION_ALARM_PERIODS,
                datapoints_to_alarm=RESERVATION_ALARM_PERIODS,
                comparison_operator="GreaterThanThreshold",
                threshold=RESERVATION_ALARM_PERCENT,
                treat_missing_data="breaching",
                alarm_actions=[topic.topic_arn],
                ok_actions=[topic.topic_arn],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.alarm_topic_arn = topic.topic_arn

    def _security_groups(self, name: str, args: SharedClusterArgs) -> aws.ec2.SecurityGroup:
        """Instances accept only the dynamic host ports, only from the ingress pool's ALBs.

        The cluster owns the group, not the NodeGroup: its rules are the ALBs'
        contract with the host ports, and any node group joins the same group.
        ALB 1's rules keep the names they had before the pool; ALB k's carry k.
        """
        child = pulumi.ResourceOptions(parent=self)
        instance_sg = aws.ec2.SecurityGroup(
            f"{name}-instances",
            vpc_id=args.vpc_id,
            description="ECS nodes: dynamic host ports from the shared ALB only",
            opts=child,
        )
        low, high = DYNAMIC_PORTS
        for index, alb_group in enumerate(args.load_balancer_security_group_ids, start=1):
            alb, which = ("alb", "the shared ALB") if index == 1 else (f"alb-{index}", f"ALB {index} of the pool")
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-from-{alb}",
                security_group_id=instance_sg.id,
                referenced_security_group_id=alb_group,
                ip_protocol="tcp",
                from_port=low,
                to_port=high,
                description=f"Dynamic host ports from {which}",
                opts=child,
            )
            # The rule on the ALB's group lives here because it names the instances' group.
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{alb}-to-instances",
                security_group_id=alb_group,
                referenced_security_group_id=instance_sg.id,
                ip_protocol="tcp",
                from_port=low,
                to_port=high,
                description="ALB to the dynamic host ports of the ECS nodes",
                opts=child,
            )
        # Nodes pull images and reach the ECS, SSM and CloudWatch endpoints through NAT.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-instances-egress",
            security_group_id=instance_sg.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="-1",
            description="Outbound to AWS endpoints and registries",
            opts=child,
        )
        return instance_sg
