"""Odyssey: the machine layer. Read top to bottom, this is the architecture.

A stack either owns a shared ECS cluster (network, shared load balancer,
cluster) or runs on one another stack owns (``odyssey:clusterStack``). Either
way it exports the same machine-layer outputs for application stacks to use.
"""

import pulumi
import pulumi_aws as aws

from components.cluster import SharedCluster, SharedClusterArgs
from components.cluster_reference import ClusterReference
from components.load_balancer import SharedLoadBalancer, SharedLoadBalancerArgs
from components.network import Network, NetworkArgs, resolve_placement
from odyssey.config import load_stack_config
from odyssey.outputs import MachineLayerOutputs
from odyssey.stack_names import StackNames, default_tags

config = load_stack_config()  # every config problem is reported here, before anything registers
names = StackNames(pulumi.get_project(), pulumi.get_stack())
tags = default_tags(names.project, names.stack, config.tags.department, config.tags.contact, config.tags.extra)
aws_provider = aws.Provider("aws", region=config.region, default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
opts = pulumi.ResourceOptions(providers=[aws_provider])

if config.owns_cluster:
    placement = resolve_placement(config.network_config, pulumi.InvokeOptions(provider=aws_provider))
    network = Network("network", NetworkArgs(
        config.network_config, placement, names.log_group("vpc-flow-logs"),
        config.log_retention_days, config.protect_stateful_resources), opts)
    ingress = SharedLoadBalancer("ingress", SharedLoadBalancerArgs(
        config.load_balancer_config, names.load_balancer_name, network.vpc_id, network.public_subnet_ids,
        config.protect_stateful_resources), opts)
    cluster = SharedCluster("cluster", SharedClusterArgs(
        config.cluster_config, config.region, names.cluster_name, network.vpc_id, network.private_subnet_ids,
        ingress.security_group_id, names.log_group("ecs-exec"), names.log_group("hosts"),
        config.log_retention_days, config.protect_stateful_resources, tags), opts)
    machine = MachineLayerOutputs(
        region=config.region, cluster_stack=f"{pulumi.get_organization()}/{names.project}/{names.stack}",
        cluster_name=cluster.cluster_name, cluster_arn=cluster.cluster_arn,
        capacity_provider_name=cluster.capacity_provider_name, vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids, public_subnet_ids=network.public_subnet_ids,
        availability_zones=network.availability_zones, alb_arn=ingress.arn, alb_dns_name=ingress.dns_name,
        alb_zone_id=ingress.zone_id, alb_security_group_id=ingress.security_group_id,
        https_listener_arn=ingress.https_listener_arn, http_listener_arn=ingress.http_listener_arn,
        instance_security_group_id=cluster.instance_security_group_id,
        host_log_group_name=cluster.host_log_group_name)
else:
    machine = ClusterReference(config.cluster_stack, opts).outputs

machine.export()
