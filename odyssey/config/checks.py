"""Checks across a stack's keys, after each key is valid on its own. One Problem per problem."""

from __future__ import annotations

from collections import defaultdict

from odyssey.config.app import DNS_LABEL_MAX, name_problem
from odyssey.config.base import ConfigError, Problem
from odyssey.config.machine import TenancyConfig
from odyssey.domain.capacity import task_capacity
from odyssey.domain.naming import StackNames
from odyssey.domain.quotas import ALB_VALUES_PER_CONDITION, ALB_VALUES_PER_RULE
from odyssey.domain.routing import Route
from odyssey.domain.tenancy import AlbQuotas, Pool, Reservation, TaskShape, Tenancy, plan_pool

DNS_NAME_MAX = 253


def public_routes(config) -> dict[str, Route]:
    """Each public service's rule: its own hosts, or the stack's default hosts, and its paths."""
    routes = {}
    for name, service in config.services.items():
        if service.public is not None:
            hosts = tuple(service.public.hosts or config.app.default_hosts)
            routes[name] = Route(name, hosts, tuple(service.public.paths))
    return routes


def task_shapes(config) -> dict[str, TaskShape]:
    """What each service reserves per task and how many tasks it runs at its desired count.

    ECS reserves a container's ``memoryReservation`` when set, else its
    ``memory``; an autoscaled service starts at its minimum count.
    """
    return {name: TaskShape(cpu=service.cpu, memory=service.memory_reservation or service.memory,
                            count=service.autoscaling.min_count if service.autoscaling else service.desired_count)
            for name, service in config.services.items()}


def registry(config, stack: str) -> dict[str, TenancyConfig]:
    """The owner's registry of stacks on its cluster; without one, the owner alone, in slot 1."""
    return dict(config.cluster_config.application_stacks) or {stack: TenancyConfig(slot=1)}


def listener_slots(config, stack: str) -> dict[str, int]:
    return {name: tenancy.slot for name, tenancy in registry(config, stack).items()}


def tenancies(config, stack: str, project: str) -> list[Tenancy]:
    """The registry as the tenancy decisions take it, each namespace resolved to the one the stack will use."""
    return [Tenancy(stack=name, slot=t.slot, hosts=tuple(t.hosts), target_groups=t.target_groups, rules=t.rules,
                    cpu=t.cpu, memory=t.memory, load_balancer=t.load_balancer,
                    namespace=StackNames(project, name).namespace(t.namespace))
            for name, t in sorted(registry(config, stack).items(), key=lambda item: item[1].slot)]


def owner_pool(config, names: StackNames, zones: int) -> Pool:
    """The owner's pool: each tenant's ALB and quota. A budget that cannot be placed is a ``ConfigError``."""
    cluster = config.cluster_config
    capacity = task_capacity(cluster.instance_type)
    node = Reservation(*capacity) if capacity else None
    try:
        return plan_pool(tenancies(config, names.stack, names.project),
                         AlbQuotas(rules=config.load_balancer_config.rules_quota), node, cluster.min_size, zones)
    except ValueError as error:
        raise ConfigError([Problem("odyssey:cluster.applicationStacks", str(error),
                                   'odyssey:cluster.applicationStacks: {"stage": {"slot": 2, "targetGroups": 20, '
                                   '"rules": 20, "loadBalancer": 2}}')]) from None


def stack_problems(config, stack: str | None, project: str = "odyssey") -> list[Problem]:
    """Every problem across keys; the ones that need the stack's name only when it is given."""
    problems = _ownership(config) + _certificate(config) + _routes(config) + _schedules(config)
    if stack is None:
        return problems
    problems += _names(config, stack, project)
    if config.owns_cluster:
        problems += capacity_problems(config, config.cluster_config.instance_type, "odyssey:cluster.instanceType")
        if config.services and stack not in listener_slots(config, stack):
            problems.append(Problem(
                "odyssey:cluster.applicationStacks",
                f"lists the stacks on this cluster but not this stack ({stack}), which runs services on it",
                f"odyssey:cluster.applicationStacks: {{\"{stack}\": 1}}",
            ))
    return problems


def _ownership(config) -> list[Problem]:
    problems = []
    if config.cluster_stack is not None:
        for key in ("network", "cluster", "load_balancer"):
            if getattr(config, key) is not None:
                camel = "loadBalancer" if key == "load_balancer" else key
                problems.append(Problem(
                    f"odyssey:{camel}",
                    f"configures a cluster this stack would own, but odyssey:clusterStack says it runs on "
                    f"{config.cluster_stack}'s cluster; remove one or the other",
                    f"odyssey:clusterStack: {config.cluster_stack} (and no odyssey:{camel})",
                ))
    network = config.network
    if network is not None and network.existing is not None:
        for field, camel in (("cidr_block", "cidrBlock"), ("availability_zones", "availabilityZones"),
                             ("nat_gateways", "natGateways")):
            if field in network.model_fields_set:
                problems.append(Problem(
                    f"odyssey:network.{camel}",
                    "describes a new VPC and cannot be combined with odyssey:network.existing",
                    'odyssey:network: {"existing": {"vpcId": "vpc-0a1b2c3d4e5f67890", ...}}',
                ))
    return problems


def _certificate(config) -> list[Problem]:
    arn = config.load_balancer.certificate_arn if config.load_balancer else None
    if arn is not None and arn.split(":")[3] != config.region:
        return [Problem(
            "odyssey:loadBalancer.certificateArn",
            f"is in {arn.split(':')[3]}, but the load balancer is in {config.region} (aws:region); an ALB can only "
            "use a certificate from its own region",
            f"odyssey:loadBalancer.certificateArn: arn:aws:acm:{config.region}:123456789012:certificate/...",
        )]
    return []


def _names(config, stack: str, project: str) -> list[Problem]:
    problems = []
    for name in config.services:
        problem = name_problem(name, "service")
        if problem:
            problems.append(Problem(f"odyssey:services.{name}", problem, 'odyssey:services: {"web": {...}}'))
    namespace = StackNames(project, stack).namespace(config.app.namespace)
    if len(namespace) > DNS_NAME_MAX or any(len(label) > DNS_LABEL_MAX for label in namespace.split(".")):
        problems.append(Problem("odyssey:app.namespace", f"{namespace!r} is too long for a DNS name",
                                'odyssey:app.namespace: "prod.odyssey.internal"'))
    return problems


def _schedules(config) -> list[Problem]:
    problems = []
    for name, schedule in config.schedules.items():
        key = f"odyssey:schedules.{name}"
        problem = name_problem(name, "schedule")
        if problem:
            problems.append(Problem(key, problem, 'odyssey:schedules: {"nightly-report": {...}}'))
        if schedule.service not in config.services:
            known = ", ".join(sorted(config.services)) or "none configured"
            problems.append(Problem(f"{key}.service", f"names service {schedule.service!r}, which is not in "
                                    f"odyssey:services ({known})", f'{key}.service: "worker"'))
    return problems




def _routes(config) -> list[Problem]:
    problems = []
    claimed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, route in public_routes(config).items():
        too_many = [f"{len(values)} {what}" for what, values in (("hosts", route.hosts), ("paths", route.paths))
                    if len(values) > ALB_VALUES_PER_CONDITION]
        if too_many or len(route.hosts) + len(route.paths) > ALB_VALUES_PER_RULE:
            problems.append(Problem(
                f"odyssey:services.{name}.public",
                f"routes on {len(route.hosts)} hosts (its own or odyssey:app.defaultHosts) and {len(route.paths)} "
                f"paths; an ALB rule takes at most {ALB_VALUES_PER_CONDITION} of each and {ALB_VALUES_PER_RULE} in all",
                f'odyssey:services.{name}.public: {{"hosts": ["www.example.com"], "paths": ["/{name}/*"]}}',
            ))
        if not route.hosts:
            problems.append(Problem(
                f"odyssey:services.{name}.public.hosts",
                "the service has no host to route on: every rule on the shared listener needs one, so other "
                "stacks' traffic is never caught; set hosts here or odyssey:app.defaultHosts",
                f'odyssey:services.{name}.public.hosts: ["www.example.com"]',
            ))
        for host in route.hosts:
            for path in route.paths or ("(any path)",):
                claimed[(host, path)].append(name)
    for (host, path), services in sorted(claimed.items()):
        if len(services) > 1:
            what = f"host {host}" + ("" if path == "(any path)" else f" with path {path}")
            problems.append(Problem(
                f"odyssey:services.{services[1]}.public",
                f"routes {what}, which {', '.join(services[:1])} already routes; each host and path may go to one "
                "service only",
                f'odyssey:services.{services[1]}.public.paths: ["/{services[1]}/*"]',
            ))
    return problems


def capacity_problems(config, instance_type: str, source: str) -> list[Problem]:
    """Services and their containers must fit on one node of the cluster's instance type."""
    capacity = task_capacity(instance_type)
    if capacity is None:
        return []
    cpu_units, memory_mib = capacity
    problems = []
    for name, service in config.services.items():
        if service.memory > memory_mib:
            problems.append(Problem(
                f"odyssey:services.{name}.memory",
                f"is {service.memory} MiB, above the ~{memory_mib} MiB one {instance_type} node offers tasks "
                f"({source}); the task could never be placed",
                f"odyssey:services.{name}.memory: {min(512, memory_mib)}",
            ))
        if service.cpu > cpu_units:
            problems.append(Problem(
                f"odyssey:services.{name}.cpu",
                f"is {service.cpu} CPU units, above the {cpu_units} of one {instance_type} node ({source})",
                f"odyssey:services.{name}.cpu: {min(256, cpu_units)}",
            ))
    return problems


def cluster_problems(config, stack: str, owner: str, instance_type: str, listener_slots: dict[str, int]) -> list[Problem]:
    """A stack on another stack's cluster: registered there, and its services fit the owner's nodes."""
    problems = capacity_problems(config, instance_type, f"{owner}'s cluster")
    if config.services and stack not in listener_slots:
        problems.append(Problem(
            "odyssey:clusterStack",
            f"this stack ({stack}) is not registered on {owner}'s cluster, so it has no listener priorities",
            f"in {owner}'s stack config: odyssey:cluster.applicationStacks: {{\"{stack}\": <free slot 1-10>}}",
        ))
    return problems
