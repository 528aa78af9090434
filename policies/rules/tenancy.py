"""Tenancy of the shared cluster (design doc 000: one cluster runs several application stacks). Mandatory by default.

The program refuses a tenant over its routing budget or capacity quota before
anything registers; these policies are the second line, on what the program
actually declares:

* ``load-balancer-within-quotas``: no Application Load Balancer carries more
  target groups or listener rules than AWS allows, and no stack more than its
  routing budget;
* ``tenant-reservations-within-quota``: a stack's services reserve no more CPU
  and memory than its capacity quota, also while its largest service deploys.

They read the tenancy design's conventions: the tag ``OdysseyLoadBalancer``
(the ALB's 1-based index in the ingress pool) on every target group and
listener rule, because ARNs are unknown in a preview; the AppStack component's
``tenancy`` props (the budget and quota the owner allotted); each Service
component's ``reservation`` props. A stack policy sees one stack: on an ALB
that several tenants share it counts this stack's part, which is why each
tenant's budget is checked too (the owner sizes the pool so the budgets fit).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from .thresholds import ALB_RULES_PER_LOAD_BALANCER, ALB_TARGET_GROUPS_PER_LOAD_BALANCER
from .view import ECS_SERVICE, LISTENER_RULES, LISTENERS, TARGET_GROUPS, Stack, Unresolved, config_with_defaults, deps

# The tenancy design's conventions (the program's components register these).
APP_STACK = "odyssey:app:AppStack"
SERVICE = "odyssey:service:Service"
LOAD_BALANCER_TAG = "OdysseyLoadBalancer"

# "Service definition parameters", Amazon ECS Developer Guide: deploymentConfiguration maximumPercent defaults to
# 200 for the rolling-update deployment controller; a service at 200 starts a full copy of its tasks during a deploy.
ECS_DEFAULT_MAXIMUM_PERCENT = 200

QUOTAS_PAGE = "AWS, \"Quotas for your Application Load Balancers\""
# Messages list at most this many resource names; the count says how many there are.
NAMES_SHOWN = 5


def _names(resources: list[PolicyResource]) -> str:
    names = sorted(r.name for r in resources)
    more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return ", ".join(names[:NAMES_SHOWN]) + more


# ------------------------------------------------------------ load-balancer-within-quotas

ALB_SCHEMA = PolicyConfigSchema(
    properties={
        "maxTargetGroupsPerLoadBalancer": {
            "type": "integer", "minimum": 1, "maximum": ALB_TARGET_GROUPS_PER_LOAD_BALANCER,
            "default": ALB_TARGET_GROUPS_PER_LOAD_BALANCER,
            "description": "Most target groups one load balancer may carry (AWS quota: 100, not adjustable)."},
        "maxRulesPerLoadBalancer": {
            "type": "integer", "minimum": 1, "default": ALB_RULES_PER_LOAD_BALANCER,
            "description": "Most listener rules (default rules aside) one load balancer may carry: the account's "
                           "rules-per-ALB quota (AWS default 100, adjustable); keep it equal to the owner's "
                           "odyssey:loadBalancer.rulesQuota."},
    },
)

# A real listener ARN names its load balancer: arn:...:listener/app/<name>/<lb-id>/<listener-id>.
LISTENER_ARN = re.compile(r"^(arn:[^:]+:elasticloadbalancing:[^:]*:[^:]*:)listener/(app/[^/]+/[^/]+)/[^/]+$")


@dataclass(frozen=True)
class Place:
    """Which load balancer a resource sits on, as far as this stack can tell."""

    key: str
    label: str  # how a message names the load balancer


@dataclass
class Load:
    label: str
    target_groups: list[PolicyResource] = field(default_factory=list)
    rules: list[PolicyResource] = field(default_factory=list)


def _tag(resource: PolicyResource) -> str | None:
    """The ``OdysseyLoadBalancer`` tag; an unknown tags map or tag raises (the caller cannot place the resource)."""
    tags = resource.props.get("tags")
    if tags is None:
        return None
    value = tags.get(LOAD_BALANCER_TAG)
    return None if value is None else str(value)


def _known_string(props: Mapping[str, Any], key: str) -> str | None:
    try:
        value = props.get(key)
    except UnknownValueError:
        return None
    return value if isinstance(value, str) and value else None


def _tagged(index: str) -> Place:
    return Place(f"tag:{index}", f"load balancer {index}")


def _rule_place(rule: PolicyResource) -> Place | None:
    """A rule's load balancer: its tag, else its listener's (in this stack, or named by a known ARN)."""
    tag = _tag(rule)
    if tag is not None:
        return _tagged(tag)
    for listener in deps(rule, "listenerArn"):
        if listener.resource_type in LISTENERS:
            for alb in deps(listener, "loadBalancerArn"):
                return Place(alb.urn, f"load balancer '{alb.name}' (found through its listener '{listener.name}')")
            return Place(listener.urn, f"the load balancer of listener '{listener.name}'")
    arn = _known_string(rule.props, "listenerArn")
    if arn is None:
        return None
    match = LISTENER_ARN.match(arn)
    load_balancer = f"{match.group(1)}loadbalancer/{match.group(2)}" if match else arn
    return Place(load_balancer, f"the load balancer of listener {arn}")


def _target_group_place(group: PolicyResource, rule_places: dict[str, Place | None],
                        rules: list[PolicyResource]) -> Place | None:
    """A target group's load balancer: its tag, else that of a rule forwarding to it (one ALB per target group)."""
    tag = _tag(group)
    if tag is not None:
        return _tagged(tag)
    for rule in rules:
        if any(dep.urn == group.urn for dep in deps(rule, "actions")) and rule_places.get(rule.urn):
            return rule_places[rule.urn]
    return None


def _loads(stack: Stack, unresolved: Unresolved) -> tuple[dict[str, Load], Load]:
    """This stack's target groups and rules per load balancer, and those it cannot place (no tag, no listener)."""
    loads: dict[str, Load] = {}
    unplaced = Load("one load balancer (assumed)")
    rules = stack.of_type(*LISTENER_RULES)
    rule_places: dict[str, Place | None] = {}

    def place(resource: PolicyResource, found: Place | None, kind: str) -> None:
        load = unplaced if found is None else loads.setdefault(found.key, Load(found.label))
        getattr(load, kind).append(resource)

    for rule in rules:
        try:
            rule_places[rule.urn] = _rule_place(rule)
        except UnknownValueError as error:
            unresolved.add(rule, f"its {LOAD_BALANCER_TAG} tag is unknown ({error.message}), so its load balancer "
                                 "is not known")
            continue
        place(rule, rule_places[rule.urn], "rules")
    for group in stack.of_type(*TARGET_GROUPS):
        try:
            found = _target_group_place(group, rule_places, rules)
        except UnknownValueError as error:
            unresolved.add(group, f"its {LOAD_BALANCER_TAG} tag is unknown ({error.message}), so its load balancer "
                                  "is not known")
            continue
        place(group, found, "target_groups")
    return loads, unplaced


def _over_quota(load: Load, unplaced: Load, kind: str, limit: int, what: str, quota: str, fix: str) -> str | None:
    placed = getattr(load, kind)
    assumed = [] if load is unplaced else getattr(unplaced, kind)
    count = len(placed) + len(assumed)
    if count <= limit:
        return None
    detail = ""
    if load is unplaced:
        detail = (f" (none of them carries an {LOAD_BALANCER_TAG} tag or names a listener this stack can read, so "
                  "they are counted as one load balancer's)")
    elif assumed:
        detail = (f" ({len(placed)} on it and {len(assumed)} with no {LOAD_BALANCER_TAG} tag and no known listener, "
                  "counted as if on it)")
    return (f"{load.label[0].upper()}{load.label[1:]} carries {count} {what} from this stack{detail}; it may carry at "
            f"most {limit} ({quota}). {fix}")


TARGET_GROUP_FIX = ("Assign tenants to another load balancer of the pool (the owner's odyssey:cluster.applicationStacks) "
                    "or route fewer services publicly.")
RULE_FIX = ("Assign tenants to another load balancer of the pool, merge routes, or, with a raised account quota, set "
            "odyssey:loadBalancer.rulesQuota and this policy's maxRulesPerLoadBalancer.")


def _check_quotas(loads: dict[str, Load], unplaced: Load, config: Mapping[str, Any], report: ReportViolation) -> None:
    groups_max, rules_max = config["maxTargetGroupsPerLoadBalancer"], config["maxRulesPerLoadBalancer"]
    for load in list(loads.values()) or [unplaced]:
        for problem in (
            _over_quota(load, unplaced, "target_groups", groups_max, "target groups",
                        f"{QUOTAS_PAGE}: target groups per Application Load Balancer, not adjustable", TARGET_GROUP_FIX),
            _over_quota(load, unplaced, "rules", rules_max, "listener rules",
                        f"{QUOTAS_PAGE}: rules per Application Load Balancer, default 100, adjustable", RULE_FIX),
        ):
            if problem:
                report(problem)


def _check_budget(stack: Stack, app: PolicyResource, report: ReportViolation) -> None:
    tenancy = app.props.get("tenancy")
    if not tenancy:
        return
    tenant = tenancy.get("stack") or app.name
    key = f"odyssey:cluster.applicationStacks.{tenant}"
    groups = list(stack.descendants(app, *TARGET_GROUPS))
    rules = list(stack.descendants(app, *LISTENER_RULES))
    for found, budget_key, what in ((groups, "targetGroups", "target groups"), (rules, "rules", "listener rules")):
        budget = tenancy.get(budget_key)
        if budget is not None and len(found) > int(budget):
            report(f"Stack {tenant} has {len(found)} {what} ({_names(found)}); its routing budget is {int(budget)} "
                   f"({key}.{budget_key} in the owner's config). Raise the budget at the owner or route fewer "
                   "services publicly.", app.urn)
    assigned = tenancy.get("loadBalancer")
    if assigned is not None:
        elsewhere = [r for r in groups + rules if _tag(r) not in (None, str(int(assigned)))]
        if elsewhere:
            tags = ", ".join(sorted({str(_tag(r)) for r in elsewhere}))
            report(f"Stack {tenant} is assigned load balancer {int(assigned)} ({key}), but {len(elsewhere)} of its "
                   f"target groups and rules carry {LOAD_BALANCER_TAG} {tags} ({_names(elsewhere)}): each tenant "
                   "lives on one load balancer, and the tag is how the quotas are counted.", app.urn)


def _validate_load_balancer_quotas(args: StackValidationArgs, report: ReportViolation) -> None:
    config = config_with_defaults(ALB_SCHEMA, args.get_config())
    stack, unresolved = Stack(args), Unresolved()
    loads, unplaced = _loads(stack, unresolved)
    _check_quotas(loads, unplaced, config, report)
    for app in stack.of_type(APP_STACK):
        unresolved.check(app, lambda app=app: _check_budget(stack, app, report))
    unresolved.raise_if_any()


load_balancer_within_quotas = StackValidationPolicy(
    name="load-balancer-within-quotas",
    description=f"No Application Load Balancer carries more than {ALB_TARGET_GROUPS_PER_LOAD_BALANCER} target groups "
                f"(not adjustable) or more listener rules than the account's quota (default "
                f"{ALB_RULES_PER_LOAD_BALANCER}), and no stack more than its routing budget: past a quota the deploy "
                "fails halfway (AWS, \"Quotas for your Application Load Balancers\"; design doc 000: one cluster and "
                "its load balancers serve several application stacks). Counted per OdysseyLoadBalancer tag.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=ALB_SCHEMA,
    validate=_validate_load_balancer_quotas,
)

# ------------------------------------------------------------ tenant-reservations-within-quota


@dataclass(frozen=True)
class Reserved:
    """One service's reservation as its component declares it."""

    name: str
    cpu: int
    memory: int
    count: int
    maximum_percent: int

    @property
    def surge_tasks(self) -> int:
        """Tasks a deploy starts beside the running ones (a full copy at maximumPercent 200)."""
        return math.ceil(self.count * (self.maximum_percent - 100) / 100)


RESERVATION_KEYS = ("cpu", "memory", "count")


def _ecs_services(stack: Stack, service: PolicyResource) -> list[PolicyResource]:
    return list(stack.descendants(service, ECS_SERVICE))


def _check_count(stack: Stack, service: PolicyResource, report: ReportViolation, unresolved: Unresolved) -> None:
    """The declared count must be the ECS service's desired count, or the quota check sums a fiction."""
    reservation = service.props.get("reservation")
    if not reservation or reservation.get("count") is None:
        return
    declared = int(reservation["count"])

    def compare(ecs: PolicyResource) -> None:
        desired = ecs.props.get("desiredCount")
        if desired is not None and int(desired) != declared:
            report(f"Service '{service.name}' declares {declared} task(s) in its reservation, but its ECS service "
                   f"'{ecs.name}' runs desiredCount {int(desired)}: the tenant's quota is checked on the declared "
                   "count, so the two must agree.", service.urn)

    for ecs in _ecs_services(stack, service):
        unresolved.check(ecs, lambda ecs=ecs: compare(ecs))


def _reserved(stack: Stack, service: PolicyResource, unresolved: Unresolved) -> Reserved | None:
    """The service's declared reservation, or None (said in ``unresolved``) when it declares none or is unknown."""
    try:
        return _declared(stack, service, unresolved)
    except UnknownValueError as error:
        unresolved.add(service, error.message)
        return None


def _declared(stack: Stack, service: PolicyResource, unresolved: Unresolved) -> Reserved | None:
    reservation = service.props.get("reservation")
    missing = [key for key in RESERVATION_KEYS if not reservation or reservation.get(key) is None]
    if missing:
        unresolved.add(service, f"the Service declares no reservation {', '.join(missing)}, so its stack's "
                                "reservations cannot be summed")
        return None
    maximum = ECS_DEFAULT_MAXIMUM_PERCENT
    for ecs in _ecs_services(stack, service):
        if ecs.props.get("deploymentMaximumPercent") is not None:
            maximum = int(ecs.props["deploymentMaximumPercent"])
    return Reserved(service.name, int(reservation["cpu"]), int(reservation["memory"]), int(reservation["count"]),
                    maximum)


DIMENSIONS = (("cpu", "CPU units"), ("memory", "MiB of memory"))


def _check_quota(stack: Stack, app: PolicyResource, report: ReportViolation, unresolved: Unresolved) -> None:
    tenancy = app.props.get("tenancy")
    if not tenancy:
        unresolved.add(app, "the AppStack registers no tenancy props (a program from before tenancy quotas), so its "
                            "services' reservations cannot be compared with a quota")
        return
    tenant = tenancy.get("stack") or app.name
    quotas = {key: tenancy.get(key) for key, _ in DIMENSIONS}
    if all(quota is None for quota in quotas.values()):
        return  # the owner allotted no quota (an owner deployed before tenancy quotas): nothing to exceed
    services = list(stack.descendants(app, SERVICE))
    reserved = [found for service in services if (found := _reserved(stack, service, unresolved)) is not None]
    if len(reserved) < len(services):
        return
    steady = {key: sum(getattr(r, key) * r.count for r in reserved) for key, _ in DIMENSIONS}
    for key, unit in DIMENSIONS:
        quota = quotas[key]
        if quota is None:
            continue
        # The worst deploy for this resource: the service whose extra tasks reserve the most of it. The
        # program's capacity checks count the same surge (odyssey.domain.tenancy.deploy_surge).
        largest = max(reserved, key=lambda r, key=key: getattr(r, key) * r.surge_tasks, default=None)
        quota, total = int(quota), steady[key]
        surge = getattr(largest, key) * largest.surge_tasks if largest else 0
        where = f"odyssey:cluster.applicationStacks.{tenant}.{key} in the owner's config"
        if total > quota:
            report(f"Stack {tenant}'s services reserve {total} {unit} at their desired counts; its quota is {quota} "
                   f"({where}). Lower counts or task sizes, or raise the quota at the owner.", app.urn)
        elif total + surge > quota:
            report(f"Stack {tenant}'s services reserve {total} {unit} at their desired counts and {total + surge} "
                   f"while '{largest.name}' deploys ({largest.surge_tasks} extra task(s) at maximumPercent "
                   f"{largest.maximum_percent}); its quota is {quota} ({where}). Leave room for the deploy of the "
                   "largest service: lower counts or task sizes, or raise the quota at the owner.", app.urn)


def _validate_reservations(args: StackValidationArgs, report: ReportViolation) -> None:
    stack, unresolved = Stack(args), Unresolved()
    for service in stack.of_type(SERVICE):
        unresolved.check(service, lambda service=service: _check_count(stack, service, report, unresolved))
    for app in stack.of_type(APP_STACK):
        unresolved.check(app, lambda app=app: _check_quota(stack, app, report, unresolved))
    unresolved.raise_if_any()


tenant_reservations_within_quota = StackValidationPolicy(
    name="tenant-reservations-within-quota",
    description="Each application stack's services reserve no more CPU and memory than the capacity quota its owner "
                "allotted, at their desired counts and while the largest one deploys (ECS maximumPercent 200 starts "
                "a full copy of its tasks), so one tenant cannot starve another on the shared cluster (design doc "
                "000: a single cluster runs several application stacks). Declared counts must match the ECS services.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_reservations,
)

TENANCY: list[Any] = [load_balancer_within_quotas, tenant_reservations_within_quota]
