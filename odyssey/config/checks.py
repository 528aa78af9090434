"""Checks across a stack's keys, after each key is valid on its own. One Problem per problem."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Mapping, Sequence

from pydantic.alias_generators import to_camel

from odyssey.config.app import DNS_LABEL_MAX, name_problem
from odyssey.config.base import ConfigError, Problem
from odyssey.config.machine import TenancyConfig
from odyssey.domain.capacity import DEPLOYMENT_MAXIMUM_PERCENT, task_capacity
from odyssey.domain.invariants import MIN_AVAILABILITY_ZONES
from odyssey.domain.naming import StackNames, colliding_names, slug, ssm_parameter_problem
from odyssey.domain.quotas import (
    ALB_CONDITION_WILDCARDS_PER_RULE,
    ALB_TARGET_GROUPS_PER_LOAD_BALANCER,
    ALB_VALUES_PER_CONDITION,
    ALB_VALUES_PER_RULE,
    ECS_CONTAINER_INSTANCES_PER_CLUSTER,
)
from odyssey.domain.routing import Route
from odyssey.domain.tenancy import (
    AlbQuotas,
    Headroom,
    Pool,
    Reservation,
    TaskShape,
    Tenancy,
    allotment_overlaps,
    budget_problem,
    deploy_surge,
    fits,
    host_outside,
    hosts_overlap,
    plan_pool,
    steady_reservation,
    task_surge,
    tenancy_from_output,
    zone_sizes,
)

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


def tenancies(config, stack: str, project: str) -> list[Tenancy]:
    """The registry as the tenancy decisions take it, each namespace resolved to the one the stack will use."""
    return [Tenancy(stack=name, slot=t.slot, hosts=tuple(t.hosts), target_groups=t.target_groups, rules=t.rules,
                    cpu=t.cpu, memory=t.memory, load_balancer=t.load_balancer,
                    namespace=StackNames(project, name).namespace(t.namespace))
            for name, t in sorted(registry(config, stack).items(), key=lambda item: item[1].slot)]


def node_offer(config) -> Reservation | None:
    """What one node of the owner's cluster offers the tenants' tasks: its capacity less the host daemons on it.

    None when the instance type's capacity is not known (``task_capacity``):
    the capacity checks are then skipped.
    """
    cluster = config.cluster_config
    capacity = task_capacity(cluster.instance_type)
    if capacity is None:
        return None
    daemons = cluster.daemons.values()
    return Reservation(max(capacity[0] - sum(d.cpu for d in daemons), 0),
                       max(capacity[1] - sum(d.memory for d in daemons), 0))


def configured_zones(config) -> int:
    """How many availability zones the owner's cluster can span, as far as its config alone says.

    The configured zones; an existing VPC's private subnets (one zone each at
    most); else the zones a new VPC takes (the organisation's minimum). The
    capacity a cluster guarantees grows with its zones, so checking with the
    most zones possible never refuses a config the real placement accepts;
    the program checks again with the placement's zones (``owner_pool``).
    """
    network = config.network_config
    if network.existing is not None:
        return len(set(network.existing.private_subnet_ids))
    return len(network.availability_zones or ()) or MIN_AVAILABILITY_ZONES


def owner_pool(config, names: StackNames, zones: int) -> Pool:
    """The owner's pool: each tenant's ALB and quota. Every owner problem is a ``ConfigError`` before it."""
    problems = owner_problems(config, names, zones)
    if problems:
        raise ConfigError(problems)
    return _plan_pool(config, names, zones)


def _plan_pool(config, names: StackNames, zones: int) -> Pool:
    return plan_pool(tenancies(config, names.stack, names.project),
                     AlbQuotas(rules=config.load_balancer_config.rules_quota), node_offer(config),
                     config.cluster_config.min_size, zones)


def stack_problems(config, stack: str | None, project: str = "odyssey") -> list[Problem]:
    """Every problem across keys; the ones that need the stack's name only when it is given.

    An owner is checked as the owner (its registry against the ingress and
    the cluster, with the zones its config allows) and, once its registry is
    sound, as a tenant of itself.
    """
    problems = (_ownership(config) + _certificate(config) + _availability_zones(config) + _routes(config)
                + _schedules(config))
    if stack is None:
        return problems
    problems += _names(config, stack, project) + _secret_names(config, StackNames(project, stack))
    if config.cluster_stack is not None:
        problems += cluster_stack_problems(config.cluster_stack, stack, project)
    if config.owns_cluster:
        names = StackNames(project, stack)
        zones = configured_zones(config)
        capacity = capacity_problems(config, config.cluster_config.instance_type, "odyssey:cluster.instanceType")
        problems += capacity + (owner_problems(config, names, zones) or tenant_problems(
            config, names, _plan_pool(config, names, zones).outputs(), check_quota=not capacity))
    return problems


def _ownership(config) -> list[Problem]:
    problems = []
    if config.cluster_stack is not None:
        for key in ("network", "cluster", "load_balancer", "log_search"):
            if getattr(config, key) is not None:
                camel = to_camel(key)
                what = ("turns on log search, which the owner of the cluster configures (this stack's log groups "
                        "are subscribed when it has log search on)" if key == "log_search" else
                        "configures a cluster this stack would own")
                problems.append(Problem(
                    f"odyssey:{camel}",
                    f"{what}, but odyssey:clusterStack says it runs on "
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


CLUSTER_STACK = "odyssey:clusterStack"


def cluster_stack_problems(cluster_stack: str, stack: str, project: str,
                           stacks_here: Sequence[str] | None = None) -> list[Problem]:
    """The owner named by ``odyssey:clusterStack`` must be another stack of this project (of ``stacks_here``, if given).

    The owner exports what this program exports (``MachineLayerOutputs``), so it
    runs this program, as a stack of this project.
    """
    organization, owner_project, owner = cluster_stack.split("/")
    others = sorted(s for s in stacks_here or () if s != stack)
    if owner_project != project:
        return [Problem(CLUSTER_STACK, f"names {cluster_stack}, a stack of project {owner_project}; the cluster's "
                        f"owner runs this program, so it is a stack of this project ({project})",
                        f"{CLUSTER_STACK}: {organization}/{project}/{owner}")]
    if owner == stack:
        return [Problem(CLUSTER_STACK, f"names this stack ({stack}) as its own cluster's owner; name the stack "
                        "that owns the cluster, or remove the key to own one",
                        f"{CLUSTER_STACK}: {organization}/{project}/{others[0] if others else 'prod'}")]
    if stacks_here is not None and owner not in stacks_here:
        nearest = difflib.get_close_matches(owner, others, n=1)
        hint = f"; did you mean {organization}/{project}/{nearest[0]}?" if nearest else ""
        return [Problem(CLUSTER_STACK, f"names stack {owner}, which has no stack file here (stacks here: "
                        f"{', '.join(others) or 'none'}){hint}",
                        f"{CLUSTER_STACK}: {organization}/{project}/{(nearest or others or ['prod'])[0]}")]
    return []


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
    shared: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for collision in colliding_names(StackNames(project, stack), config.services, config.schedules):
        shared[(collision.kind, collision.members)].append(f"{collision.name!r} as the {collision.what}")
    for (kind, members), names in shared.items():
        renamed = members[-1]
        problems.append(Problem(
            f"odyssey:{kind}.{renamed}",
            f"{' and '.join(members)} both become {', '.join(names)}, so the engine or AWS would refuse the second "
            "mid-update; rename one",
            f"odyssey:{kind}.{renamed}-2: {{...}} ({renamed} under a name of its own)",
        ))
    namespace = StackNames(project, stack).namespace(config.app.namespace)
    if len(namespace) > DNS_NAME_MAX or any(len(label) > DNS_LABEL_MAX for label in namespace.split(".")):
        problems.append(Problem("odyssey:app.namespace", f"{namespace!r} is too long for a DNS name",
                                'odyssey:app.namespace: "prod.odyssey.internal"'))
    return problems


def _secret_names(config, names: StackNames) -> list[Problem]:
    """The stack's SSM path, then each SSM secret's full parameter name under it, as SSM would refuse them."""
    path = names.secrets_path(config.app.secrets_path)
    problem = ssm_parameter_problem(path)
    if problem:
        return [Problem("odyssey:app.secretsPath", problem, f'odyssey:app.secretsPath: "/{names.project}/{names.stack}/"')]
    problems = []
    for service_name, service in config.services.items():
        for env, ref in service.secrets.items():
            problem = ssm_parameter_problem(path + ref.ssm) if ref.ssm is not None else None
            if problem:
                key = f"odyssey:services.{service_name}.secrets.{env}.ssm"
                problems.append(Problem(key, problem, f'{key}: "db/password"'))
    return problems


def _availability_zones(config) -> list[Problem]:
    zones = config.network.availability_zones if config.network else None
    elsewhere = [az for az in zones or () if az[:-1] != config.region]
    if not elsewhere:
        return []
    return [Problem("odyssey:network.availabilityZones",
                    f"{', '.join(elsewhere)} {'is not a zone' if len(elsewhere) == 1 else 'are not zones'} of "
                    f"{config.region} (aws:region); the VPC's subnets can only be in its own region's zones",
                    f'odyssey:network.availabilityZones: ["{config.region}a", "{config.region}b", "{config.region}c"]')]


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
        if route.wildcards > ALB_CONDITION_WILDCARDS_PER_RULE:
            problems.append(Problem(
                f"odyssey:services.{name}.public",
                f"has {route.wildcards} wildcards (* and ?) in its hosts (its own or odyssey:app.defaultHosts) and "
                f"paths; an ALB rule takes at most {ALB_CONDITION_WILDCARDS_PER_RULE}",
                f'odyssey:services.{name}.public: {{"hosts": ["*.example.com"], "paths": ["/{name}/*"]}}',
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


def cluster_problems(config, names: StackNames, owner: str, instance_type: str,
                     tenancies: Mapping[str, Mapping]) -> list[Problem]:
    """A stack on another stack's cluster: its services fit the owner's nodes, and it keeps to its tenancy."""
    capacity = capacity_problems(config, instance_type, f"{owner}'s cluster")
    return capacity + tenant_problems(config, names, tenancies, owner, check_quota=not capacity)


# ---------------------------------------------------------------- the owner: its registry against ingress and cluster

REGISTRY = "odyssey:cluster.applicationStacks"


def owner_problems(config, names: StackNames, zones: int) -> list[Problem]:
    """The owner's registry: allotments apart, namespaces unique, budgets that fit the ingress, quotas the cluster."""
    tenants = tenancies(config, names.stack, names.project)
    problems = _allotments(tenants) + _namespaces(config, names, tenants) + _budgets(config, tenants)
    node = node_offer(config)
    if node is not None:
        problems += _headroom(config, tenants, node, zones)
    return problems


def _free_host(stack: str, near: str, others: Sequence[Tenancy]) -> str:
    """A host for ``stack`` beside ``near`` that no other tenant's allotment touches (for examples)."""
    domain = near.split(".", 1)[1] if near.count(".") > 1 else near
    candidates = [f"{slug(stack)}.{domain}", f"{slug(stack)}.example.com", f"{slug(stack)}.example.net"]
    return next((c for c in candidates if not any(hosts_overlap(h, c) for o in others for h in o.hosts)),
                candidates[-1])


def _allotments(tenants: Sequence[Tenancy]) -> list[Problem]:
    problems = []
    for stack, host, other, other_host in allotment_overlaps(tenants):
        others = [t for t in tenants if t.stack != stack]
        problems.append(Problem(
            f"{REGISTRY}.{stack}.hosts",
            f"allots {host} to {stack}, which overlaps {other_host}, allotted to {other}: a host may belong to one "
            "stack only, or one stack's listener rule catches the other's traffic",
            f'{REGISTRY}.{stack}.hosts: ["{_free_host(stack, host, others)}"]',
        ))
    return problems


def _namespaces(config, names: StackNames, tenants: Sequence[Tenancy]) -> list[Problem]:
    """A namespace two stacks resolve to stays with the stack whose default it is (else the lower slot)."""
    explicit = {stack for stack, t in registry(config, names.stack).items() if t.namespace is not None}
    default = {t.stack: StackNames(names.project, t.stack).namespace() for t in tenants}
    by_namespace: dict[str, list[Tenancy]] = defaultdict(list)
    for tenant in tenants:
        by_namespace[tenant.namespace].append(tenant)
    problems = []
    for namespace, sharing in by_namespace.items():
        if len(sharing) < 2:
            continue
        keeper = next((t for t in sharing if t.stack not in explicit), sharing[0])
        for tenant in (t for t in sharing if t is not keeper):
            problems.append(Problem(
                f"{REGISTRY}.{tenant.stack}.namespace",
                f"gives {tenant.stack} the Cloud Map namespace {namespace}, which is {keeper.stack}'s: Route 53 "
                "refuses a second private hosted zone of one name in the VPC, so the deploy would fail",
                f'{REGISTRY}.{tenant.stack}.namespace: "{default[tenant.stack]}"',
            ))
    return problems


def _budgets(config, tenants: Sequence[Tenancy]) -> list[Problem]:
    """Budgets one ALB could never hold, and pinned stacks that overfill their ALB."""
    quotas = AlbQuotas(rules=config.load_balancer_config.rules_quota)
    problems = []
    placeable = []
    for tenant in tenants:
        problem = budget_problem(tenant, quotas)
        if problem is None:
            placeable.append(tenant)
            continue
        field, fit, more = (
            ("targetGroups", quotas.target_groups, "") if tenant.target_groups > quotas.target_groups else
            ("rules", quotas.rules, " (for more, raise the account's quota, then odyssey:loadBalancer.rulesQuota)"))
        problems.append(Problem(
            f"{REGISTRY}.{tenant.stack}.{field}",
            f"gives {tenant.stack} {problem}, and a stack lives on one ALB of the pool{more}",
            f"{REGISTRY}.{tenant.stack}.{field}: {fit}",
        ))
    pinned: dict[int, list[Tenancy]] = defaultdict(list)
    for tenant in (t for t in placeable if t.load_balancer is not None):
        beside = pinned[tenant.load_balancer]
        if _fits(beside + [tenant], quotas):
            beside.append(tenant)
            continue
        fit = next(i for i in range(1, len(tenants) + 2) if _fits(pinned[i] + [tenant], quotas))
        problems.append(Problem(
            f"{REGISTRY}.{tenant.stack}.loadBalancer",
            f"pins {tenant.stack} ({tenant.target_groups} target groups, {tenant.rules} rules) to load balancer "
            f"{tenant.load_balancer}, where {', '.join(t.stack for t in beside)} already take "
            f"{sum(t.target_groups for t in beside)} target groups and {sum(t.rules for t in beside)} rules of its "
            f"{quotas.target_groups} and {quotas.rules}",
            f"{REGISTRY}.{tenant.stack}.loadBalancer: {fit}",
        ))
    return problems


def _fits(tenants: Sequence[Tenancy], quotas: AlbQuotas) -> bool:
    return fits(sum(t.target_groups for t in tenants), sum(t.rules for t in tenants), quotas)


UNITS = {"cpu": "CPU units", "memory": "MiB"}


def _headroom(config, tenants: Sequence[Tenancy], node: Reservation, zones: int) -> list[Problem]:
    """The quotas must fit what the cluster guarantees at its minimum size after losing its largest zone."""
    cluster = config.cluster_config
    headroom = Headroom.of(node, cluster.min_size, zones)
    largest = max(zone_sizes(cluster.min_size, zones))
    guarantee = (f"the cluster guarantees with minSize {cluster.min_size} over {zones} zones after losing its "
                 f"largest zone ({largest} of the {cluster.min_size} {cluster.instance_type} nodes, "
                 f"{node.cpu:,} CPU units and {node.memory:,} MiB each for tasks)")
    problems = []
    for dim, unit in UNITS.items():
        limit = getattr(headroom.zone_lost, dim)
        explicit = [t for t in tenants if getattr(t, dim) is not None]
        open_ = [t for t in tenants if getattr(t, dim) is None]
        total = sum(getattr(t, dim) for t in explicit)
        if total > limit:
            terms = " + ".join(f"{REGISTRY}.{t.stack}.{dim} {getattr(t, dim):,}" for t in explicit)
            problems.append(Problem(
                REGISTRY,
                f"quotas {terms} = {total:,} {unit}, above the {limit:,} {guarantee}; raise the minimum size or "
                "lower the quotas",
                _bigger_cluster(cluster, node, zones, dim, total) or f"{REGISTRY}.{explicit[0].stack}.{dim}: "
                f"{limit // len(explicit)}",
            ))
        elif open_ and (limit - total) // len(open_) == 0:
            problems.append(Problem(
                REGISTRY,
                f"{' and '.join(t.stack for t in open_)} {'has' if len(open_) == 1 else 'have'} no {dim} quota of "
                f"its own ({REGISTRY}.<stack>.{dim}) and would share the {limit - total:,} {unit} the explicit "
                f"quotas leave of the {limit:,} {guarantee}: a share of 0",
                # A node's worth for each open stack.
                _bigger_cluster(cluster, node, zones, dim, total + len(open_) * getattr(node, dim))
                or (f"{REGISTRY}.{explicit[0].stack}.{dim}: {getattr(explicit[0], dim) // 2}" if explicit else None),
            ))
    return problems


def _bigger_cluster(cluster, node: Reservation, zones: int, dim: str, total: int) -> str | None:
    """The minimum size (as an example) whose guarantee after losing a zone holds ``total``, if any cluster does."""
    if getattr(node, dim) == 0:
        return None
    size = next((n for n in range(cluster.min_size, ECS_CONTAINER_INSTANCES_PER_CLUSTER + 1)
                 if getattr(Headroom.of(node, n, zones).zone_lost, dim) >= total), None)
    if size is None:
        return None
    return f"odyssey:cluster.minSize: {size}" + (f" (and maxSize: {size})" if size > cluster.max_size else "")


# ---------------------------------------------------------------- every stack: keeping to its tenancy


def tenant_problems(config, names: StackNames, tenancies: Mapping[str, Mapping], owner: str | None = None, *,
                    check_quota: bool = True) -> list[Problem]:
    """This stack against the tenancy its cluster's owner exported (``owner`` None: this stack is the owner).

    Hosts inside its allotment and outside the others', public routes within
    its routing budget, reservations within its quota at desired counts and
    while its largest service deploys, and the namespace registered for it.
    Without ``check_quota`` (a service is already too big for a node) the
    quota is not checked: its excess would be the same problem again.
    """
    if not config.services:
        return []
    where = "this stack's config" if owner is None else f"{owner}'s config"
    output = tenancies.get(names.stack)
    if output is None:
        if owner is None:
            return [Problem(REGISTRY, f"lists the stacks on this cluster but not this stack ({names.stack}), which "
                            "runs services on it", f'{REGISTRY}: {{"{names.stack}": 1}}')]
        return [Problem(
            "odyssey:clusterStack",
            f"this stack ({names.stack}) is not registered on {owner}'s cluster, so it has no listener priorities, "
            "hosts, budget or quota",
            f'in {where}: {REGISTRY}: {{"{names.stack}": <free slot 1-10>}}',
        )]
    tenant = tenancy_from_output(names.stack, output)
    others = [tenancy_from_output(stack, o) for stack, o in tenancies.items() if stack != names.stack]
    problems = _allotted_hosts(config, tenant, others, where)
    # An owner deployed before it exported budgets allotted none: there is nothing to hold to.
    if "targetGroups" in output:
        problems += _routing_budget(config, tenant, where)
    if check_quota:
        problems += _quota(config, tenant, where)
    problems += _namespace(config, names, tenant, others, where)
    return problems


def _allotted_hosts(config, tenant: Tenancy, others: Sequence[Tenancy], where: str) -> list[Problem]:
    problems = []
    seen = set()
    for name, route in public_routes(config).items():
        key = f"odyssey:services.{name}.public.hosts" if config.services[name].public.hosts else "odyssey:app.defaultHosts"
        for host in route.hosts:
            reason = host_outside(host, tenant, others)
            if reason is None or (key, host) in seen:
                continue
            seen.add((key, host))
            if tenant.hosts:
                allowed = tenant.hosts[0].replace("*", name, 1)
                holder = next((o.stack for o in others if any(hosts_overlap(h, host) for h in o.hosts)), None)
                fix = (f"stack {holder} is allotted it, and its rules would compete with this stack's for the "
                       "traffic; route a host inside this stack's allotment" if holder else
                       f"route a host inside it, or have the owner allot this one ({REGISTRY}.{tenant.stack}.hosts "
                       f"in {where})")
            else:
                allowed = _free_host(tenant.stack, host, others)
                fix = f"route a host no other stack is allotted, or have the owner allot hosts to {tenant.stack}"
            problems.append(Problem(key, f"routes {host}, which {reason}; {fix}", f'{key}: ["{allowed}"]'))
    return problems


def _routing_budget(config, tenant: Tenancy, where: str) -> list[Problem]:
    """Each public service takes one target group and one listener rule of the stack's budget."""
    count = len(public_routes(config))
    if count <= tenant.target_groups and count <= tenant.rules:
        return []
    most = ALB_TARGET_GROUPS_PER_LOAD_BALANCER
    fix = (f"raise the budget in {where}" if count <= most else
           f"a stack's budget is at most {most} target groups (one ALB's quota): make {count - most} of the "
           "services internal (no `public`) or move them to another stack")
    budget = min(count, most)
    return [Problem(
        "odyssey:services",
        f"has {count} public services, which need {count} target groups and {count} listener rules; this stack's "
        f"routing budget is {tenant.target_groups} target groups and {tenant.rules} rules "
        f"({REGISTRY}.{tenant.stack}.targetGroups and .rules in {where}); {fix}",
        f'in {where}: {REGISTRY}.{tenant.stack}: {{"slot": {tenant.slot}, "targetGroups": {budget}, '
        f'"rules": {budget}}}',
    )]


def _quota(config, tenant: Tenancy, where: str) -> list[Problem]:
    """Reservations at desired counts, and while the largest service deploys (up to twice its tasks)."""
    quota = {dim: getattr(tenant, dim) for dim in UNITS if getattr(tenant, dim) is not None}
    shapes = task_shapes(config)
    steady = steady_reservation(shapes.values())
    surge = deploy_surge(shapes.values())
    deploying = steady + surge
    over = [dim for dim, limit in quota.items() if getattr(deploying, dim) > limit]
    if not over:
        return []
    # The service whose deploy adds the most of the first resource over quota (the surge may take its CPU and
    # its memory from different services).
    largest = max(shapes, key=lambda name: getattr(task_surge(shapes[name]), over[0]))
    steady_over = any(getattr(steady, dim) > limit for dim, limit in quota.items())
    keys = " and ".join(f"{REGISTRY}.{tenant.stack}.{dim}" for dim in over)
    return [Problem(
        "odyssey:services",
        f"reserve {_amount(steady)} at desired counts and {_amount(deploying)} while {largest} deploys "
        f"(maximumPercent {DEPLOYMENT_MAXIMUM_PERCENT}: {_amount(surge)} more), above this stack's quota of "
        f"{' and '.join(f'{limit:,} {UNITS[dim]}' for dim, limit in quota.items())} "
        f"{'already at desired counts' if steady_over else 'during the deploy'}; raise {keys} in {where}, or lower "
        "the services' counts, cpu or memory",
        f"in {where}: " + ", ".join(f"{REGISTRY}.{tenant.stack}.{dim}: {getattr(deploying, dim)}" for dim in over),
    )]


def _amount(reservation: Reservation) -> str:
    return f"{reservation.cpu:,} CPU units and {reservation.memory:,} MiB"


def _namespace(config, names: StackNames, tenant: Tenancy, others: Sequence[Tenancy], where: str) -> list[Problem]:
    namespace = names.namespace(config.app.namespace)
    registered = tenant.namespace or names.namespace()
    taken = next((o for o in others if o.namespace == namespace), None)
    if taken is not None:
        reason = (f"is {namespace}, the Cloud Map namespace of stack {taken.stack} on this cluster: Route 53 refuses "
                  "a second private hosted zone of one name in the VPC, so the deploy would fail")
    elif tenant.namespace is not None and namespace != tenant.namespace:
        reason = (f"is {namespace}, but the owner registered {tenant.namespace} for this stack "
                  f"({REGISTRY}.{names.stack}.namespace in {where}), where it checks namespaces never collide")
    else:
        return []
    return [Problem("odyssey:app.namespace", reason, f'odyssey:app.namespace: "{registered}"')]
