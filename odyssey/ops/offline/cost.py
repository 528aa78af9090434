"""Monthly cost of offline plans: a stack's lines, its cluster's chargeback and the one-ALB-per-service counterfactual.

The arithmetic is in ``odyssey.domain.cost``; this module feeds it the plans
(``odyssey plan``, ``odyssey plan --cluster``) and shapes what ``odyssey cost``
prints and writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from odyssey.config.stack import REGION_KEY
from odyssey.domain.cost import (
    CHARGEBACK_FORMULA,
    HOURS_PER_MONTH,
    NOT_ESTIMATED,
    Assumptions,
    Counterfactual,
    Estimate,
    PriceTable,
    TenantCharge,
    TenantWeight,
    chargeback,
    estimate,
    money_range,
    not_counted,
    one_alb_per_service,
    pinned_prices,
)
from odyssey.domain.tenancy import tenancy_from_output
from odyssey.ops.offline.cluster import ClusterView, owner_outputs_of
from odyssey.ops.offline.plan import Plan

# What one ALB costs in the shared design, the same parts the counterfactual prices for each ALB it would add.
ALB_LINE_KEYS = ("albHours", "albLcus", "albPublicIpv4")
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
ALB = "aws:lb/loadBalancer:LoadBalancer"


def prices_for(plan: Plan) -> PriceTable:
    return pinned_prices(plan.config.get(REGION_KEY) or "us-east-1")


def plan_estimate(plan: Plan, prices: PriceTable | None = None, assume: Assumptions = Assumptions()) -> Estimate:
    return estimate(plan.stack, plan.resources, prices or prices_for(plan), assume)


def cost_line(plan: Plan, prices: PriceTable | None = None) -> str:
    """The one line ``odyssey plan`` ends its summary with."""
    result = plan_estimate(plan, prices)
    low, high = result.total()
    own_cluster = result.total("cluster") != (0, 0)
    share = "" if own_cluster else " for its own resources, plus its share of the cluster it runs on"
    missing = not_counted(result.unpriced())
    return (f"cost: about {money_range(low, high)} a month{share} ({result.region} list prices of "
            f"{result.price_date}{', cluster at min-max size' if own_cluster else ''}, traffic assumed); "
            f"`odyssey cost {plan.stack}` itemizes it{'; ' + missing if missing else ''}")


@dataclass
class ClusterCost:
    owner: str
    prices: PriceTable
    assumptions: Assumptions
    estimates: dict[str, Estimate]  # the stacks planned here, by name
    charges: list[TenantCharge]
    counterfactuals: dict[str, Counterfactual]  # "cluster" and each planned stack
    notes: list[str] = field(default_factory=list)


def _zones(owner_plan: Plan) -> int:
    albs = [r for r in owner_plan.resources if r["type"] == ALB]
    return len((albs[0].get("inputs") or {}).get("subnets") or ()) if albs else 0


def cluster_cost(view: ClusterView, prices: PriceTable | None = None,
                 assume: Assumptions = Assumptions()) -> ClusterCost | None:
    """The cost of the owner's cluster and each tenant's charge, from a cluster view; None when the owner failed."""
    owner_plan = view.outcomes[0].plan if view.outcomes else None
    if owner_plan is None:
        return None
    prices = prices or prices_for(owner_plan)
    estimates = {o.stack: estimate(o.stack, o.plan.resources, prices, assume) for o in view.outcomes if o.plan}
    outputs = owner_outputs_of(owner_plan)
    allotted = outputs.get("tenancies") or {}
    usages = {u.stack: u for u in view.usages}
    failed = {o.stack for o in view.outcomes if o.plan is None}
    weights, notes = [], []
    for stack in sorted(allotted, key=lambda s: allotted[s].get("slot") or 0):
        tenancy = usages[stack].tenancy if stack in usages and usages[stack].tenancy else \
            tenancy_from_output(stack, allotted[stack])
        rules = {index: used[1] for index, used in usages[stack].load_balancers.items()} if stack in usages else {}
        if stack not in usages:
            why = "did not plan" if stack in failed else "is not planned here"
            notes.append(f"{stack} {why}: it is charged by its quota, and for no ALB rules or own lines")
        weights.append(TenantWeight(stack, tenancy.cpu or 0, tenancy.memory or 0, rules))
    shared_lines = [line for line in estimates[view.owner].lines if line.scope == "cluster"]
    pool = max(len(view.load_balancers), 1)
    own = {stack: result.total("stack") for stack, result in estimates.items()}
    charges = chargeback(shared_lines, weights, pool, own) if weights else []
    missing = not_counted([line for line in shared_lines if line.unpriced])
    if charges and missing:
        notes.append(f"the shares are of the priced shared lines; {missing}")
    alb_cost = sum(line.monthly_min for line in shared_lines if line.key in ALB_LINE_KEYS)
    zones = _zones(owner_plan)
    counterfactuals = {}
    public = {o.stack: sum(1 for r in o.plan.resources if r["type"] == TARGET_GROUP)
              for o in view.outcomes if o.plan}
    counterfactuals["cluster"] = one_alb_per_service(sum(public.values()), zones, prices, assume, alb_cost)
    for charge in charges:
        if charge.stack in public:
            counterfactuals[charge.stack] = one_alb_per_service(public[charge.stack], zones, prices, assume,
                                                                alb_cost * charge.alb_share)
    return ClusterCost(view.owner, prices, assume, estimates, charges, counterfactuals, notes)


def estimate_json(result: Estimate) -> dict[str, Any]:
    low, high = result.total()
    return {
        "stack": result.stack,
        "lines": [line.to_json() for line in result.lines],
        "total": {"min": round(low, 2), "max": round(high, 2)},
        "unpricedTypes": [{"type": t, "count": n, "reason": why} for t, n, why in result.unpriced_types],
    }


def cost_document(stack: str, cost: ClusterCost | None, single: Estimate | None, prices: PriceTable,
                  assume: Assumptions, notes: list[str]) -> dict[str, Any]:
    """``odyssey cost --json``: stable camelCase keys; money in USD a month, rounded to cents."""
    estimates = cost.estimates if cost else {}
    this = estimates.get(stack) or single
    document: dict[str, Any] = {
        "stack": stack,
        "region": prices.region,
        "currency": "USD",
        "priceTable": {"region": prices.region, "date": prices.date, "source": "odyssey/domain/prices.json",
                       "prices": {key: price.to_json() for key, price in sorted(prices.prices.items())},
                       "notFound": dict(prices.not_found)},
        "hoursPerMonth": HOURS_PER_MONTH,
        "estimate": estimate_json(this) if this else None,
        "cluster": None,
        "assumptions": assume.lines(),
        "notEstimated": list(NOT_ESTIMATED),
        "notes": notes + (cost.notes if cost else []),
    }
    if cost is not None:
        document["cluster"] = {
            "owner": cost.owner,
            "stacks": {name: estimate_json(result) for name, result in cost.estimates.items()},
            "chargeback": {"formula": CHARGEBACK_FORMULA, "tenants": [c.to_json() for c in cost.charges]},
            "counterfactual": {name: c.to_json() for name, c in cost.counterfactuals.items()},
        }
    return document
