"""NodeGroup: the cluster's instances, one homogeneous Auto Scaling group behind an ECS capacity provider.

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

The cluster's side stays with SharedCluster: the instances' security group
(its rules are the contract between the ALB and the dynamic host ports, and any
node group joins it) and the ClusterCapacityProviders association (a cluster
has exactly one, listing every provider and the default strategy).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from odyssey.config.machine import ClusterConfig
from odyssey.domain.ami import ecs_ami_image_id
from odyssey.domain.capacity import MIN_HEALTHY_PERCENTAGE, max_healthy_percentage
from odyssey.domain.iam import assume_role_policy
from odyssey.domain.naming import node_name
from odyssey.domain.userdata import render_user_data

INSTANCE_ROLE_POLICIES = (
    "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
)
ROOT_DEVICE = "/dev/xvda"
# EC2 status checks ignore a new instance this long: the ECS-optimized AMI boots and joins the cluster well within it.
BOOT_GRACE_SECONDS = 300
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
class NodeGroupArgs:
    """Properties of a NodeGroup."""

    config: ClusterConfig
    """Instance type, group sizes, root volume, agent settings and sysctls, lifetime, target capacity."""

    cluster_name: str
    """The ECS cluster the instances register with (written into their user data)."""

    subnet_ids: pulumi.Input[list[str]]
    """The private subnets the group launches into, one per availability zone."""

    security_group_id: pulumi.Input[str]
    """The instances' security group, owned by the cluster."""

    instance_tags: dict[str, str] = field(default_factory=dict)
    """Tags on the instances and their volumes and network interfaces. Default: none."""

    moved_from: pulumi.Resource | None = None
    """The component these resources were children of before NodeGroup held them.

    Each child gets an alias with that parent, so the engine takes the existing
    resource over instead of replacing it. Default: none (a new node group).
    """


class NodeGroup(pulumi.ComponentResource):
    """The instance role and profile, launch template, Auto Scaling group and capacity provider.

    Outputs: ``capacity_provider_name``, ``auto_scaling_group_name``,
    ``auto_scaling_group_arn`` and ``instance_role_arn``.
    """

    def __init__(self, name: str, args: NodeGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:cluster:NodeGroup", name, None, opts)
        aliases = [pulumi.Alias(parent=args.moved_from)] if args.moved_from is not None else None
        self._child = pulumi.ResourceOptions(parent=self, aliases=aliases)

        role, profile = self._instance_profile(name)
        template = self._launch_template(name, args, profile)
        group = self._group(name, args, template)
        capacity_provider = self._capacity_provider(name, args.config, group)

        self.capacity_provider_name = capacity_provider.name
        self.auto_scaling_group_name = group.name
        self.auto_scaling_group_arn = group.arn
        self.instance_role_arn = role.arn
        self.register_outputs(
            {
                "capacityProviderName": self.capacity_provider_name,
                "autoScalingGroupName": self.auto_scaling_group_name,
                "autoScalingGroupArn": self.auto_scaling_group_arn,
                "instanceRoleArn": self.instance_role_arn,
            }
        )

    def _instance_profile(self, name: str) -> tuple[aws.iam.Role, aws.iam.InstanceProfile]:
        """The ECS agent's and SSM Session Manager's managed policies, nothing else."""
        role = aws.iam.Role(
            f"{name}-instance",
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            opts=self._child,
        )
        for index, policy_arn in enumerate(INSTANCE_ROLE_POLICIES):
            aws.iam.RolePolicyAttachment(
                f"{name}-instance-{index}", role=role.name, policy_arn=policy_arn, opts=self._child
            )
        profile = aws.iam.InstanceProfile(f"{name}-instance", role=role.name, opts=self._child)
        return role, profile

    def _launch_template(
        self, name: str, args: NodeGroupArgs, profile: aws.iam.InstanceProfile
    ) -> aws.ec2.LaunchTemplate:
        config = args.config
        return aws.ec2.LaunchTemplate(
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
                    security_groups=[args.security_group_id],
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
            opts=self._child,
        )

    def _group(self, name: str, args: NodeGroupArgs, template: aws.ec2.LaunchTemplate) -> aws.autoscaling.Group:
        config = args.config
        max_healthy = max_healthy_percentage(max(config.min_size, 1))
        return aws.autoscaling.Group(
            f"{name}-nodes",
            vpc_zone_identifiers=args.subnet_ids,
            min_size=config.min_size,
            max_size=config.max_size,
            max_instance_lifetime=config.max_instance_lifetime_seconds,
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
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
            health_check_grace_period=BOOT_GRACE_SECONDS,
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
            opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(ignore_changes=["desiredCapacity"])),
        )

    def _capacity_provider(
        self, name: str, config: ClusterConfig, group: aws.autoscaling.Group
    ) -> aws.ecs.CapacityProvider:
        return aws.ecs.CapacityProvider(
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
            opts=self._child,
        )
