"""The security policies (issue 10) on the committed stacks' real plans, through the offline gate and each stack's
policy config: both pass with no mandatory violation, and taking a control out of prod fails the gate."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from odyssey.ops.offline.gate import run_gate
from odyssey.ops.offline.plan import Plan, read_stack_files, run_plan
from policies.rules.catalog import SECURITY_NAMES
from tests.plans import ROOT

PACK = ROOT / "policies"


def gate(plan: Plan, policy_config: str | None = None):
    return run_gate(plan.resources, [(PACK, PACK / f"{policy_config or plan.stack}.json")], plan.project,
                    plan.stack, plan.organization, plan.config, plan.secret_keys)


def mine(result, level: str) -> list[tuple[str, str]]:
    # The gate's message is the policy's description, a newline, then the violation.
    return [(v.policy, v.message.split("\n", 1)[1]) for v in result.violations
            if v.policy in SECURITY_NAMES and v.enforcementLevel == level]


def prod_with(change) -> Plan:
    files = read_stack_files(ROOT, "prod")
    config = dict(files.config)
    change(config)
    return run_plan(ROOT, "prod", files=replace(files, config=config))


def load_balancer(**settings):
    def change(config):
        value = {**json.loads(config["odyssey:loadBalancer"]), **settings}
        config["odyssey:loadBalancer"] = json.dumps({k: v for k, v in value.items() if v is not None})
    return change


@pytest.fixture(scope="module")
def prod():
    return run_plan(ROOT, "prod")


def test_prod_makes_every_security_policy_mandatory_but_the_exec_report(prod):
    levels = gate(prod).packs[0]["enforcementLevels"]
    assert {name: levels[name] for name in SECURITY_NAMES} == {
        name: "advisory" if name == "ecs-exec-writable-root" else "mandatory" for name in SECURITY_NAMES}


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_the_committed_stacks_pass_and_report_only_the_exec_service_as_writable(stack, prod):
    plan = prod if stack == "prod" else run_plan(ROOT, "stage")
    result = gate(plan)
    assert result.mandatory == []
    assert mine(result, "advisory") == [("ecs-exec-writable-root", (
        "Container 'api' of task definition 'app-api-task' runs with a writable root filesystem because service "
        "'app-api-service' enables ECS Exec; turn Exec off when nobody needs a shell there."))]


def test_prod_without_a_certificate_fails_the_gate():
    found = mine(gate(prod_with(load_balancer(certificateArn=None))), "mandatory")
    assert found == [("load-balancers-serve-https", (
        "Load balancer 'ingress-alb' serves plain HTTP only: give it an HTTPS listener "
        "(odyssey:loadBalancer.certificateArn), whose HTTP listener then redirects."))]


def test_a_stage_of_its_own_without_a_certificate_only_hears_about_it():
    plan = prod_with(load_balancer(certificateArn=None))
    found = gate(plan, policy_config="stage")
    assert mine(found, "mandatory") == []
    assert [p for p, _ in mine(found, "advisory")] == ["ecs-exec-writable-root", "load-balancers-serve-https"]


def test_prod_without_waf_fails_the_gate():
    found = mine(gate(prod_with(load_balancer(waf={"enabled": False}))), "mandatory")
    assert found == [("waf-on-load-balancers", "Internet-facing load balancer 'ingress-alb' has no WAF web ACL "
                                                "associated (odyssey:loadBalancer.waf.enabled).")]


def test_prod_with_90_day_security_logs_fails_the_gate():
    plan = prod_with(lambda config: config.update({"odyssey:securityLogRetentionDays": "90"}))
    found = mine(gate(plan), "mandatory")
    assert {policy for policy, _ in found} == {"security-logs-kept-a-year"}
    assert sorted(m.split("'")[1] for _, m in found) == [
        "app-event-stream-audit", "cluster-exec", "ingress-waf-logs", "network-flow-logs"]


def test_prod_with_a_writable_web_container_fails_the_gate():
    def writable_web(config):
        services = json.loads(config["odyssey:services"])
        services["web"]["readonlyRootFilesystem"] = False
        config["odyssey:services"] = json.dumps(services)
    found = mine(gate(prod_with(writable_web)), "mandatory")
    assert [p for p, _ in found] == ["containers-read-only-root"] and "'web'" in found[0][1]
