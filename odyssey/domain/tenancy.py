"""Tenancy of the shared cluster: what each application stack may use, and whether it all fits.

The owning stack registers every application stack that runs on its cluster
(its tenants, itself included) and allots each one:

* a slot of listener-rule priorities (``routing.slot_range``);
* the hosts it may route, exact names or ``*.`` wildcards, never overlapping
  another tenant's, so no stack can catch another's traffic;
* a routing budget: target groups and listener rules on its load balancer;
* a capacity quota: CPU units and MiB of memory its tasks may reserve.

Tenants share load balancers up to AWS's per-ALB quotas; past them the owner
runs a pool of ALBs and each tenant lives on one (``assign_load_balancers``).
Every function here is pure: the config checks and the components call them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from odyssey.domain.capacity import DEPLOYMENT_MAXIMUM_PERCENT
from odyssey.domain.quotas import ALB_RULES_PER_LOAD_BALANCER, ALB_TARGET_GROUPS_PER_LOAD_BALANCER


@dataclass(frozen=True)
class Tenancy:
    """One application stack's allotment on the cluster."""

    stack: str
    slot: int
    hosts: tuple[str, ...] = ()
    target_groups: int = 0
    rules: int = 0
    cpu: int | None = None  # CPU units; None: an equal share of what is left (see ``resolve_quotas``)
    memory: int | None = None  # MiB
    load_balancer: int | None = None  # 1-based index in the ingress pool; None: assigned
    namespace: str | None = None


# ---------------------------------------------------------------- hosts


def _suffix(pattern: str) -> str | None:
    """The domain a ``*.`` wildcard covers ('.example.com'), or None for an exact host."""
    return pattern[1:] if pattern.startswith("*.") else None


def host_covers(pattern: str, host: str) -> bool:
    """Does ALB host pattern ``pattern`` match every host ``host`` (itself a name or a pattern) matches?

    ALB host conditions are case-insensitive and ``*`` matches any characters,
    dots included, so ``*.example.com`` covers ``a.b.example.com`` and
    ``*.b.example.com``, but not ``example.com``.
    """
    pattern, host = pattern.lower(), host.lower()
    suffix = _suffix(pattern)
    if suffix is None:
        return pattern == host
    inner = _suffix(host)
    return (inner if inner is not None else host).endswith(suffix)


def hosts_overlap(a: str, b: str) -> bool:
    """Is there a host both patterns match?"""
    a, b = a.lower(), b.lower()
    if _suffix(a) is None or _suffix(b) is None:
        return host_covers(a, b) or host_covers(b, a)
    # Two wildcards share hosts exactly when one domain ends with the other.
    return a[1:].endswith(b[1:]) or b[1:].endswith(a[1:])


def allotment_overlaps(tenancies: Iterable[Tenancy]) -> list[tuple[str, str, str, str]]:
    """(tenant, its host, other tenant, its host) for every pair of tenants whose allotments share a host."""
    tenancies = sorted(tenancies, key=lambda t: t.slot)
    found = []
    for i, first in enumerate(tenancies):
        for second in tenancies[i + 1:]:
            for a in first.hosts:
                for b in second.hosts:
                    if hosts_overlap(a, b):
                        found.append((second.stack, b, first.stack, a))
    return found


def host_outside(host: str, tenant: Tenancy, others: Iterable[Tenancy]) -> str | None:
    """Why ``tenant`` may not route ``host``, or None when it may.

    A tenant with an allotment routes only inside it. A tenant without one
    routes any host no other tenant's allotment touches.
    """
    if tenant.hosts:
        if any(host_covers(allowed, host) for allowed in tenant.hosts):
            return None
        return f"is outside this stack's allotted hosts ({', '.join(tenant.hosts)})"
    owner = next((o for o in others if o.stack != tenant.stack and any(hosts_overlap(h, host) for h in o.hosts)),
                 None)
    if owner is not None:
        return f"belongs to stack {owner.stack}'s allotted hosts ({', '.join(owner.hosts)})"
    return None


# ---------------------------------------------------------------- the ingress pool


@dataclass(frozen=True)
class AlbQuotas:
    target_groups: int = ALB_TARGET_GROUPS_PER_LOAD_BALANCER
    rules: int = ALB_RULES_PER_LOAD_BALANCER


def fits(target_groups: int, rules: int, quotas: AlbQuotas) -> bool:
    """Do this many target groups and rules fit on one ALB?"""
    return target_groups <= quotas.target_groups and rules <= quotas.rules


def budget_problem(tenant: Tenancy, quotas: AlbQuotas) -> str | None:
    """A budget one ALB could never hold."""
    if tenant.target_groups > quotas.target_groups:
        return (f"a budget of {tenant.target_groups} target groups; one ALB holds at most {quotas.target_groups} "
                "(AWS quota, not adjustable)")
    if tenant.rules > quotas.rules:
        return f"a budget of {tenant.rules} rules; one ALB holds {quotas.rules} (the account's rules quota)"
    return None


def assign_load_balancers(tenancies: Iterable[Tenancy], quotas: AlbQuotas) -> dict[str, int]:
    """Each tenant's ALB in the pool (1-based), its pinned one or the first with room, in slot order.

    Pinned tenants never move. An unpinned tenant goes to the first ALB whose
    remaining target groups and rules hold its budget, considering tenants in
    slot order; since new tenants take higher slots, adding one never moves an
    existing tenant. Raising an unpinned tenant's budget can move the tenants
    after it, which is why the plan prints the assignment and the README says
    to pin tenants once the pool has more than one ALB.
    Raises ValueError for a budget no ALB can hold or pinned tenants that overfill their ALB.
    """
    tenancies = sorted(tenancies, key=lambda t: t.slot)
    used: dict[int, list[int]] = {}
    assignment: dict[str, int] = {}
    for tenant in tenancies:
        problem = budget_problem(tenant, quotas)
        if problem:
            raise ValueError(f"{tenant.stack}: {problem}")
    for tenant in (t for t in tenancies if t.load_balancer is not None):
        groups, rules = used.setdefault(tenant.load_balancer, [0, 0])
        if not fits(groups + tenant.target_groups, rules + tenant.rules, quotas):
            raise ValueError(
                f"{tenant.stack}: load balancer {tenant.load_balancer} cannot hold its budget "
                f"({tenant.target_groups} target groups, {tenant.rules} rules) beside the tenants pinned there "
                f"({groups} target groups, {rules} rules of {quotas.target_groups} and {quotas.rules})")
        used[tenant.load_balancer] = [groups + tenant.target_groups, rules + tenant.rules]
        assignment[tenant.stack] = tenant.load_balancer
    for tenant in (t for t in tenancies if t.load_balancer is None):
        index = 1
        while True:
            groups, rules = used.setdefault(index, [0, 0])
            if fits(groups + tenant.target_groups, rules + tenant.rules, quotas):
                break
            index += 1
        used[index] = [groups + tenant.target_groups, rules + tenant.rules]
        assignment[tenant.stack] = index
    return assignment


def pool_size(assignment: Mapping[str, int]) -> int:
    """How many ALBs the pool needs: the highest index any tenant uses, at least one."""
    return max(assignment.values(), default=1)


# ---------------------------------------------------------------- capacity


@dataclass(frozen=True)
class Reservation:
    """CPU units and MiB of memory reserved."""

    cpu: int
    memory: int

    def __add__(self, other: Reservation) -> Reservation:
        return Reservation(self.cpu + other.cpu, self.memory + other.memory)

    def fits(self, limit: Reservation) -> bool:
        return self.cpu <= limit.cpu and self.memory <= limit.memory


@dataclass(frozen=True)
class TaskShape:
    """What one service reserves per task, and how many tasks it runs."""

    cpu: int
    memory: int  # the memory ECS reserves: memoryReservation when set, else memory
    count: int


def steady_reservation(tasks: Iterable[TaskShape]) -> Reservation:
    tasks = list(tasks)
    return Reservation(sum(t.cpu * t.count for t in tasks), sum(t.memory * t.count for t in tasks))


def deploy_surge(tasks: Iterable[TaskShape], maximum_percent: int = DEPLOYMENT_MAXIMUM_PERCENT) -> Reservation:
    """The extra reservation while one service rolls out a new version, the worst service for each resource.

    The CPU and memory figures may come from different services: each is the
    most that one deploy can add of that resource.
    """
    return each_largest(task_surge(t, maximum_percent) for t in tasks)


def task_surge(task: TaskShape, maximum_percent: int = DEPLOYMENT_MAXIMUM_PERCENT) -> Reservation:
    """What one service adds while it deploys: the extra tasks maximumPercent allows, rounded up."""
    extra = math.ceil(task.count * (maximum_percent - 100) / 100)
    return Reservation(task.cpu * extra, task.memory * extra)


def each_largest(reservations: Iterable[Reservation]) -> Reservation:
    """The largest CPU and the largest memory among ``reservations``, each on its own (zero for none)."""
    reservations = list(reservations)
    return Reservation(max((r.cpu for r in reservations), default=0),
                       max((r.memory for r in reservations), default=0))


def zone_sizes(min_size: int, zones: int) -> list[int]:
    """How the Auto Scaling group spreads ``min_size`` instances over ``zones`` (balanced, the larger zones first)."""
    if zones < 1:
        raise ValueError(f"zones must be at least 1, got {zones}")
    base, extra = divmod(min_size, zones)
    return [base + 1] * extra + [base] * (zones - extra)


@dataclass(frozen=True)
class Headroom:
    """What the cluster offers tasks at its minimum size, normally and after losing its largest zone."""

    normal: Reservation
    zone_lost: Reservation

    @classmethod
    def of(cls, node: Reservation, min_size: int, zones: int) -> Headroom:
        survivors = min_size - max(zone_sizes(min_size, zones), default=0)
        return cls(Reservation(node.cpu * min_size, node.memory * min_size),
                   Reservation(node.cpu * survivors, node.memory * survivors))


def resolve_quotas(tenancies: Sequence[Tenancy], guaranteed: Reservation) -> dict[str, Reservation]:
    """Each tenant's quota: its own, or an equal share of what the explicit quotas leave of ``guaranteed``."""
    open_cpu = [t for t in tenancies if t.cpu is None]
    open_memory = [t for t in tenancies if t.memory is None]
    left_cpu = max(guaranteed.cpu - sum(t.cpu for t in tenancies if t.cpu is not None), 0)
    left_memory = max(guaranteed.memory - sum(t.memory for t in tenancies if t.memory is not None), 0)
    return {
        t.stack: Reservation(t.cpu if t.cpu is not None else left_cpu // len(open_cpu),
                             t.memory if t.memory is not None else left_memory // len(open_memory))
        for t in tenancies
    }


# ---------------------------------------------------------------- the owner's decisions, as outputs


@dataclass(frozen=True)
class Pool:
    """The owner's resolved tenancy: each tenant's ALB and capacity quota, and the cluster's headroom."""

    tenancies: tuple[Tenancy, ...]
    assignment: dict[str, int]
    quotas: dict[str, Reservation]
    headroom: Headroom | None  # None when the instance type's capacity is not known

    @property
    def size(self) -> int:
        return pool_size(self.assignment)

    def outputs(self) -> dict[str, dict]:
        """What the owner exports per tenant (``tenancies``), with the engine's camelCase keys."""
        return {t.stack: {
            "slot": t.slot, "hosts": list(t.hosts), "targetGroups": t.target_groups, "rules": t.rules,
            "cpu": self.quotas[t.stack].cpu if t.stack in self.quotas else t.cpu,
            "memory": self.quotas[t.stack].memory if t.stack in self.quotas else t.memory,
            "loadBalancer": self.assignment[t.stack], "namespace": t.namespace,
        } for t in self.tenancies}


def plan_pool(tenancies: Sequence[Tenancy], alb_quotas: AlbQuotas, node: Reservation | None, min_size: int,
              zones: int) -> Pool:
    """Assign ALBs and resolve quotas against what the cluster guarantees after losing its largest zone.

    Raises ValueError as ``assign_load_balancers`` does.
    """
    assignment = assign_load_balancers(tenancies, alb_quotas)
    if node is None:
        return Pool(tuple(tenancies), assignment, {}, None)
    headroom = Headroom.of(node, min_size, zones)
    return Pool(tuple(tenancies), assignment, resolve_quotas(tenancies, headroom.zone_lost), headroom)


def tenancy_from_output(stack: str, output: Mapping) -> Tenancy:
    """A tenancy as the owner exported it (numbers cross the engine as floats)."""
    def number(key: str) -> int | None:
        return None if output.get(key) is None else int(output[key])

    return Tenancy(stack=stack, slot=int(output["slot"]), hosts=tuple(output.get("hosts") or ()),
                   target_groups=int(output.get("targetGroups") or 0), rules=int(output.get("rules") or 0),
                   cpu=number("cpu"), memory=number("memory"), load_balancer=number("loadBalancer"),
                   namespace=output.get("namespace"))
