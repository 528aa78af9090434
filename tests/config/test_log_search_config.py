"""`odyssey:logSearch`: off unless set, the defaults, and each bad input refused with its key, exit 2, before
anything registers."""

from __future__ import annotations

import copy

import pytest
import yaml
from typer.testing import CliRunner

from odyssey.config.base import ConfigError
from odyssey.config.stack import parse_stack_config
from odyssey.ops.cli import EXIT_CONFIG, app
from tests.plans import ROOT, plan_config

BASE = {"region": "us-east-1", "tags": {"department": "platform", "contact": "ops@example.com"}}


def committed(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def test_off_unless_set():
    assert parse_stack_config(BASE).log_search is None
    assert parse_stack_config({**BASE, "logSearch": False}).log_search is None


def test_true_takes_the_defaults():
    search = parse_stack_config({**BASE, "logSearch": True}).log_search
    assert (search.engine_version, search.instance_type, search.data_nodes, search.volume_gib) == (
        "OpenSearch_2.19", "r6g.large.search", 3, 100)
    assert search.master_type == "m6g.large.search" and search.operator_cidrs == []


def test_the_master_type_follows_the_data_nodes_unless_set():
    assert parse_stack_config({**BASE, "logSearch": {"dataNodes": 12}}).log_search.master_type == "c6g.2xlarge.search"
    assert parse_stack_config({**BASE, "logSearch": {"dataNodes": 12, "dedicatedMasterType": "r6g.large.search"}}
                              ).log_search.master_type == "r6g.large.search"


BAD = [
    ("unknown engine version", {"engineVersion": "OpenSearch_2.20"}, "odyssey:logSearch.engineVersion",
     "is not an OpenSearch version"),
    ("not an OpenSearch type", {"instanceType": "r6g.large"}, "odyssey:logSearch.instanceType",
     "did you mean 'r6g.large.search'?"),
    ("a type Odyssey does not support", {"instanceType": "t3.small.search"}, "odyssey:logSearch.instanceType",
     "no burstable or instance-storage types"),
    ("too few data nodes for three zones", {"dataNodes": 2}, "odyssey:logSearch.dataNodes",
     "needs a multiple of 3"),
    ("data nodes not a multiple of three", {"dataNodes": 4}, "odyssey:logSearch.dataNodes", "multiple of 3"),
    ("volume above the type's maximum", {"instanceType": "c6g.large.search", "volumeGib": 300},
     "odyssey:logSearch.volumeGib", "a c6g.large.search data node takes a gp3 volume of 10 to 256 GiB"),
    ("volume below the type's minimum", {"instanceType": "or1.medium.search", "volumeGib": 10},
     "odyssey:logSearch.volumeGib", "of 20 to 768 GiB"),
    ("master type not an OpenSearch type", {"dedicatedMasterType": "m6g.large"},
     "odyssey:logSearch.dedicatedMasterType", "they end in '.search'"),
    ("operator CIDR", {"operatorCidrs": ["10.0.0.0/33"]}, "odyssey:logSearch.operatorCidrs",
     "is not an IPv4 CIDR block"),
    ("master user not an IAM ARN", {"masterUserArn": "admin"}, "odyssey:logSearch.masterUserArn",
     "is not the ARN of an IAM role or user"),
    ("snapshot hour", {"snapshotHour": 24}, "odyssey:logSearch.snapshotHour", "less than or equal to 23"),
]


@pytest.mark.parametrize("label, search, key, fragment", BAD, ids=[case[0] for case in BAD])
def test_bad_input_is_one_problem_with_its_key(label, search, key, fragment):
    with pytest.raises(ConfigError) as error:
        parse_stack_config({**BASE, "logSearch": search}, stack="prod")
    (problem,) = error.value.problems
    assert problem.key == key and fragment in problem.message, str(problem)
    assert problem.example and problem.example.startswith(key)


@pytest.mark.parametrize("label, search, key, fragment", BAD[:6], ids=[case[0] for case in BAD[:6]])
def test_bad_input_stops_the_plan_before_anything_registers(label, search, key, fragment):
    config = copy.deepcopy(committed("prod")) | {"odyssey:logSearch": search}
    recorded = []
    with pytest.raises(ConfigError) as error:
        plan_config(config, stack="prod", on_monitor=recorded.append)
    assert [p.key for p in error.value.problems] == [key]
    assert [r["type"] for m in recorded for r in m.records] == []


@pytest.mark.parametrize("label, search, key, fragment", BAD[:6], ids=[case[0] for case in BAD[:6]])
def test_bad_input_exits_2_with_the_key(tmp_path, label, search, key, fragment):
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    config = copy.deepcopy(committed("prod")) | {"odyssey:logSearch": search}
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": config}))
    result = CliRunner().invoke(app, ["plan", "prod", "--project-dir", str(tmp_path), "--skip-policies"])
    assert result.exit_code == EXIT_CONFIG, result.output
    assert key in result.output and "Traceback" not in result.output


def test_a_tenant_cannot_turn_it_on():
    with pytest.raises(ConfigError) as error:
        parse_stack_config({**BASE, "clusterStack": "organization/odyssey/prod", "logSearch": True})
    (problem,) = error.value.problems
    assert problem.key == "odyssey:logSearch" and "which the owner of the cluster configures" in problem.message
