"""Tenancy through the whole program: each stack keeps to what the owner allotted it, or the plan stops (exit 2)
before anything of the stack registers."""

from __future__ import annotations

import copy
import shutil

import pytest
import yaml
from typer.testing import CliRunner

from odyssey.config.base import ConfigError
from odyssey.ops.cli import EXIT_CONFIG, app
from odyssey.ops.offline.plan import run_plan
from tests.plans import ROOT, STACK_REFERENCE, of_type, plan_config

REGISTRY = "odyssey:cluster.applicationStacks"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
# An owner outside this project: its outputs are prod's, handed to the StackReference without planning it again.
OWNER = "acme/odyssey/prod"


def committed(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


@pytest.fixture(scope="module")
def prod():
    return run_plan(ROOT, "prod")


def plan_stage(prod, change):
    """Plan the committed stage config, changed by ``change``, on prod's cluster as prod exports it."""
    config = copy.deepcopy(committed("stage")) | {"odyssey:clusterStack": OWNER}
    change(config)
    return plan_config(config, stack="stage",
                       references={OWNER: prod.outputs})


def only_problem(plan):
    with pytest.raises(ConfigError) as error:
        plan()
    problems = error.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_prod_exports_every_tenancy_it_allots(prod):
    assert prod.outputs["tenancies"] == {
        "prod": {"slot": 1, "hosts": ["www.example.com"], "targetGroups": 20, "rules": 20, "cpu": 4096,
                 "memory": 8192, "loadBalancer": 1, "namespace": "prod.odyssey.internal"},
        "stage": {"slot": 2, "hosts": ["stage.example.com"], "targetGroups": 10, "rules": 10, "cpu": 2048,
                  "memory": 4096, "loadBalancer": 1, "namespace": "stage.odyssey.internal"},
    }
    assert prod.outputs["minSize"] == 6


def test_committed_stage_keeps_to_its_tenancy(prod):
    plan = plan_stage(prod, lambda config: None)
    assert len(of_type(plan, TARGET_GROUP)) == 2


def _service(name):
    return {"image": "acme/svc:1.0.0", "port": 80, "cpu": 16, "memory": 16, "desiredCount": 1,
            "public": {"paths": [f"/{name}/*"]}}


CASES = [
    ("a host prod owns", lambda c: c["odyssey:services"]["web"]["public"].update(hosts=["www.example.com"]),
     "odyssey:services.web.public.hosts", ["routes www.example.com", "stack prod is allotted it"],
     'odyssey:services.web.public.hosts: ["stage.example.com"]'),
    # stage's budget is 10 target groups and rules; web and api are public already.
    ("over budget", lambda c: c["odyssey:services"].update({f"svc-{i}": _service(f"svc-{i}") for i in range(9)}),
     "odyssey:services", ["11 public services", "10 target groups and 10 rules"],
     f'{REGISTRY}.stage: {{"slot": 2, "targetGroups": 11, "rules": 11}}'),
    # stage's quota is 2,048 CPU units: api at 3 tasks reserves 256 + 1,536 + 256 + 256 = 2,304.
    ("over quota at desired counts", lambda c: c["odyssey:services"]["api"].update(desiredCount=3),
     "odyssey:services", ["reserve 2,304 CPU units and 4,864 MiB at desired counts", "quota of 2,048 CPU units and "
                          "4,096 MiB already at desired counts"], f"{REGISTRY}.stage.cpu: 3840"),
    # api at 2 tasks: 1,792 CPU units at desired counts, 2,816 while api deploys (2 more tasks).
    ("over quota during a deploy", lambda c: c["odyssey:services"]["api"].update(desiredCount=2),
     "odyssey:services", ["reserve 1,792 CPU units and 3,840 MiB at desired counts and 2,816 CPU units and "
                          "5,888 MiB while api deploys", "during the deploy"],
     f"{REGISTRY}.stage.cpu: 2816, {REGISTRY}.stage.memory: 5888"),
    ("prod's namespace", lambda c: c["odyssey:app"].update(namespace="prod.odyssey.internal"),
     "odyssey:app.namespace", ["the Cloud Map namespace of stack prod"], 'odyssey:app.namespace: "stage.odyssey.internal"'),
]


@pytest.mark.parametrize("label, change, key, fragments, example", CASES, ids=[c[0] for c in CASES])
def test_stage_outside_its_tenancy_is_one_problem(prod, label, change, key, fragments, example):
    problem = only_problem(lambda: plan_stage(prod, change))
    assert problem.key == key, str(problem)
    for fragment in fragments:
        assert fragment in problem.message, str(problem)
    assert example in problem.example, str(problem)


def test_a_stack_the_owner_never_registered_is_refused(prod):
    config = copy.deepcopy(committed("stage")) | {"odyssey:clusterStack": OWNER}
    recorded = []
    with pytest.raises(ConfigError) as error:
        plan_config(config, stack="qa", references={OWNER: prod.outputs}, on_monitor=recorded.append)
    (problem,) = error.value.problems
    assert problem.key == "odyssey:clusterStack" and "this stack (qa) is not registered" in problem.message
    # Only the reference to the owner (and the provider) registered: nothing of the stack's own.
    assert {r["type"] for r in recorded[0].records} <= {STACK_REFERENCE, "pulumi:providers:aws"}


def test_prod_below_the_size_its_quotas_need_is_refused():
    config = copy.deepcopy(committed("prod"))
    config["odyssey:cluster"]["minSize"] = 4
    problem = only_problem(lambda: plan_config(config, stack="prod"))
    assert problem.key == REGISTRY
    assert f"{REGISTRY}.prod.cpu 4,096 + {REGISTRY}.stage.cpu 2,048 = 6,144 CPU units" in problem.message
    assert "above the 4,096 the cluster guarantees with minSize 4 over 3 zones" in problem.message
    assert problem.example == "odyssey:cluster.minSize: 5"


def _project(tmp_path, stacks: dict[str, dict]):
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    for stack, config in stacks.items():
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def test_make_plan_refuses_stage_routing_a_host_prod_owns(tmp_path):
    stage = copy.deepcopy(committed("stage"))
    stage["odyssey:services"]["web"]["public"]["hosts"] = ["www.example.com"]
    project = _project(tmp_path, {"prod": committed("prod"), "stage": stage})
    result = CliRunner().invoke(app, ["plan", "stage", "--project-dir", str(project), "--skip-policies"])
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "odyssey:services.web.public.hosts: routes www.example.com" in result.output
    assert "Traceback" not in result.output


def many_services(public: int, internal: int = 0) -> dict:
    services = {f"svc-{i}": _service(f"svc-{i}") for i in range(public)}
    services.update({f"int-{i}": {**_service(f"int-{i}"), "public": None} for i in range(internal)})
    return services


def owner_with(services: dict, budget: int) -> dict:
    return {"odyssey:cluster": {"applicationStacks": {"big": {"slot": 1, "targetGroups": budget, "rules": budget}}},
            "odyssey:app": {"defaultHosts": ["www.example.com"]},
            "odyssey:services": services}


def test_120_public_services_on_a_budget_of_100_are_refused_with_exit_2(tmp_path):
    project = _project(tmp_path, {"big": {"aws:region": "us-east-1",
                                          "odyssey:tags": {"department": "platform", "contact": "ops@example.com"},
                                          **owner_with(many_services(120), 100)}})
    result = CliRunner().invoke(app, ["plan", "big", "--project-dir", str(project), "--skip-policies"])
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "odyssey:services: has 120 public services" in result.output
    assert "this stack's routing budget is 100 target groups and 100 rules" in result.output
    assert "make 20 of the services internal" in result.output


def test_120_services_plan_when_the_budget_holds_the_public_ones():
    plan = plan_config(owner_with(many_services(100, internal=20), 100), stack="big")
    assert len(of_type(plan, TARGET_GROUP)) == 100
    priorities = [r["inputs"]["priority"] for r in of_type(plan, LISTENER_RULE)]
    assert len(priorities) == len(set(priorities)) == 100
