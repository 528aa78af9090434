"""The operator tables at 80 columns, through typer's runner: ids, ARNs and states whole; flags coloured.

The cluster is moto (tests/ops/aws_fixtures.py) with the facts an operator
must see: instances past the lifetime, a disconnected agent, one in Standby,
two tenants' services with long names and a failed rollout.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ecs.models import ecs_backends
from rich.console import Console
from rich.progress import Progress, TextColumn
from typer.testing import CliRunner

import odyssey.ops.cli
from odyssey.ops.cli import app
from tests.bench import benchmark
from tests.ops.aws_fixtures import CLUSTER, GROUP, REGION, add_service, build_cluster, set_rollout

WIDTH = 80
runner = CliRunner()
LONG = "stage-customer-notifications-worker"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def outputs(tmp_path):
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({
        "region": REGION, "clusterName": CLUSTER, "autoScalingGroupName": GROUP, "minSize": 4,
        "maxInstanceLifetimeSeconds": 86_400, "availabilityZones": [f"{REGION}{z}" for z in "abc"],
        "tenancies": {"prod": {"slot": 1}, "stage": {"slot": 2}}}))
    return str(path)


def troubled_cluster(monkeypatch) -> dict[str, str]:
    placed = build_cluster(nodes=6, old=2)
    ids = sorted(placed)
    boto3.client("autoscaling", region_name=REGION).enter_standby(
        AutoScalingGroupName=GROUP, InstanceIds=[ids[5]], ShouldDecrementDesiredCapacity=True)
    for instance in ecs_backends[DEFAULT_ACCOUNT_ID][REGION].container_instances[CLUSTER].values():
        if instance.ec2_instance_id == ids[3]:
            instance.agent_connected = False
    add_service("prod-api", desired=2, running=2, monkeypatch=monkeypatch)
    add_service(LONG, desired=3, running=1, monkeypatch=monkeypatch)
    set_rollout(LONG, "FAILED", "ECS deployment circuit breaker: tasks failed to start.",
                events=[f"(service {LONG}) deployment failed: tasks failed to start."])
    return placed


def run(monkeypatch, *args: str, colour: bool = False):
    console = Console(width=WIDTH, force_terminal=colour, color_system="standard" if colour else None)
    monkeypatch.setattr(odyssey.ops.cli, "console", console)
    return runner.invoke(app, list(args), env={"COLUMNS": str(WIDTH)}, color=colour)


def test_status_fits_80_columns_and_never_cuts_an_id_or_a_state(monkeypatch, outputs):
    with mock_aws():
        placed = troubled_cluster(monkeypatch)
        result = run(monkeypatch, "status", "prod", "--outputs", outputs)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= WIDTH, "\n".join(line for line in lines if len(line) > WIDTH)
    for instance in placed:
        rows = [line for line in lines if instance in line]  # whole, on one line: its row, warnings naming it
        assert rows and all(len(row) <= WIDTH for row in rows)
    for state in ("InService", "Standby", "overdue", "agent disconnected", "FAILED", "COMPLETED"):
        assert re.search(rf"(^|\s){state}(\s|$)", result.output, re.M), state
    assert LONG.replace("-", "") in "".join(result.output.split()).replace("-", "")  # folded, not cut
    assert "…" not in result.output
    # Each service's tenant; a failed rollout's events; warnings as sentences.
    assert re.search(r"prod-api\s+prod\s", result.output)
    assert f"{LONG}: (service {LONG}) deployment failed" in " ".join(result.output.split())
    assert "{" not in result.output and "'" not in result.output.replace("'s ", "")


def test_status_colours_what_is_broken(monkeypatch, outputs):
    with mock_aws():
        troubled_cluster(monkeypatch)
        result = run(monkeypatch, "status", "prod", "--outputs", outputs, colour=True)
    red = "\x1b[31m"
    for word in ("overdue", "agent disconnected", "FAILED"):
        assert f"{red}{word}" in result.output, word
    assert max(len(ANSI.sub("", line)) for line in result.output.splitlines()[:20]) <= WIDTH


def test_status_filters_to_one_stack(monkeypatch, outputs):
    with mock_aws():
        troubled_cluster(monkeypatch)
        result = run(monkeypatch, "status", "prod", "--outputs", outputs, "--stack", "stage")
        document = json.loads(run(monkeypatch, "status", "prod", "--outputs", outputs, "--stack", "stage",
                                  "--json").output)
    assert LONG[:20] in result.output and "prod-api" not in result.output
    assert [s["name"] for s in document["services"]] == [LONG] and document["tenant"] == "stage"


def test_cycle_audit_json_names_instances_and_zones(monkeypatch, outputs):
    with mock_aws():
        placed = troubled_cluster(monkeypatch)
        result = run(monkeypatch, "cycle-audit", "prod", "--outputs", outputs, "--json")
    document = json.loads(result.output)
    assert document["stack"] == "prod" and document["broken"] is True and "generatedAt" in document
    overdue = [f for f in document["findings"] if f["kind"] == "overdue"]
    assert len(overdue) == 2
    assert all(placed[f["instanceId"]] == f["zone"] for f in overdue)


def test_the_benchmark_tables_fit_80_columns_with_every_figure_whole(monkeypatch):
    """Rendered with figures as wide as a slow machine gives, without running the benchmark."""
    bench = benchmark()
    monkeypatch.setattr(bench, "console", Console(width=WIDTH, record=True, file=io.StringIO()))
    sizes = [bench.Row(500, 12345, 123.45, 1234.56, 98.76, 1234.0, 321.0, 0, 9.0, 123.45, 10.0, 12345),
             bench.Row(1, 74, 1.23, 1.5, 0.98, 150.0, 64.0, 2, 0.22)]
    clusters = [bench.ClusterRow(500, 12345, 3, 0, 1234.5, 12345.0, 123.4)]
    bench.print_sizes(sizes)
    bench.print_clusters(clusters)
    bench.print_committed(bench.Committed("prod", 146, 3.51, 4.52, 3.12, ["pulumi_aws.ecs", "pulumi_aws.wafv2"]))
    text = bench.console.export_text()
    assert max(len(line) for line in text.splitlines()) <= WIDTH, text
    figures = ["12,345", "123.45", "1234.56", "+900%", "10.00x", "1234", "321", "1.23", "1.50", "+22%", "skipped",
               "1234.5", "12345", "10.0x", "100.0"]
    for figure in figures:
        assert re.search(rf"(^|\s){re.escape(figure)}(\s|$)", text, re.M), figure
    assert "note: 1 services: 2 mandatory violations" in text
    assert "plan+gate 4.52 s (over 3 s); its floor 3.12 s" in " ".join(text.split())
    assert "2 pulumi_aws packages the program uses (ecs, wafv2)" in " ".join(text.split())


def test_the_benchmark_shows_its_progress():
    bench = benchmark()
    console = Console(width=WIDTH, force_terminal=True, record=True, file=io.StringIO())
    with Progress(TextColumn("{task.description}"), console=console) as progress:
        seen = []
        progress.add_task = lambda description, **kw: seen.append(description) or Progress.add_task(
            progress, description, **kw)
        wall, figures = bench.Runner(1, progress).child("1 service: bare registrations", "bare", "1")
        progress.refresh()
    assert seen == ["1 service: bare registrations"] and wall > 0 and figures["peak_mib"] > 0


def test_the_benchmark_runs_its_jobs_in_turn_and_pairs_ratios_by_round():
    bench = benchmark()
    order = []

    def job(name, wall):
        return lambda: order.append(name) or (wall, {"n": len(order)})

    with Progress(console=Console(file=io.StringIO())) as progress:
        runs = bench.Runner(3, progress).rounds("pair", {"a": job("a", 2.0), "b": job("b", 1.0)})
    assert order == ["a", "b"] * 3
    assert runs["a"] == ([2.0] * 3, [{"n": 1}, {"n": 3}, {"n": 5}])
    # Taken round by round: for the second pair the ratio of the medians would be 2.0.
    assert bench.paired([2.0, 4.0, 8.0], [1.0, 4.0, 4.0]) == 2.0
    assert bench.paired([1.0, 10.0, 10.0], [1.0, 5.0, 20.0]) == 1.0


def test_the_benchmark_compiles_the_project_first_whatever_the_environment_says(monkeypatch):
    """The build machine sets PYTHONDONTWRITEBYTECODE; the benchmark times runs as they are from the second on."""
    bench = benchmark()
    module = bench.ROOT / "policies" / "conversions.py"
    compiled = Path(importlib.util.cache_from_source(str(module)))
    compiled.unlink(missing_ok=True)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert bench.compile_sources() is True
    assert compiled.exists() and os.path.getsize(compiled) > 0


def test_the_benchmark_floor_loads_the_provider_packages_it_is_given():
    """pulumi_aws packages are lazy modules: the floor must really run them, or it measures nothing."""
    bench = benchmark()
    with Progress(console=Console(file=io.StringIO())) as progress:
        wall, figures = bench.Runner(1, progress).child("floor", "floor", "pulumi_aws.sqs", "pulumi_aws.kms")
    assert figures["provider_packages"] == ["pulumi_aws.kms", "pulumi_aws.sqs"] and wall > 0
