"""Odyssey: the machine layer and the application stacks on it. Read top to bottom, this is the architecture.

A stack either owns a shared ECS cluster (network, its ingress pool of shared
load balancers, cluster, DNS alias records when it has a hosted zone, and log
search when ``odyssey:logSearch`` is set) or
runs on one another stack owns (``odyssey:clusterStack``). Either way it
exports the machine-layer outputs, and deploys its application stack
(services, scheduled tasks, event stream) onto that cluster.
"""

from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.app.app_stack import AppStack, AppStackArgs
from components.machine.cluster import SharedCluster, SharedClusterArgs
from components.machine.cluster_reference import read_owner
from components.machine.dns import IngressDns, IngressDnsArgs
from components.machine.load_balancer import SharedLoadBalancerArgs, ingress_pool
from components.machine.log_search import LogSearch, LogSearchArgs
from components.machine.network import Network, NetworkArgs, resolve_placement
from components.shared.encryption_key import EncryptionKey, EncryptionKeyArgs
from odyssey.config.base import ConfigError
from odyssey.config.checks import cluster_problems, owner_pool, tenant_problems
from odyssey.config.stack import load_stack_config
from odyssey.contract import MachineLayerOutputs
from odyssey.domain.iam import logs_key_policy
from odyssey.domain.naming import APP_COMPONENT, StackNames, default_tags

# Every config problem is reported here, before anything registers; the stack file beside the program is read too.
config = load_stack_config(Path(__file__).parent)
names = StackNames(pulumi.get_project(), pulumi.get_stack())
tags = default_tags(names.project, names.stack, config.tags.department, config.tags.contact, config.tags.extra)
aws_provider = aws.Provider("aws", region=config.region, default_tags=aws.ProviderDefaultTagsArgs(tags=tags))
opts = pulumi.ResourceOptions(providers=[aws_provider])
protect = config.protect_stateful_resources
retention, security_retention = config.log_retention_days, config.security_log_retention_days

if config.owns_cluster:
    placement = resolve_placement(config.network_config, pulumi.InvokeOptions(provider=aws_provider))
    # The owner's checks again, with the zones the placement found; then itself as a tenant of its pool.
    pool = owner_pool(config, names, len(placement.availability_zones))
    problems = tenant_problems(config, names, pool.outputs())
    if problems:
        raise ConfigError(problems)
    # One key for every log group of the owner and its tenants; it is as precious as the logs it reads.
    logs_key = EncryptionKey("logs", EncryptionKeyArgs(
        description=f"Encrypts the log groups of {names.stack} and the stacks on its cluster",
        alias=names.logs_key_alias, policy=lambda account, partition: logs_key_policy(account, config.region, partition),
        protect=protect,
    ), opts)
    network = Network("network", NetworkArgs(
        config=config.network_config,
        placement=placement,
        flow_log_group_name=names.flow_log_group, log_retention_days=security_retention, protect_logs=protect,
        logs_key_arn=logs_key.arn,
    ), opts)
    ingresses = ingress_pool("ingress", SharedLoadBalancerArgs(
        config=config.load_balancer_config, load_balancer_name=names.load_balancer_name, region=config.region,
        vpc_id=network.vpc_id, public_subnet_ids=network.public_subnet_ids, protect_logs=protect,
        logs_key_arn=logs_key.arn, security_log_retention_days=security_retention,
    ), [names.load_balancer_name_at(index) for index in range(2, pool.size + 1)], opts)
    cluster = SharedCluster("cluster", SharedClusterArgs(
        config=config.cluster_config, region=config.region, cluster_name=names.cluster_name,
        vpc_id=network.vpc_id, private_subnet_ids=network.private_subnet_ids,
        load_balancer_security_group_ids=[ingress.security_group_id for ingress in ingresses],
        exec_log_group_name=names.exec_log_group, host_log_group_name=names.host_log_group,
        log_retention_days=retention, security_log_retention_days=security_retention, protect_logs=protect,
        logs_key_arn=logs_key.arn, exec_key_alias=names.exec_key_alias, instance_tags=tags,
    ), opts)
    search = config.log_search and LogSearch("log-search", LogSearchArgs(
        config=config.log_search, names=names, region=config.region, vpc_id=network.vpc_id,
        private_subnet_ids=network.private_subnet_ids, private_subnet_zones=placement.private_subnet_zones,
        cluster_name=cluster.cluster_name, host_log_group_name=cluster.host_log_group_name,
        log_retention_days=retention, security_log_retention_days=security_retention, logs_key_arn=logs_key.arn,
        protect=protect,
    ), opts)
    machine = MachineLayerOutputs.of_owner(
        config.region, names.qualified(pulumi.get_organization()), network, ingresses, cluster,
        instance_type=config.cluster_config.instance_type,
        tenancies=pool.outputs(),
        min_size=config.cluster_config.min_size,
        max_instance_lifetime_seconds=config.cluster_config.max_instance_lifetime_seconds,
        logs_key_arn=logs_key.arn, log_search=search)
    if config.load_balancer_config.hosted_zone_id:
        IngressDns("dns", IngressDnsArgs(config.load_balancer_config.hosted_zone_id, machine), opts)
else:
    machine = read_owner(config.cluster_stack, opts)
    problems = cluster_problems(config, names, config.cluster_stack, machine.instance_type, machine.tenancies)
    if problems:
        raise ConfigError(problems)

machine.export()
if config.services or config.schedules:
    app = AppStack(APP_COMPONENT, AppStackArgs(config, names, machine, listener_slot=machine.listener_slots[names.stack]), opts)
    pulumi.export("serviceNames", app.services)
    pulumi.export("listenerPriorities", app.listener_priorities)
    pulumi.export("namespace", app.namespace_name)
    pulumi.export("eventTopicArn", app.topic_arn)
