"""The cluster view: the owner and its tenants planned together, and what only the pair of them can get wrong."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from odyssey.domain.tenancy import Reservation, Tenancy
from odyssey.ops.cli import EXIT_CONFIG, app
from odyssey.ops.offline.cluster import (
    Rule,
    Usage,
    _globs_meet,
    budget_problems,
    capacity_problems,
    namespace_problems,
    priority_problems,
    rules_meet,
)
from tests.bench import benchmark
from tests.plans import ROOT

runner = CliRunner()
PROGRAM = ("Pulumi.yaml", "__main__.py", "components", "odyssey", "policies")


def project(into: Path, prod=None, stage=None) -> Path:
    """A copy of the project whose stack files are the committed ones changed by ``prod`` and ``stage``."""
    for name in PROGRAM:
        (into / name).symlink_to(ROOT / name)
    for stack, change in (("prod", prod), ("stage", stage)):
        document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        if change:
            change(document["config"])
        (into / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
    return into


def roomy(config: dict, **extra_tenants) -> None:
    """prod's cluster big enough for both stacks with a deploy under way after losing a zone, with quotas to match."""
    config["odyssey:cluster"]["minSize"] = 6
    config["odyssey:cluster"]["applicationStacks"] = {
        "prod": {"slot": 1, "cpu": 4096, "memory": 8192}, "stage": {"slot": 2, "cpu": 2048, "memory": 4096},
        **extra_tenants}


def cluster(project_dir: Path, owner: str = "prod") -> tuple[int, dict, str]:
    result = runner.invoke(app, ["plan", owner, "--cluster", "--json", "-", "--project-dir", str(project_dir)])
    document = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, document, result.output


@pytest.fixture(scope="module")
def committed():
    return cluster(ROOT)


def test_committed_cluster_has_one_row_per_tenant_on_one_alb(committed):
    code, document, _ = committed
    assert code == 0 and document["problems"] == []
    assert [s["stack"] for s in document["stacks"]] == ["prod", "stage"]
    assert [t["stack"] for t in document["tenants"]] == ["prod", "stage"]
    assert document["notPlanned"] == []
    assert len(document["loadBalancers"]) == 1
    prod, stage = document["tenants"]
    assert prod["hosts"] == ["www.example.com"] and stage["hosts"] == ["stage.example.com"]
    assert (prod["targetGroups"], prod["rules"]) == ({"used": 2, "budget": 20}, {"used": 2, "budget": 20})
    # web 2x256 + api 2x512 + catalog 2x256 + worker 2x256; stage runs one of each.
    assert (prod["cpu"]["reserved"], stage["cpu"]["reserved"]) == (2560, 1280)
    assert (prod["memory"]["reserved"], stage["memory"]["reserved"]) == (2 * (512 + 1024 + 768 + 512), 2816)
    assert [line["scenario"] for line in document["headroom"]] == [
        "normal", "one zone lost", "one zone lost, during the largest deploy"]


def test_a_cluster_with_room_plans_clean_and_lists_tenants_without_a_stack_file(tmp_path):
    code, document, _ = cluster(project(tmp_path, prod=lambda c: roomy(c, qa={"slot": 3, "cpu": 512, "memory": 1024})))
    assert code == 0, document["problems"]
    assert document["problems"] == [] and document["exitCode"] == 0
    assert document["notPlanned"] == ["qa"]
    assert [t["stack"] for t in document["tenants"]] == ["prod", "stage"]
    assert document["tenants"][0]["cpu"]["quota"] == 4096
    normal, zone_lost, deploy = document["headroom"]
    # m7i.large offers 2048 CPU units; six nodes over three zones lose two with a zone.
    assert (normal["capacity"]["cpu"], zone_lost["capacity"]["cpu"]) == (6 * 2048, 4 * 2048)
    assert deploy["reserved"]["cpu"] == 2560 + 1280 + 2 * 512  # api's two tasks doubled while it deploys


def test_the_table_shows_each_tenant_and_the_not_planned_one(tmp_path):
    result = runner.invoke(app, ["plan", "prod", "--cluster", "--project-dir", str(
        project(tmp_path, prod=lambda c: roomy(c, qa=3)))])
    assert result.exit_code == 0, result.output
    tenancy = result.output.split("Chargeback of")[0]  # the chargeback table follows, one row per tenant too
    lines = [line for line in tenancy.splitlines() if line.startswith("│")]
    rows = {line.split("│")[1].strip(): line for line in lines if line.split("│")[1].strip()}  # a row's first line
    assert set(rows) == {"prod", "stage", "qa"}
    assert "2/20" in rows["stage"] and "1280/2048" in rows["stage"]
    assert "not planned" in rows["qa"]
    assert "headroom, one zone lost, during the largest deploy: CPU" in result.output


def test_two_short_form_tenants_routing_the_same_host_are_refused_naming_both(tmp_path):
    def same_host(config):
        config["odyssey:services"]["web"]["public"]["hosts"] = ["www.example.com"]

    code, document, _ = cluster(project(tmp_path, prod=roomy, stage=same_host))
    assert code == EXIT_CONFIG
    hosts = [p for p in document["problems"] if p["key"] == "odyssey:services.web.public.hosts"]
    # stage's web (any path) meets both prod's web (any path) and prod's api (/api/*).
    assert [p["stacks"] for p in hosts] == [["prod", "stage"]] * 2
    assert any("prod's service web and stage's service web" in p["message"] for p in hosts)
    assert any("prod's service api and stage's service web" in p["message"] for p in hosts)


def test_a_namespace_taken_by_another_tenant_is_refused_naming_both(tmp_path):
    def prods_namespace(config):
        config["odyssey:app"]["namespace"] = "prod.odyssey.internal"

    result = runner.invoke(app, ["plan", "prod", "--cluster", "--project-dir", str(
        project(tmp_path, prod=roomy, stage=prods_namespace))])
    assert result.exit_code == EXIT_CONFIG
    # Refused across the stacks here, or by stage's own plan once it checks its tenancy: both name both stacks.
    assert "prod.odyssey.internal" in result.output
    assert "stage" in result.output and "prod" in result.output


def test_a_tenant_stack_is_not_a_cluster_to_plan():
    result = runner.invoke(app, ["plan", "stage", "--cluster", "--project-dir", str(ROOT)])
    assert result.exit_code == EXIT_CONFIG
    assert "odyssey plan --cluster <owner>" in result.output


def test_single_stack_plan_prints_its_tenancy_line():
    result = runner.invoke(app, ["plan", "stage", "-q", "--skip-policies", "--project-dir", str(ROOT)])
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("tenancy:")]
    assert line.startswith("tenancy: stage on ALB 1 (odyssey-prod-")
    assert "target groups 2/10, rules 2/10, CPU 1280/" in line


# ---------------------------------------------------------------- the checks on their own


@pytest.mark.parametrize("a, b, meet", [
    ("/api/*", "/api/*", True),
    ("/api/*", "/api/v1", True),
    ("/api/*", "/web/*", False),
    ("*", "/anything", True),
    ("/a?c", "/abc", True),
    ("/a?c", "/abd", False),
    ("*.js", "/static/*", True),
    ("/x*y", "/x*z", False),
    ("/API/*", "/api/*", False),  # ALB paths are case-sensitive
])
def test_path_patterns_meet(a, b, meet):
    assert _globs_meet(a, b) is meet
    assert _globs_meet(b, a) is meet


@given(st.text("ab*?", max_size=6), st.text("ab*?", max_size=6), st.text("ab", max_size=6))
def test_patterns_matching_a_common_path_meet(a, b, path):
    if fnmatch.fnmatchcase(path, a) and fnmatch.fnmatchcase(path, b):
        assert _globs_meet(a, b)


def rule(stack, service, hosts=("www.example.com",), paths=(), priority=10, listener="https", lb=1):
    return Rule(stack, service, listener, priority, tuple(hosts), tuple(paths), lb)


@pytest.mark.parametrize("first, second, meet", [
    (rule("a", "web"), rule("b", "web"), True),
    (rule("a", "web", paths=["/a/*"]), rule("b", "web", paths=["/b/*"]), False),
    (rule("a", "web", hosts=["*.example.com"]), rule("b", "api", hosts=["api.example.com"]), True),
    (rule("a", "web", hosts=["www.example.com"]), rule("b", "web", hosts=["stage.example.com"]), False),
    (rule("a", "web", hosts=["WWW.example.com"]), rule("b", "web", paths=["/x"]), True),  # hosts ignore case
])
def test_rules_meet(first, second, meet):
    assert rules_meet(first, second) is meet


def test_a_priority_twice_on_one_listener_names_both_stacks():
    (problem,) = priority_problems([rule("prod", "web"), rule("stage", "api"), rule("stage", "web", listener="http")])
    assert problem.stacks == ("prod", "stage") and "priority 10" in problem.message


def test_namespaces_compare_without_case():
    (problem,) = namespace_problems({"prod": "prod.odyssey.internal", "stage": "PROD.odyssey.internal", "qa": "q"})
    assert problem.stacks == ("prod", "stage") and problem.key == "odyssey:app.namespace"


def usage(stack, groups=0, rules=0, cpu=0, memory=0, surge=(0, 0), lb=1, tenancy=None):
    return Usage(stack, {lb: (groups, rules)}, (), groups, rules, Reservation(cpu, memory), Reservation(*surge),
                 tenancy)


def test_budgets_per_tenant_and_per_alb():
    tenant = Tenancy("stage", 2, target_groups=10, rules=60)
    problems = budget_problems([usage("prod", 95, 40, tenancy=Tenancy("prod", 1, target_groups=100, rules=100)),
                                usage("stage", 11, 60, tenancy=tenant)], "prod", rules_quota=100)
    assert [(p.key, p.stacks) for p in problems] == [
        ("odyssey:cluster.applicationStacks.stage.targetGroups", ("stage", "prod")),
        ("odyssey:cluster.applicationStacks", ("prod", "stage")),  # 106 target groups on ALB 1
    ]
    assert "106 target groups" in problems[1].message and "100 per ALB" in problems[1].message


def test_rules_on_another_alb_than_allotted():
    (problem,) = budget_problems([usage("shop", 5, 5, lb=1, tenancy=Tenancy("shop", 2, target_groups=5, rules=5,
                                                                            load_balancer=2))], "core", 100)
    assert problem.key == "odyssey:cluster.applicationStacks.shop.loadBalancer"
    assert "rules are on ALB 1, but core allotted it ALB 2" in problem.message


def test_capacity_at_desired_counts_and_during_a_deploy():
    quota = Tenancy("stage", 2, cpu=1024, memory=2048)
    fits = usage("stage", cpu=512, memory=1024, surge=(512, 1024), tenancy=quota)
    over_in_deploy = usage("stage", cpu=768, memory=1024, surge=(512, 512), tenancy=quota)
    assert capacity_problems([fits], "prod") == []
    (problem,) = capacity_problems([over_in_deploy], "prod")
    assert "during its largest deploy" in problem.message and "1280 CPU units" in problem.message


def test_a_tenant_whose_config_is_refused_fails_the_cluster_with_its_name(tmp_path):
    def bad_cpu(config):
        config["odyssey:services"]["web"]["cpu"] = "lots"

    code, document, _ = cluster(project(tmp_path, prod=roomy, stage=bad_cpu))
    assert code == EXIT_CONFIG
    prod, stage = document["stacks"]
    assert (prod["exitCode"], stage["exitCode"]) == (0, EXIT_CONFIG)
    assert "odyssey:services.web.cpu" in stage["error"]
    assert [t["stack"] for t in document["tenants"]] == ["prod"]  # checked without the stack that did not plan


def test_the_benchmark_generates_a_500_service_cluster_that_fits_by_design(tmp_path):
    from odyssey.domain.capacity import task_capacity
    from odyssey.domain.tenancy import AlbQuotas, Headroom, assign_load_balancers, tenancy_from_output

    benchmark().cluster_project(500, tmp_path)
    files = {p.name: yaml.safe_load(p.read_text())["config"] for p in tmp_path.glob("Pulumi.*.yaml")
             if p.name != "Pulumi.yaml"}
    assert sorted(files) == ["Pulumi.blog.yaml", "Pulumi.core.yaml", "Pulumi.shop.yaml"]
    services = [s for config in files.values() for s in config["odyssey:services"].values()]
    assert len(services) == 500 and sum(1 for s in services if "public" in s) == 300
    assert all(config.get("odyssey:schedules") for config in files.values())
    cluster = files["Pulumi.core.yaml"]["odyssey:cluster"]
    registry = cluster["applicationStacks"]
    assert {stack: t["targetGroups"] for stack, t in registry.items()} == {"core": 100, "shop": 100, "blog": 100}
    assert sorted(assign_load_balancers([tenancy_from_output(s, t) for s, t in registry.items()],
                                        AlbQuotas()).values()) == [1, 2, 3]
    zone_lost = Headroom.of(Reservation(*task_capacity(cluster["instanceType"])), cluster["minSize"], 3).zone_lost
    assert sum(t["cpu"] for t in registry.values()) <= zone_lost.cpu
    assert sum(t["memory"] for t in registry.values()) <= zone_lost.memory
