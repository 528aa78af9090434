"""The cluster view of the offline plan: the owner and its tenants planned together, their shared facts checked.

Each stack is planned and gated as ``odyssey plan`` does it; the owner once, its
outputs answering every tenant's StackReference. Then what no single plan can
see is checked across them, from the resources the plans recorded (never from
the config, so it is what AWS would be asked to create):

* hosts: no host and path routed by two stacks (a host is served by one ALB
  rule, the lowest priority wins, the other stack silently loses its traffic);
* namespaces: one Cloud Map namespace name per stack (Route 53 refuses a second
  private zone of the same name in a VPC);
* listener priorities: unique per listener (AWS refuses a duplicate);
* budgets: target groups and rules per stack against its budget, per ALB
  against AWS's quotas;
* capacity: each stack's reservations against its quota, at desired counts and
  during its largest deploy, and all of them against the cluster's headroom.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from odyssey.config.base import ConfigError
from odyssey.config.stack import NAMESPACE
from odyssey.domain.capacity import DEPLOYMENT_MAXIMUM_PERCENT, task_capacity
from odyssey.domain.placement import PlacementError
from odyssey.domain.quotas import (
    ALB_RULES_PER_LOAD_BALANCER,
    ALB_TARGET_GROUPS_PER_LOAD_BALANCER,
    ECS_CONTAINER_INSTANCES_PER_CLUSTER,
)
from odyssey.domain.tenancy import (
    Headroom,
    Reservation,
    TaskShape,
    Tenancy,
    each_largest,
    hosts_overlap,
    steady_reservation,
    task_surge,
    tenancy_from_output,
)
from odyssey.ops.offline.gate import GateError, GateResult, plan_and_gate
from odyssey.ops.offline.plan import Plan, PlanError, read_stack_files

TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
NAMESPACE_TYPE = "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace"
AUTO_SCALING_GROUP = "aws:autoscaling/group:Group"
SCALABLE_TARGET = "aws:appautoscaling/target:Target"
ALB_TAG = "OdysseyLoadBalancer"  # the pool index t9-pool tags target groups and rules with

# Exit codes, as for a single stack's plan.
OK, FAILED, CONFIG, POLICY = 0, 1, 2, 3
# A stack that failed to plan leaves the view incomplete, worse than a refused config, worse than a policy.
SEVERITY = {OK: 0, POLICY: 1, CONFIG: 2, FAILED: 3}
REGISTRY_KEY = f"{NAMESPACE}:cluster.applicationStacks"


@dataclass(frozen=True)
class ClusterProblem:
    """A fact two or more stacks (or a stack and its owner's allotment) disagree on."""

    stacks: tuple[str, ...]
    key: str
    message: str
    example: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stacks", tuple(dict.fromkeys(self.stacks)))  # an owner is often its own tenant

    def __str__(self) -> str:
        text = f"{', '.join(self.stacks)}: {self.key}: {self.message}"
        return f"{text}\n    example: {self.example}" if self.example else text

    def to_json(self) -> dict[str, Any]:
        return {"stacks": list(self.stacks), "key": self.key, "message": self.message, "example": self.example}


@dataclass(frozen=True)
class Rule:
    """A listener rule as a plan recorded it."""

    stack: str
    service: str  # the component the rule belongs to
    listener: str
    priority: int | None
    hosts: tuple[str, ...]  # empty: any host
    paths: tuple[str, ...]  # empty: any path
    load_balancer: int | None


@dataclass(frozen=True)
class Usage:
    """What one planned stack uses of the cluster, from its recorded resources."""

    stack: str
    load_balancers: dict[int, tuple[int, int]]  # the ALBs its rules are on -> (its target groups, rules) there
    hosts: tuple[str, ...]
    target_groups: int
    rules: int
    reserved: Reservation
    surge: Reservation  # the extra while its largest service deploys
    tenancy: Tenancy | None  # what the owner allotted; None when the owner exports no tenancy for it

    @property
    def load_balancer(self) -> int | None:
        """The ALB the stack routes on: the one its rules are on, else the one it was allotted."""
        if self.load_balancers:
            return max(self.load_balancers, key=lambda index: self.load_balancers[index][1])
        return self.tenancy.load_balancer if self.tenancy else None

    def to_json(self) -> dict[str, Any]:
        t = self.tenancy
        return {
            "stack": self.stack, "loadBalancer": self.load_balancer,
            "allottedLoadBalancer": t.load_balancer if t else None, "hosts": list(self.hosts),
            "targetGroups": {"used": self.target_groups, "budget": t.target_groups if t else None},
            "rules": {"used": self.rules, "budget": t.rules if t else None},
            "cpu": {"reserved": self.reserved.cpu, "deploySurge": self.surge.cpu, "quota": t.cpu if t else None},
            "memory": {"reserved": self.reserved.memory, "deploySurge": self.surge.memory,
                       "quota": t.memory if t else None},
        }


@dataclass(frozen=True)
class HeadroomLine:
    """One scenario: what the cluster offers tasks, what the plans reserve in it, what is left."""

    scenario: str
    capacity: Reservation
    reserved: Reservation

    @property
    def free(self) -> Reservation:
        return Reservation(self.capacity.cpu - self.reserved.cpu, self.capacity.memory - self.reserved.memory)

    def to_json(self) -> dict[str, Any]:
        return {"scenario": self.scenario,
                **{what: {"cpu": value.cpu, "memory": value.memory}
                   for what, value in (("capacity", self.capacity), ("reserved", self.reserved),
                                       ("free", self.free))}}


@dataclass
class StackOutcome:
    stack: str
    code: int
    plan: Plan | None = None
    gate: GateResult | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "exitCode": self.code, "error": self.error,
                "resources": len(self.plan.resources) if self.plan else None,
                "mandatoryViolations": len(self.gate.mandatory) if self.gate else 0,
                "advisoryViolations": len(self.gate.violations) - len(self.gate.mandatory) if self.gate else 0}


@dataclass
class ClusterView:
    owner: str
    outcomes: list[StackOutcome]  # the owner first, then the tenants in slot order
    elsewhere: set[str] = field(default_factory=set)  # registered here, but planned on another stack's cluster
    not_planned: list[str] = field(default_factory=list)  # registered, but no stack file here
    usages: list[Usage] = field(default_factory=list)
    load_balancers: list[dict[str, Any]] = field(default_factory=list)
    headroom: list[HeadroomLine] = field(default_factory=list)
    problems: list[ClusterProblem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        codes = [o.code for o in self.outcomes] + ([CONFIG] if self.problems else [])
        return max(codes, key=SEVERITY.__getitem__, default=OK)

    def to_json(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "exitCode": self.exit_code,
            "stacks": [o.to_json() for o in self.outcomes],
            "notPlanned": self.not_planned,
            "tenants": [u.to_json() for u in self.usages],
            "loadBalancers": [{"index": i, "dnsName": lb.get("dnsName"), "arn": lb.get("arn")}
                              for i, lb in enumerate(self.load_balancers, start=1)],
            "headroom": [line.to_json() for line in self.headroom],
            "problems": [p.to_json() for p in self.problems],
        }


# ---------------------------------------------------------------- planning


Packs = Callable[[str], list[tuple[Path, Path | None]]]


def plan_stack(project_dir: Path, stack: str, packs: list, organization: str,
               references: dict[str, dict[str, Any]] | None = None) -> StackOutcome:
    """One stack planned and gated, its failure kept as an exit code and a message instead of raised."""
    try:
        files = read_stack_files(project_dir.resolve(), stack)
        plan, gate = plan_and_gate(project_dir, stack, packs, organization, files=files, references=references)
    except (ConfigError, PlanError, PlacementError, GateError) as error:
        return StackOutcome(stack, CONFIG, error=str(error))
    except Exception as error:  # noqa: BLE001 - the program's own error, reported per stack
        return StackOutcome(stack, FAILED, error=f"the program failed: {type(error).__name__}: {error}")
    return StackOutcome(stack, POLICY if gate is not None and gate.mandatory else OK, plan, gate)


def plan_cluster(project_dir: Path, owner: str, packs: Packs, organization: str = "organization",
                 on_planned: Callable[[StackOutcome], None] | None = None) -> ClusterView:
    """Plan ``owner`` and every tenant it registers that has a stack file here, then check them together.

    ``packs(stack)`` gives each stack's policy packs; ``on_planned`` sees each
    stack's outcome as soon as it is planned.
    """
    report = on_planned or (lambda outcome: None)
    first = plan_stack(project_dir, owner, packs(owner), organization)
    report(first)
    view = ClusterView(owner, [first])
    if first.plan is None:
        return view
    outputs = first.plan.outputs
    tenancies = outputs.get("tenancies") or {name: {"slot": slot} for name, slot in
                                              (outputs.get("listenerSlots") or {}).items()}
    full_name = f"{organization}/{first.plan.project}/{owner}"
    for tenant in sorted(tenancies, key=lambda name: tenancies[name].get("slot") or 0):
        if tenant == owner:
            continue
        if not (project_dir / f"Pulumi.{tenant}.yaml").exists():
            view.not_planned.append(tenant)
            continue
        outcome = plan_stack(project_dir, tenant, packs(tenant), organization, {full_name: outputs})
        report(outcome)
        view.outcomes.append(outcome)
        if outcome.plan is not None:
            referenced = set(outcome.plan.references)
            if full_name not in referenced:
                view.elsewhere.add(tenant)
                view.problems.append(ClusterProblem(
                    (tenant, owner), f"{NAMESPACE}:clusterStack",
                    f"{tenant} is registered on {owner}'s cluster but does not run on it "
                    f"(its odyssey:clusterStack is {', '.join(sorted(referenced)) or 'not set'})",
                    f"{NAMESPACE}:clusterStack: {full_name}"))
    check_cluster(view)
    return view


# ---------------------------------------------------------------- facts from the recorded resources


def _number(value: Any) -> int | None:
    return None if value is None else int(value)


def _tag_index(record: Mapping[str, Any]) -> int | None:
    value = (record["inputs"].get("tags") or {}).get(ALB_TAG)
    return int(value) if value else None


def listener_indexes(load_balancers: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Each listener ARN of the pool -> its ALB's 1-based index."""
    indexes = {}
    for index, lb in enumerate(load_balancers, start=1):
        for key in ("httpsListenerArn", "httpListenerArn"):
            if lb.get(key):
                indexes[lb[key]] = index
    return indexes


def _service_name(urn: str | None, by_urn: Mapping[str, Mapping[str, Any]]) -> str:
    """The service a rule routes to, as its stack config names it (its component's name less the app's)."""
    component = by_urn.get(urn or "")
    if component is None:
        return (urn or "").rsplit("::", 1)[-1]
    app = by_urn.get(component.get("parent") or "")
    return component["name"].removeprefix(f"{app['name']}-") if app else component["name"]


def rules_of(plan: Plan, listeners: Mapping[str, int]) -> list[Rule]:
    by_urn = {r["urn"]: r for r in plan.resources}
    rules = []
    for record in plan.resources:
        if record["type"] != LISTENER_RULE:
            continue
        inputs = record["inputs"]
        hosts: tuple[str, ...] = ()
        paths: tuple[str, ...] = ()
        for condition in inputs.get("conditions") or ():
            hosts += tuple((condition.get("hostHeader") or {}).get("values") or ())
            paths += tuple((condition.get("pathPattern") or {}).get("values") or ())
        listener = inputs.get("listenerArn") or ""
        service = _service_name(record.get("parent"), by_urn)
        rules.append(Rule(plan.stack, service, listener, _number(inputs.get("priority")), hosts, paths,
                          listeners.get(listener) or _tag_index(record)))
    return rules


def _family(task_definition_arn: str) -> str:
    # arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision>
    return task_definition_arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def _per_task(task: Mapping[str, Any]) -> tuple[int, int]:
    """(CPU units, MiB) one task reserves: the task's own size when set, else its containers' sum.

    A container reserves its memoryReservation when set, else its memory.
    """
    containers = json.loads(task.get("containerDefinitions") or "[]")
    cpu = _number(task.get("cpu")) or sum(int(c.get("cpu") or 0) for c in containers)
    memory = (_number(task.get("memory"))
              or sum(int(c.get("memoryReservation") or c.get("memory") or 0) for c in containers))
    return cpu, memory


def task_shapes_of(plan: Plan) -> list[tuple[TaskShape, int]]:
    """Each ECS service's task shape at its desired count, with its deployment maximum percent."""
    tasks = {r["inputs"].get("family"): r["inputs"] for r in plan.resources if r["type"] == TASK_DEFINITION}
    minimums = {r["inputs"].get("resourceId", "").rsplit("/", 1)[-1]: _number(r["inputs"].get("minCapacity"))
                for r in plan.resources if r["type"] == SCALABLE_TARGET}
    shapes = []
    for record in plan.resources:
        if record["type"] != ECS_SERVICE:
            continue
        inputs = record["inputs"]
        task = tasks.get(_family(inputs.get("taskDefinition") or ""))
        if task is None:
            continue
        count = _number(inputs.get("desiredCount"))
        if count is None:  # an autoscaled service left to its scaling target starts at its minimum
            count = minimums.get(inputs.get("name")) or 0
        cpu, memory = _per_task(task)
        percent = _number(inputs.get("deploymentMaximumPercent")) or DEPLOYMENT_MAXIMUM_PERCENT
        shapes.append((TaskShape(cpu=cpu, memory=memory, count=count), percent))
    return shapes


def usage_of(plan: Plan, owner_outputs: Mapping[str, Any]) -> Usage:
    """What ``plan``'s stack uses, measured against the tenancy its owner's outputs allot it."""
    listeners = listener_indexes(owner_outputs.get("loadBalancers") or ())
    allotted = (owner_outputs.get("tenancies") or {}).get(plan.stack)
    tenancy = tenancy_from_output(plan.stack, allotted) if allotted else None
    rules = rules_of(plan, listeners)
    shapes = task_shapes_of(plan)
    surge = each_largest(task_surge(shape, percent) for shape, percent in shapes)
    allotted = tenancy.load_balancer if tenancy and tenancy.load_balancer else None
    per_alb: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for rule in rules:
        per_alb[rule.load_balancer or allotted or 1][1] += 1
    # A target group without the pool's tag goes where the stack's rules are (a stack routes on one ALB).
    home = max(per_alb, key=lambda index: per_alb[index][1]) if per_alb else allotted or 1
    groups = [r for r in plan.resources if r["type"] == TARGET_GROUP]
    for group in groups:
        per_alb[_tag_index(group) or home][0] += 1
    hosts = tuple(dict.fromkeys(h for r in rules for h in r.hosts))
    return Usage(stack=plan.stack, load_balancers={i: (g, n) for i, (g, n) in sorted(per_alb.items())},
                 hosts=hosts, target_groups=len(groups), rules=len(rules),
                 reserved=steady_reservation(shape for shape, _ in shapes), surge=surge, tenancy=tenancy)


def owner_outputs_of(plan: Plan) -> Mapping[str, Any]:
    """The outputs of the stack that owns ``plan``'s cluster: its own, or the ones its StackReference read."""
    if "tenancies" in plan.outputs or not plan.references:
        return plan.outputs
    return next(iter(plan.references.values()))


def tenancy_line(plan: Plan) -> str | None:
    """One line for a single stack's summary: its ALB, budget used and quota used; None without a tenancy."""
    outputs = owner_outputs_of(plan)
    if plan.stack not in (outputs.get("tenancies") or {}):
        return None
    usage = usage_of(plan, outputs)
    t = usage.tenancy
    assert t is not None
    dns = _dns_name(outputs, usage.load_balancer)
    return (f"tenancy: {plan.stack} on ALB {usage.load_balancer or '?'}{f' ({dns})' if dns else ''}, "
            f"target groups {usage.target_groups}/{t.target_groups}, rules {usage.rules}/{t.rules}, "
            f"CPU {usage.reserved.cpu}/{_quota(t.cpu)} units, memory {usage.reserved.memory}/{_quota(t.memory)} MiB")


def _quota(value: int | None) -> str:
    return "?" if value is None else str(value)


def _dns_name(outputs: Mapping[str, Any], index: int | None) -> str | None:
    pool = outputs.get("loadBalancers") or []
    return pool[index - 1].get("dnsName") if index and index <= len(pool) else None


# ---------------------------------------------------------------- the checks across stacks


@cache
def _globs_meet(a: str, b: str) -> bool:
    """Is there a path both ALB path patterns match? (``*`` any characters, ``?`` one; case-sensitive)."""
    if not a or not b:
        return a.strip("*") == "" and b.strip("*") == ""
    if a[0] == "*":
        return _globs_meet(a[1:], b) or _globs_meet(a, b[1:])
    if b[0] == "*":
        return _globs_meet(a, b[1:]) or _globs_meet(a[1:], b)
    return (a[0] == b[0] or "?" in (a[0], b[0])) and _globs_meet(a[1:], b[1:])


def rules_meet(first: Rule, second: Rule) -> bool:
    """Could one request match both rules (a host both route, and a path both route)?"""
    hosts = (not first.hosts or not second.hosts
             or any(hosts_overlap(a, b) for a in first.hosts for b in second.hosts))
    paths = (not first.paths or not second.paths
             or any(_globs_meet(a, b) for a in first.paths for b in second.paths))
    return hosts and paths


def host_problems(rules: list[Rule]) -> list[ClusterProblem]:
    pairs: dict[tuple[str, str, str, str], tuple[Rule, Rule]] = {}

    def compare(first: Rule, second: Rule) -> None:
        if first.stack != second.stack and rules_meet(first, second):
            a, b = sorted((first, second), key=lambda r: (r.stack, r.service))
            pairs.setdefault((a.stack, a.service, b.stack, b.service), (a, b))

    # Rules on the same exact host are compared within their bucket; a wildcard or host-less rule with every rule.
    by_host: dict[str, list[Rule]] = defaultdict(list)
    for rule in rules:
        for host in rule.hosts:
            if not host.startswith("*"):
                by_host[host.lower()].append(rule)
    for bucket in by_host.values():
        for i, first in enumerate(bucket):
            for second in bucket[i + 1:]:
                compare(first, second)
    for wide in (r for r in rules if not r.hosts or any(h.startswith("*") for h in r.hosts)):
        for rule in rules:
            compare(wide, rule)
    return [ClusterProblem(
        (a.stack, b.stack), f"odyssey:services.{b.service}.public.hosts",
        f"{a.stack}'s service {a.service} and {b.stack}'s service {b.service} route the same requests (hosts "
        f"{', '.join(a.hosts) or 'any'} / {', '.join(b.hosts) or 'any'}, paths {', '.join(a.paths) or 'any'} / "
        f"{', '.join(b.paths) or 'any'}); the rule with the lower priority would take them all. Give each stack "
        f"its own hosts, allotted in the owner's {REGISTRY_KEY}",
        f'{REGISTRY_KEY}: {{"{a.stack}": {{"slot": 1, "hosts": ["www.example.com"]}}, '
        f'"{b.stack}": {{"slot": 2, "hosts": ["{b.stack}.example.com"]}}}}',
    ) for a, b in pairs.values()]


def priority_problems(rules: list[Rule]) -> list[ClusterProblem]:
    taken: dict[tuple[str, int], list[Rule]] = defaultdict(list)
    for rule in rules:
        if rule.priority is not None:
            taken[(rule.listener, rule.priority)].append(rule)
    return [ClusterProblem(
        tuple(dict.fromkeys(r.stack for r in same)), REGISTRY_KEY,
        f"listener priority {priority} on {listener.rsplit('/', 1)[-1]} is taken by "
        f"{', '.join(f'{r.stack}/{r.service}' for r in same)}; AWS refuses a duplicate priority on a listener. "
        "Each stack needs its own slot", f'{REGISTRY_KEY}: {{"prod": 1, "stage": 2}}',
    ) for (listener, priority), same in sorted(taken.items()) if len(same) > 1]


def namespace_problems(namespaces: Mapping[str, str]) -> list[ClusterProblem]:
    by_name: dict[str, list[str]] = defaultdict(list)
    for stack, name in namespaces.items():
        by_name[name.lower()].append(stack)
    return [ClusterProblem(
        tuple(stacks), "odyssey:app.namespace",
        f"{', '.join(stacks)} all use the Cloud Map namespace {name}; Route 53 refuses a second private zone of "
        "the same name in the VPC", f"odyssey:app.namespace: {stacks[-1]}.odyssey.internal",
    ) for name, stacks in sorted(by_name.items()) if len(stacks) > 1]


def budget_problems(usages: list[Usage], owner: str, rules_quota: int) -> list[ClusterProblem]:
    problems = []
    for u in usages:
        t = u.tenancy
        if t is None:
            continue
        for what, used, budget, camel in (("target groups", u.target_groups, t.target_groups, "targetGroups"),
                                          ("listener rules", u.rules, t.rules, "rules")):
            if used > budget:
                problems.append(ClusterProblem(
                    (u.stack, owner), f"{REGISTRY_KEY}.{u.stack}.{camel}",
                    f"{u.stack} uses {used} {what}, over its budget of {budget}; raise the budget in {owner}'s "
                    f"registry or route fewer public services", f"{REGISTRY_KEY}.{u.stack}.{camel}: {used}"))
        if t is not None and t.load_balancer is not None and u.rules and u.load_balancer != t.load_balancer:
            problems.append(ClusterProblem(
                (u.stack, owner), f"{REGISTRY_KEY}.{u.stack}.loadBalancer",
                f"{u.stack}'s rules are on ALB {u.load_balancer}, but {owner} allotted it ALB {t.load_balancer}, "
                "whose DNS name its hosts are to point at; the owner's pool must create every ALB it allots"))
    per_alb: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for u in usages:
        for index, (groups, rules) in u.load_balancers.items():
            per_alb[index].append((u.stack, groups, rules))
    for index, tenants in sorted(per_alb.items()):
        stacks = tuple(stack for stack, _, _ in tenants)
        for what, used, quota in (
            ("target groups", sum(groups for _, groups, _ in tenants), ALB_TARGET_GROUPS_PER_LOAD_BALANCER),
            ("listener rules", sum(rules for _, _, rules in tenants), rules_quota),
        ):
            if used > quota:
                problems.append(ClusterProblem(
                    stacks, REGISTRY_KEY,
                    f"ALB {index} carries {used} {what} of {', '.join(stacks)}; AWS allows {quota} per ALB. Pin "
                    "a tenant to another load balancer", f'{REGISTRY_KEY}.{stacks[-1]}.loadBalancer: {index + 1}'))
    return problems


def capacity_problems(usages: list[Usage], owner: str) -> list[ClusterProblem]:
    problems = []
    for u in usages:
        t = u.tenancy
        if t is None or t.cpu is None or t.memory is None:
            continue
        quota = Reservation(t.cpu, t.memory)
        for when, reserved in (("at desired counts", u.reserved), ("during its largest deploy", u.reserved + u.surge)):
            if not reserved.fits(quota):
                problems.append(ClusterProblem(
                    (u.stack, owner), f"{REGISTRY_KEY}.{u.stack}",
                    f"{u.stack} reserves {reserved.cpu} CPU units and {reserved.memory} MiB {when}, over its quota "
                    f"of {quota.cpu} CPU units and {quota.memory} MiB; raise the quota or reserve less",
                    f'{REGISTRY_KEY}.{u.stack}: {{"cpu": {max(reserved.cpu, quota.cpu)}, '
                    f'"memory": {max(reserved.memory, quota.memory)}}}'))
                break
    return problems


def headroom_of(owner_plan: Plan, usages: list[Usage]) -> tuple[list[HeadroomLine], Headroom | None, int, int]:
    """The three scenarios (normal, one zone lost, one zone lost during the largest deploy)."""
    outputs = owner_plan.outputs
    capacity = task_capacity(str(outputs.get("instanceType") or ""))
    min_size = _number(outputs.get("minSize"))
    if min_size is None:
        group = next((r for r in owner_plan.resources if r["type"] == AUTO_SCALING_GROUP), None)
        min_size = _number(group["inputs"].get("minSize")) if group else None
    zones = len(outputs.get("availabilityZones") or ())
    if capacity is None or min_size is None or zones == 0:
        return [], None, 0, 0
    headroom = Headroom.of(Reservation(*capacity), min_size, zones)
    reserved = Reservation(sum(u.reserved.cpu for u in usages), sum(u.reserved.memory for u in usages))
    surge = each_largest(u.surge for u in usages)
    return [HeadroomLine("normal", headroom.normal, reserved),
            HeadroomLine("one zone lost", headroom.zone_lost, reserved),
            HeadroomLine("one zone lost, during the largest deploy", headroom.zone_lost, reserved + surge)], \
        headroom, min_size, zones


def _min_size_for(at_min_size: Reservation, min_size: int, needed: Reservation, zones: int) -> int | None:
    """The smallest minSize whose capacity after losing its largest zone holds ``needed``."""
    node = Reservation(at_min_size.cpu // min_size, at_min_size.memory // min_size)
    return next((size for size in range(min_size, ECS_CONTAINER_INSTANCES_PER_CLUSTER + 1)
                 if needed.fits(Headroom.of(node, size, zones).zone_lost)), None)


def check_cluster(view: ClusterView) -> None:
    """Fill ``view`` with the tenancy rows, the headroom and every cross-stack problem of its planned stacks."""
    owner_plan = view.outcomes[0].plan
    assert owner_plan is not None
    outputs = owner_plan.outputs
    view.load_balancers = list(outputs.get("loadBalancers") or [])
    listeners = listener_indexes(view.load_balancers)
    plans = [o.plan for o in view.outcomes if o.plan is not None and o.stack not in view.elsewhere]
    view.usages = [usage_of(plan, outputs) for plan in plans]
    rules = [rule for plan in plans for rule in rules_of(plan, listeners)]
    namespaces = {plan.stack: str(plan.outputs["namespace"]) for plan in plans if plan.outputs.get("namespace")}
    registered = outputs.get("tenancies") or {}
    for stack in view.not_planned:  # a tenant not planned here still holds the namespace it was allotted
        if (registered.get(stack) or {}).get("namespace"):
            namespaces.setdefault(stack, str(registered[stack]["namespace"]))
    load_balancer = json.loads(owner_plan.config.get(f"{NAMESPACE}:loadBalancer") or "{}") or {}
    rules_quota = int(load_balancer.get("rulesQuota") or ALB_RULES_PER_LOAD_BALANCER)
    view.problems += (host_problems(rules) + namespace_problems(namespaces) + priority_problems(rules)
                      + budget_problems(view.usages, view.owner, rules_quota)
                      + capacity_problems(view.usages, view.owner))
    view.headroom, headroom, min_size, zones = headroom_of(owner_plan, view.usages)
    worst = view.headroom[-1] if view.headroom else None
    if worst is not None and headroom is not None and (worst.free.cpu < 0 or worst.free.memory < 0):
        needed = _min_size_for(headroom.normal, min_size, worst.reserved, zones)
        view.problems.append(ClusterProblem(
            tuple(u.stack for u in view.usages), f"{NAMESPACE}:cluster.minSize",
            f"the stacks reserve {worst.reserved.cpu} CPU units and {worst.reserved.memory} MiB with the largest "
            f"deploy under way; after losing its largest zone the cluster at minSize {min_size} offers "
            f"{worst.capacity.cpu} and {worst.capacity.memory} MiB",
            f"{NAMESPACE}:cluster.minSize: {needed}" if needed else f"{NAMESPACE}:cluster.instanceType: m7i.xlarge"))
