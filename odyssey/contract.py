"""The machine layer's stack outputs: the contract between a cluster's owning stack and the stacks that run on it."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pulumi


@dataclass(frozen=True)
class MachineLayerOutputs:
    """Everything an application stack needs to run on the shared cluster.

    Field names are the stack output names. ``https_listener_arn`` is None when
    the owner has no certificate. ``listener_slots`` maps each application
    stack allowed on the cluster to its slot of listener-rule priorities.
    ``tenancies`` is the owner's registry as it resolved it: per stack its slot,
    allotted hosts, routing budget (``targetGroups``, ``rules``), capacity quota
    (``cpu``, ``memory``), namespace and ``loadBalancer``, its 1-based index in
    ``load_balancers`` (the ingress pool: per ALB its ARN, ARN suffix, DNS name,
    zone, security group and listeners). The ``alb_*`` and ``*_listener_arn``
    outputs are the pool's first ALB, as before the pool existed.
    One more output is exported but never read back, for the people who point
    DNS at the cluster: ``ingress`` (``ingress()``), per stack on the cluster,
    the ALB it routes on (``loadBalancer``, its index in the pool), the DNS
    name and hosted zone its hosts must point at (``dnsName``, ``zoneId``) and
    its listeners (``httpsListenerArn``, None without a certificate, and
    ``httpListenerArn``). It joins ``tenancies`` and ``load_balancers``, which
    stay the source of truth.
    ``min_size`` and ``max_instance_lifetime_seconds`` are the owner's group
    settings, which ``odyssey status`` and ``cycle-audit`` check the live
    cluster against (with ``availability_zones``); they are None on a stack
    whose owner was deployed before it exported them.
    ``log_search_*`` are the owner's log search (``odyssey:logSearch``): the
    Firehose stream and the role CloudWatch Logs assumes to put records on it,
    which every application stack's subscription filters name, and, for people,
    the domain's endpoint and its Dashboards URL. All None when the owner has no
    log search (or predates it); then no stack subscribes its log groups.
    ``logs_key_arn`` is the owner's logs key, which encrypts every log group of
    the owner and its tenants, and ``exec_key_arn`` the key ECS Exec sessions on
    the cluster are encrypted with (tasks with Exec may decrypt with it). Both
    are None on a tenant of an owner deployed before it exported them: its log
    groups are then created without a key (the pack reports them) and its Exec
    tasks get no decrypt grant (that owner's cluster encrypts no sessions);
    redeploying the owner, then the tenant, encrypts them.
    """

    region: pulumi.Input[str]
    cluster_stack: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    capacity_provider_name: pulumi.Input[str]
    auto_scaling_group_name: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    public_subnet_ids: pulumi.Input[list[str]]
    availability_zones: pulumi.Input[list[str]]
    alb_arn: pulumi.Input[str]
    alb_dns_name: pulumi.Input[str]
    alb_zone_id: pulumi.Input[str]
    alb_security_group_id: pulumi.Input[str]
    https_listener_arn: pulumi.Input[str | None]
    http_listener_arn: pulumi.Input[str]
    instance_security_group_id: pulumi.Input[str]
    host_log_group_name: pulumi.Input[str]
    exec_log_group_name: pulumi.Input[str]
    alb_arn_suffix: pulumi.Input[str]
    instance_type: str
    listener_slots: dict[str, int]
    min_size: int | None
    max_instance_lifetime_seconds: int | None
    tenancies: dict[str, dict[str, Any]]
    load_balancers: list[dict[str, pulumi.Input[str | None]]]
    logs_key_arn: pulumi.Input[str] | None
    exec_key_arn: pulumi.Input[str] | None
    log_search_stream_arn: pulumi.Input[str | None] = None
    log_search_role_arn: pulumi.Input[str | None] = None
    log_search_endpoint: pulumi.Input[str | None] = None
    log_search_dashboards_url: pulumi.Input[str | None] = None

    @classmethod
    def of_owner(cls, region: str, stack: str, network: Any, ingresses: list[Any], cluster: Any, instance_type: str,
                 tenancies: dict[str, dict[str, Any]], min_size: int,
                 max_instance_lifetime_seconds: int, logs_key_arn: pulumi.Input[str],
                 log_search: Any | None = None) -> MachineLayerOutputs:
        """The outputs of a stack that owns its cluster: its Network, SharedLoadBalancers, SharedCluster, settings,
        its logs key and its LogSearch (None without one)."""
        ingress = ingresses[0]
        return cls(
            region=region,
            cluster_stack=stack,
            cluster_name=cluster.cluster_name,
            cluster_arn=cluster.cluster_arn,
            capacity_provider_name=cluster.capacity_provider_name,
            auto_scaling_group_name=cluster.auto_scaling_group_name,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            availability_zones=network.availability_zones,
            alb_arn=ingress.arn,
            alb_dns_name=ingress.dns_name,
            alb_zone_id=ingress.zone_id,
            alb_security_group_id=ingress.security_group_id,
            https_listener_arn=ingress.https_listener_arn,
            http_listener_arn=ingress.http_listener_arn,
            instance_security_group_id=cluster.instance_security_group_id,
            host_log_group_name=cluster.host_log_group_name,
            exec_log_group_name=cluster.exec_log_group_name,
            alb_arn_suffix=ingress.arn_suffix,
            instance_type=instance_type,
            listener_slots={name: tenancy["slot"] for name, tenancy in tenancies.items()},
            min_size=min_size,
            max_instance_lifetime_seconds=max_instance_lifetime_seconds,
            tenancies=tenancies,
            load_balancers=[load_balancer_outputs(i) for i in ingresses],
            logs_key_arn=logs_key_arn,
            exec_key_arn=cluster.exec_key_arn,
            log_search_stream_arn=log_search.stream_arn if log_search else None,
            log_search_role_arn=log_search.subscription_role_arn if log_search else None,
            log_search_endpoint=log_search.endpoint if log_search else None,
            log_search_dashboards_url=log_search.dashboards_url if log_search else None,
        )

    @property
    def has_log_search(self) -> bool:
        return self.log_search_stream_arn is not None

    def tenancy(self, stack: str) -> dict[str, Any] | None:
        return self.tenancies.get(stack)

    def load_balancer_index(self, stack: str) -> int:
        """The 1-based index in the pool of the ALB ``stack`` routes on (1 for an owner that predates the pool)."""
        return int((self.tenancies.get(stack) or {}).get("loadBalancer") or 1)

    def load_balancer_of(self, stack: str) -> dict[str, Any]:
        """The ALB ``stack`` routes on: its own in the pool (the first for an owner that predates the pool)."""
        return self.load_balancers[self.load_balancer_index(stack) - 1]

    def ingress(self) -> dict[str, dict[str, Any]]:
        """Per stack on the cluster: its ALB's index, DNS name and zone (where its hosts point) and listeners."""
        keys = ("dnsName", "zoneId", "httpsListenerArn", "httpListenerArn")
        return {stack: {"loadBalancer": self.load_balancer_index(stack),
                        **{key: self.load_balancer_of(stack)[key] for key in keys}}
                for stack in sorted(self.tenancies)}

    @staticmethod
    def output_name(field_name: str) -> str:
        head, *rest = field_name.split("_")
        return head + "".join(part.title() for part in rest)

    @classmethod
    def output_names(cls) -> list[str]:
        return [cls.output_name(f.name) for f in fields(cls)]

    def as_stack_outputs(self) -> dict[str, Any]:
        """The contract's outputs, and ``ingress`` for DNS (see the class docstring)."""
        return {**{self.output_name(f.name): getattr(self, f.name) for f in fields(self)}, "ingress": self.ingress()}

    def export(self) -> None:
        for name, value in self.as_stack_outputs().items():
            pulumi.export(name, value)


def load_balancer_outputs(ingress: Any) -> dict[str, Any]:
    """One ALB of the pool as an output: what a tenant needs to route on it and point DNS at it."""
    return {
        "arn": ingress.arn,
        "arnSuffix": ingress.arn_suffix,
        "dnsName": ingress.dns_name,
        "zoneId": ingress.zone_id,
        "securityGroupId": ingress.security_group_id,
        "httpsListenerArn": ingress.https_listener_arn,
        "httpListenerArn": ingress.http_listener_arn,
    }
