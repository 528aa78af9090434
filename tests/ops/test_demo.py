"""`make demo`: moto's server, a cluster named as the offline plan names it, and the operator commands against it."""

from __future__ import annotations

import json
import re

import boto3
import pytest

from odyssey.ops.demo import DemoPlan, DemoService, build_cluster, main, moto_server, run_command
from tests.plans import ROOT

ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_make_demo_runs_the_module_on_the_stack():
    recipe = re.search(r"^demo: \$\(STAMP\)\n\t(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1)
    assert recipe == "$(PY) -m odyssey.ops.demo $(STACK)"


def test_the_demo_end_to_end(capfd, tmp_path):
    outputs = tmp_path / "outputs.json"
    assert main(["prod", "--project-dir", str(ROOT), "--keep-outputs", str(outputs)]) == 0
    printed = capfd.readouterr().out
    assert "with 6 instances in us-east-1a, us-east-1b, us-east-1c" in printed
    assert "$ odyssey status prod --outputs" in printed
    assert "per AZ: us-east-1a 2, us-east-1b 2, us-east-1c 2" in printed
    for service in ("prod-api", "prod-catalog", "prod-web", "prod-worker"):
        assert service in printed
    assert "cycle audit passed" in printed
    assert "moto's server stopped" in printed
    assert json.loads(outputs.read_text())["clusterName"] == "odyssey-prod"


def _plan(min_size: int = 4) -> DemoPlan:
    outputs = {"region": "us-east-1", "clusterName": "odyssey-demo", "autoScalingGroupName": "demo-nodes",
               "availabilityZones": ZONES, "minSize": min_size, "maxInstanceLifetimeSeconds": 86400}
    return DemoPlan("demo", outputs, [DemoService("demo-web", "odyssey-demo-web", 2)], "m7i.large")


def test_the_cluster_is_made_through_the_api_in_the_server():
    demo = _plan(min_size=4)
    with moto_server() as endpoint:
        placed = build_cluster(endpoint, demo)
        autoscaling = boto3.client("autoscaling", endpoint_url=endpoint, region_name="us-east-1",
                                   aws_access_key_id="x", aws_secret_access_key="x")
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["demo-nodes"])["AutoScalingGroups"][0]
    assert sorted(placed.values()) == ["us-east-1a", "us-east-1a", "us-east-1b", "us-east-1c"]
    assert group["MinSize"] == 4
    assert sorted(i["InstanceId"] for i in group["Instances"]) == sorted(placed)
    assert {i["InstanceId"]: i["AvailabilityZone"] for i in group["Instances"]} == placed


def test_a_broken_invariant_is_the_commands_exit_code(tmp_path, capfd):
    demo = _plan(min_size=4)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(demo.outputs))
    with moto_server() as endpoint:
        build_cluster(endpoint, demo)
        code = run_command(["cycle-audit", "demo", "--outputs", str(outputs), "--minimum", "5"], endpoint)
    assert code == 4
    assert "broken:" in capfd.readouterr().out


def test_an_unknown_stack_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["nope", "--project-dir", str(ROOT)])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert "Pulumi.nope.yaml does not exist" in error
    assert "stacks here: prod, stage" in error
