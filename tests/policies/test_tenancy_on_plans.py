"""The tenancy policies on the committed stacks' real plans, through the offline gate and the stack's policy config.

The program's resources (parents, property dependencies, engine URNs) are the
real ones; the tenancy conventions (the ``OdysseyLoadBalancer`` tag, the
AppStack's ``tenancy`` and each Service's ``reservation`` props) are written
onto the records here, as the program declares them, so these tests hold
whether or not the plan carries them already.
"""

from __future__ import annotations

import copy

import pytest

from odyssey.ops.offline.gate import run_gate
from odyssey.ops.offline.plan import Plan, run_plan
from tests.plans import ROOT

PACK = ROOT / "policies"
POLICIES = ("load-balancer-within-quotas", "tenant-reservations-within-quota")
APP, SERVICE, ECS_SERVICE = "odyssey:app:AppStack", "odyssey:service:Service", "aws:ecs/service:Service"
ROUTING = ("aws:lb/targetGroup:TargetGroup", "aws:lb/listenerRule:ListenerRule")
TAG = "OdysseyLoadBalancer"
TASK = {"cpu": 256.0, "memory": 512.0}


@pytest.fixture(scope="module", params=["prod", "stage"])
def plan(request) -> Plan:
    return run_plan(ROOT, request.param)


def _children(plan: Plan, parent: dict, typ: str) -> list[dict]:
    return [r for r in plan.resources if r["parent"] == parent["urn"] and r["type"] == typ]


def declared(plan: Plan, tenancy: dict | None = None, task: dict | None = None, count_offset: int = 0,
             tag: str | None = "1") -> Plan:
    """The plan with the conventions as the program declares them (``None``: that convention absent)."""
    mutated = copy.deepcopy(plan)
    for record in mutated.resources:
        inputs = record["inputs"]
        if record["type"] in ROUTING:
            tags = {k: v for k, v in (inputs.get("tags") or {}).items() if k != TAG}
            inputs["tags"] = tags | ({TAG: tag} if tag is not None else {})
        elif record["type"] == APP:
            inputs.pop("tenancy", None)
            if tenancy is not None:
                inputs["tenancy"] = {"stack": mutated.stack, **tenancy}
        elif record["type"] == SERVICE:
            inputs.pop("reservation", None)
            if task is not None:
                (ecs,) = _children(mutated, record, ECS_SERVICE)
                public = any(_children(mutated, record, kind) for kind in ROUTING)
                inputs["reservation"] = {**task, "count": ecs["inputs"]["desiredCount"] + count_offset,
                                         "public": public}
    return mutated


GENEROUS = {"targetGroups": 20.0, "rules": 20.0, "cpu": 4096.0, "memory": 8192.0, "loadBalancer": 1.0}


def findings(plan: Plan) -> dict[str, list[tuple[str, str]]]:
    result = run_gate(plan.resources, [(PACK, PACK / f"{plan.stack}.json")], plan.project, plan.stack,
                      plan.organization, plan.config, plan.secret_keys)
    return {p: [(v.enforcementLevel, v.message) for v in result.violations if v.policy == p] for p in POLICIES}


def test_the_policies_are_mandatory_for_the_committed_stacks(plan):
    result = run_gate(plan.resources, [(PACK, PACK / f"{plan.stack}.json")], plan.project, plan.stack,
                      plan.organization, plan.config, plan.secret_keys)
    levels = result.packs[0]["enforcementLevels"]
    assert [levels[p] for p in POLICIES] == ["mandatory", "mandatory"]


def test_a_stack_within_its_tenancy_passes_both(plan):
    assert findings(declared(plan, GENEROUS, TASK)) == {p: [] for p in POLICIES}


def test_without_the_conventions_nothing_fails_and_the_reservations_policy_says_why(plan):
    found = findings(declared(plan, tenancy=None, task=None, tag=None))
    assert found["load-balancer-within-quotas"] == []
    ((level, message),) = found["tenant-reservations-within-quota"]
    assert level == "advisory"
    assert "can't run policy" in message and "registers no tenancy props" in message


def test_a_routing_budget_below_the_stack_routes_fails(plan):
    found = findings(declared(plan, {**GENEROUS, "targetGroups": 1.0, "rules": 1.0}, TASK))
    messages = [m for level, m in found["load-balancer-within-quotas"] if level == "mandatory"]
    assert any(f"Stack {plan.stack} has 2 target groups" in m for m in messages), messages
    assert any(f"Stack {plan.stack} has 2 listener rules" in m for m in messages), messages


def test_reservations_over_the_quota_only_while_deploying_fail(plan):
    counts = [int(r["inputs"]["desiredCount"]) for r in plan.resources if r["type"] == ECS_SERVICE]
    steady, surge = sum(counts) * TASK["cpu"], max(counts) * TASK["cpu"]  # the largest deploy: a copy of its tasks
    found = findings(declared(plan, {**GENEROUS, "cpu": steady + surge - 1}, TASK))
    ((level, message),) = found["tenant-reservations-within-quota"]
    assert level == "mandatory"
    assert f"reserve {steady:.0f} CPU units at their desired counts and {steady + surge:.0f} while" in message
    assert findings(declared(plan, {**GENEROUS, "cpu": steady + surge}, TASK))["tenant-reservations-within-quota"] == []


def test_a_declared_count_that_is_not_the_ecs_services_fails(plan):
    found = findings(declared(plan, GENEROUS, TASK, count_offset=1))
    messages = [m for level, m in found["tenant-reservations-within-quota"] if level == "mandatory"]
    services = [r for r in plan.resources if r["type"] == SERVICE]
    assert len(messages) == len(services) == 4
    assert all("task(s) in its reservation, but its ECS service" in m for m in messages), messages
