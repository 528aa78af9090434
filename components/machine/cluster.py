"""SharedCluster: the machine layer's ECS cluster on one homogeneous Auto Scaling group.

Design doc 000: at least 4 identical, stateless instances on the ECS-optimized
AMI over at least 3 AZs, cycled daily. Here:

* a launch template whose image id resolves the latest ECS-optimized Amazon
  Linux 2023 AMI at each launch, IMDSv2 with hop limit 1, no public IP, no SSH
  key (access is SSM Session Manager), one encrypted gp3 root volume deleted on
  termination;
* an Auto Scaling group with a maximum instance lifetime of one day and an
  instance maintenance policy that launches a replacement before terminating,
  so the minimum stays in service while nodes are cycled;
* an ECS capacity provider with managed scaling and managed draining, and
  managed termination protection DISABLED: it works by setting instance
  scale-in protection on busy instances, and AWS documents scale-in protection
  as what keeps an instance from being replaced at its maximum lifetime. With
  it, busy hosts would never be cycled. Managed draining moves tasks off an
  instance before it is terminated instead.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.machine.host_daemon import HostDaemon, HostDaemonArgs
from components.shared.alert_topic import AlertTopic, AlertTopicArgs
from components.shared.log_group import LogGroupArgs, log_group
from odyssey.config.machine import ClusterConfig
from odyssey.domain.ami import ecs_ami_image_id
from odyssey.domain.capacity import MIN_HEALTHY_PERCENTAGE, max_healthy_percentage
from odyssey.domain.iam import assume_role_policy
from odyssey.domain.naming import node_name
from odyssey.domain.userdata import render_user_data

# Dynamic host ports come from the instance's ephemeral range; this covers both
# ranges ECS documents (32768-60999 on Linux, up to 65535 on older agents).
DYNAMIC_PORTS = (32768, 65535)
INSTANCE_ROLE_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
)
ROOT_DEVICE = "/dev/xvda"
RESERVATION_ALARM_PERCENT = 85
ASG_METRICS = [
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
]


@dataclass(frozen=True)
class SharedClusterArgs:
    config: ClusterConfig
    region: str
    cluster_name: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    load_balancer_security_group_id: pulumi.Input[str]
    exec_log_group_name: str
    host_log_group_name: str
    log_retention_days: int
    protect_logs: bool
    instance_tags: dict[str, str] = field(default_factory=dict)


class SharedCluster(pulumi.ComponentResource):
    """The ECS cluster, its instances and the capacity provider services run on.

    Outputs: ``cluster_name``, ``cluster_arn``, ``capacity_provider_name``,
    ``auto_scaling_group_name``, ``instance_security_group_id``,
    ``instance_role_arn`` and ``host_log_group_name``.
    """

    def __init__(self, name: str, args: SharedClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:cluster:SharedCluster", name, None, opts)
        config = args.config
        child = pulumi.ResourceOptions(parent=self)

        exec_logs = log_group(
            f"{name}-exec", LogGroupArgs(args.exec_log_group_name, args.log_retention_days, args.protect_logs), self
        )
        host_logs = log_group(
            f"{name}-hosts", LogGroupArgs(args.host_log_group_name, args.log_retention_days, args.protect_logs), self
        )

        cluster = aws.ecs.Cluster(
            f"{name}-ecs",
            name=args.cluster_name,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            configuration=aws.ecs.ClusterConfigurationArgs(
                execute_command_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationArgs(
                    logging="OVERRIDE",
                    log_configuration=aws.ecs.ClusterConfigurationExecuteCommandConfigurationLogConfigurationArgs(
                        cloud_watch_log_group_name=exec_logs.name,
                    ),
                )
            ),
            opts=child,
        )

        role = aws.iam.Role(
            f"{name}-instance",
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            opts=child,
        )
        for index, policy_arn in enumerate(INSTANCE_ROLE_POLICIES):
            aws.iam.RolePolicyAttachment(f"{name}-instance-{index}", role=role.name, policy_arn=policy_arn, opts=child)
        profile = aws.iam.InstanceProfile(f"{name}-instance", role=role.name, opts=child)

        instance_sg = self._security_groups(name, args)

        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-node",
            description=f"ECS node of {args.cluster_name}",
            image_id=ecs_ami_image_id(config.instance_type),
            instance_type=config.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                # Hop limit 1: containers on the docker bridge are one hop further
                # away and cannot reach IMDS, so they cannot borrow the instance role.
                http_put_response_hop_limit=1,
                instance_metadata_tags="enabled",
            ),
            network_interfaces=[
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    associate_public_ip_address="false",
                    delete_on_termination="true",
                    security_groups=[instance_sg.id],
                )
            ],
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=config.root_volume_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            monitoring=aws.ec2.LaunchTemplateMonitoringArgs(enabled=True),
            user_data=base64.b64encode(
                render_user_data(args.cluster_name, config.agent_settings(), config.sysctls).encode()
            ).decode(),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=args.instance_tags)
                for kind in ("volume", "network-interface")
            ],
            update_default_version=True,
            opts=child,
        )

        max_healthy = max_healthy_percentage(max(config.min_size, 1))
        group = aws.autoscaling.Group(
            f"{name}-nodes",
            vpc_zone_identifiers=args.private_subnet_ids,
            min_size=config.min_size,
            max_size=config.max_size,
            max_instance_lifetime=config.max_instance_lifetime_seconds,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=launch_template.id, version=launch_template.latest_version.apply(str)
            ),
            instance_maintenance_policy=aws.autoscaling.GroupInstanceMaintenancePolicyArgs(
                min_healthy_percentage=MIN_HEALTHY_PERCENTAGE,
                max_healthy_percentage=max_healthy,
            ),
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=MIN_HEALTHY_PERCENTAGE,
                    max_healthy_percentage=max_healthy,
                    skip_matching=True,
                ),
            ),
            health_check_type="EC2",
            health_check_grace_period=300,
            protect_from_scale_in=False,
            termination_policies=["OldestLaunchTemplate", "OldestInstance"],
            enabled_metrics=ASG_METRICS,
            tags=[
                aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=True)
                for key, value in {
                    **args.instance_tags,
                    "Name": node_name(args.cluster_name),
                    # ECS adds this tag when the capacity provider is created;
                    # declaring it keeps the group from drifting.
                    "AmazonECSManaged": "",
                }.items()
            ],
            # The capacity provider's managed scaling owns the desired count.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"]),
        )

        capacity_provider = aws.ecs.CapacityProvider(
            f"{name}-capacity",
            auto_scaling_group_provider=aws.ecs.CapacityProviderAutoScalingGroupProviderArgs(
                auto_scaling_group_arn=group.arn,
                managed_draining="ENABLED",
                # DISABLED on purpose: see the module docstring (daily cycling).
                managed_termination_protection="DISABLED",
                managed_scaling=aws.ecs.CapacityProviderAutoScalingGroupProviderManagedScalingArgs(
                    status="ENABLED",
                    target_capacity=config.target_capacity_percent,
                    minimum_scaling_step_size=1,
                    maximum_scaling_step_size=max(1, config.max_size - config.min_size),
                ),
            ),
            opts=child,
        )
        aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=cluster.name,
            capacity_providers=[capacity_provider.name],
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider=capacity_provider.name, weight=1, base=0
                )
            ],
            opts=child,
        )

        for daemon_name, daemon in config.daemons.items():
            HostDaemon(
                f"{name}-{daemon_name}",
                HostDaemonArgs(
                    daemon_name=daemon_name,
                    config=daemon,
                    cluster_arn=cluster.arn,
                    log_group_name=host_logs.name,
                    region=args.region,
                ),
                opts=child,
            )

        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.capacity_provider_name = capacity_provider.name
        self.auto_scaling_group_name = group.name
        self.instance_security_group_id = instance_sg.id
        self.instance_role_arn = role.arn
        self.host_log_group_name = host_logs.name
        self.exec_log_group_name = exec_logs.name
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
                period=300,
                evaluation_periods=3,
                datapoints_to_alarm=3,
                comparison_operator="GreaterThanThreshold",
                threshold=RESERVATION_ALARM_PERCENT,
                treat_missing_data="breaching",
                alarm_actions=[topic.topic_arn],
                ok_actions=[topic.topic_arn],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.alarm_topic_arn = topic.topic_arn

    def _security_groups(self, name: str, args: SharedClusterArgs) -> aws.ec2.SecurityGroup:
        """Instances accept only the dynamic host ports, only from the shared ALB."""
        child = pulumi.ResourceOptions(parent=self)
        instance_sg = aws.ec2.SecurityGroup(
            f"{name}-instances",
            vpc_id=args.vpc_id,
            description="ECS nodes: dynamic host ports from the shared ALB only",
            opts=child,
        )
        low, high = DYNAMIC_PORTS
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-alb",
            security_group_id=instance_sg.id,
            referenced_security_group_id=args.load_balancer_security_group_id,
            ip_protocol="tcp",
            from_port=low,
            to_port=high,
            description="Dynamic host ports from the shared ALB",
            opts=child,
        )
        # The rule on the ALB's group lives here because it names the instances' group.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-instances",
            security_group_id=args.load_balancer_security_group_id,
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
