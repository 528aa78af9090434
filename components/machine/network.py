"""Network: the VPC the shared cluster runs in, over at least three availability zones.

Either a new ``awsx.ec2.Vpc`` with public and private subnets in each zone and
NAT gateways per the configured strategy, or an existing VPC whose subnets were
checked by ``resolve_placement`` to span at least three zones. Both get VPC flow
logs to CloudWatch Logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.shared.log_group import LogGroupArgs, log_group
from odyssey.config.machine import NetworkConfig
from odyssey.domain.iam import assume_role_policy, flow_log_policy
from odyssey.domain.placement import check_subnets_in_vpc, choose_availability_zones, zones_of_subnets

# Flow logs aggregate over 60 or 600 s; one minute keeps an incident's timeline readable.
FLOW_LOG_AGGREGATION_SECONDS = 60


@dataclass(frozen=True)
class Placement:
    """The availability zones the network spans, decided before anything registers.

    ``private_subnet_zones`` maps an existing VPC's private subnets to their zones, as looked up (empty for a
    new VPC, which has one private subnet per zone in zone order).
    """

    availability_zones: list[str]
    private_subnet_zones: dict[str, str] = field(default_factory=dict)


def resolve_placement(config: NetworkConfig, invoke_opts: pulumi.InvokeOptions | None = None) -> Placement:
    """Look up the zones (the region's, or the existing subnets') and check there are at least three.

    Call this before creating any resource: a failure here leaves nothing half-applied.
    """
    existing = config.existing
    if existing is not None:
        found = {
            subnet_id: aws.ec2.get_subnet(id=subnet_id, opts=invoke_opts)
            for subnet_id in [*existing.private_subnet_ids, *existing.public_subnet_ids]
        }
        check_subnets_in_vpc({s: found[s].vpc_id for s in found}, existing.vpc_id)
        # An ALB needs subnets in at least two zones.
        zones_of_subnets({s: found[s].availability_zone for s in existing.public_subnet_ids},
                         "odyssey:network.existing.publicSubnetIds", minimum=2)
        private_zones = {s: found[s].availability_zone for s in existing.private_subnet_ids}
        return Placement(zones_of_subnets(private_zones, "odyssey:network.existing.privateSubnetIds"), private_zones)
    available = aws.get_availability_zones(
        state="available",
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
        opts=invoke_opts,
    ).names
    return Placement(choose_availability_zones(config.availability_zones, available))


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of ``Network``.

    Attributes:
        config: ``odyssey:network``: the new VPC's CIDR block, zones and NAT gateways, or an existing VPC.
        placement: the availability zones the subnets span, resolved (and checked to be at least 3) by
            ``resolve_placement`` before anything registers.
        flow_log_group_name: name of the CloudWatch Logs group the VPC flow log (all traffic) is delivered to.
        log_retention_days: retention of the flow-log group, a security log (``odyssey:securityLogRetentionDays``).
        protect_logs: protect and retain the flow-log group (``odyssey:protectStatefulResources``).
        logs_key_arn: the stack's logs key, which encrypts the flow-log group.
    """

    config: NetworkConfig
    placement: Placement
    flow_log_group_name: str
    log_retention_days: int
    protect_logs: bool
    logs_key_arn: pulumi.Input[str]


class Network(pulumi.ComponentResource):
    """A VPC over at least three AZs, with flow logs.

    Outputs: ``vpc_id``, ``private_subnet_ids``, ``public_subnet_ids`` and the
    plain list ``availability_zones``.
    """

    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:network:Network", name, None, opts)
        self.availability_zones = args.placement.availability_zones
        existing = args.config.existing
        if existing is None:
            vpc = awsx.ec2.Vpc(
                f"{name}-vpc",
                cidr_block=args.config.cidr_block,
                availability_zone_names=self.availability_zones,
                enable_dns_hostnames=True,
                enable_dns_support=True,
                nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(
                    strategy=awsx.ec2.NatGatewayStrategy(args.config.nat_gateways),
                ),
                subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
                subnet_specs=[
                    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC),
                    awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE),
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.vpc_id = vpc.vpc_id
            self.private_subnet_ids = vpc.private_subnet_ids
            self.public_subnet_ids = vpc.public_subnet_ids
        else:
            self.vpc_id = pulumi.Output.from_input(existing.vpc_id)
            self.private_subnet_ids = pulumi.Output.from_input(existing.private_subnet_ids)
            self.public_subnet_ids = pulumi.Output.from_input(existing.public_subnet_ids)

        self._flow_logs(name, args)
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "privateSubnetIds": self.private_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
                "availabilityZones": self.availability_zones,
            }
        )

    def _flow_logs(self, name: str, args: NetworkArgs) -> None:
        group = log_group(
            f"{name}-flow-logs",
            LogGroupArgs(args.flow_log_group_name, args.log_retention_days, args.protect_logs, args.logs_key_arn),
            parent=self,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=group.arn.apply(flow_log_policy),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=self.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=FLOW_LOG_AGGREGATION_SECONDS,
            opts=pulumi.ResourceOptions(parent=self),
        )
