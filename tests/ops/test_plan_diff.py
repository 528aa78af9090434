"""Plan comparison on the engine's terms: resources match by URN or alias; anything else is a create and a delete."""

from __future__ import annotations

import copy
import json

import pytest
from typer.testing import CliRunner

from odyssey.ops.cli import EXIT_CONFIG, EXIT_FAILED, app
from odyssey.ops.offline.plan_diff import child_urn, diff_plans

STACK = "urn:pulumi:prod::odyssey::pulumi:pulumi:Stack::odyssey-prod"
CLUSTER = "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster::cluster"
GROUP_TYPE = "aws:autoscaling/group:Group"


def resource(urn: str, parent: str | None, inputs: dict | None = None, aliases: list | None = None) -> dict:
    *_, qualified, name = urn.split("::")
    return {"urn": urn, "type": qualified.split("$")[-1], "name": name, "parent": parent, "custom": True,
            "inputs": inputs or {"minSize": 4.0}, "protect": False, "aliases": aliases or []}


def plan(*resources: dict) -> dict:
    return {"stack": "prod", "project": "odyssey", "resources": list(resources)}


BEFORE = plan(
    resource(CLUSTER, STACK, {}),
    resource(f"urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster${GROUP_TYPE}::cluster-nodes", CLUSTER),
)


def test_the_same_plan_changes_nothing():
    assert diff_plans(BEFORE, copy.deepcopy(BEFORE)).empty


def test_a_changed_input_is_a_change():
    after = copy.deepcopy(BEFORE)
    after["resources"][1]["inputs"]["minSize"] = 3.0
    diff = diff_plans(BEFORE, after)
    assert diff.changed == {after["resources"][1]["urn"]: ["inputs.minSize"]} and not diff.created


def test_protect_is_compared():
    after = copy.deepcopy(BEFORE)
    after["resources"][1]["protect"] = True
    assert list(diff_plans(BEFORE, after).changed.values()) == [["protect"]]


def test_a_move_without_an_alias_is_a_delete_and_a_create():
    group = "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster$odyssey:cluster:NodeGroup$" \
            f"{GROUP_TYPE}::cluster-nodes"
    after = plan(BEFORE["resources"][0], resource(group, "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster$"
                                                          "odyssey:cluster:NodeGroup::cluster-node-group"))
    diff = diff_plans(BEFORE, after)
    assert diff.created == [group] and diff.deleted == [BEFORE["resources"][1]["urn"]]


def test_a_move_with_a_parent_alias_is_the_same_resource():
    node_group = "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster$odyssey:cluster:NodeGroup::cluster-node-group"
    group = f"urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster$odyssey:cluster:NodeGroup${GROUP_TYPE}::cluster-nodes"
    after = plan(BEFORE["resources"][0], resource(group, node_group, aliases=[{"spec": {"parentUrn": CLUSTER}}]))
    diff = diff_plans(BEFORE, after)
    assert diff.empty and diff.aliased == {group: BEFORE["resources"][1]["urn"]}


def test_a_rename_with_a_name_alias_keeps_the_current_parent():
    renamed = f"urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster${GROUP_TYPE}::cluster-node-group"
    after = plan(BEFORE["resources"][0],
                 resource(renamed, CLUSTER, aliases=[{"spec": {"name": "cluster-nodes", "parentUrn": ""}}]))
    assert diff_plans(BEFORE, after).aliased == {renamed: BEFORE["resources"][1]["urn"]}


def test_an_alias_to_nothing_deployed_is_still_a_create():
    renamed = f"urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster${GROUP_TYPE}::other"
    after = plan(BEFORE["resources"][0], resource(renamed, CLUSTER, aliases=[{"spec": {"name": "never-existed"}}]))
    assert diff_plans(BEFORE, after).created == [renamed]


@pytest.mark.parametrize("parent, expected", [
    (STACK, "urn:pulumi:prod::odyssey::aws:s3/bucket:Bucket::logs"),
    (None, "urn:pulumi:prod::odyssey::aws:s3/bucket:Bucket::logs"),
    (CLUSTER, "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster$aws:s3/bucket:Bucket::logs"),
])
def test_child_urns_are_engine_shaped(parent, expected):
    assert child_urn("prod", "odyssey", parent, "aws:s3/bucket:Bucket", "logs") == expected


def test_the_command_exit_codes(tmp_path):
    runner = CliRunner()
    before, after, junk = tmp_path / "before.json", tmp_path / "after.json", tmp_path / "junk.json"
    before.write_text(json.dumps(BEFORE))
    changed = copy.deepcopy(BEFORE)
    changed["resources"].pop()
    after.write_text(json.dumps(changed))
    junk.write_text("{}")
    same = runner.invoke(app, ["plan-diff", str(before), str(before)])
    different = runner.invoke(app, ["plan-diff", str(before), str(after)])
    bad = runner.invoke(app, ["plan-diff", str(before), str(junk)])
    assert same.exit_code == 0 and "0 to create, 0 to delete, 0 to change" in same.output
    assert different.exit_code == EXIT_FAILED and "- urn:pulumi:prod::odyssey::odyssey:cluster" in different.output
    assert bad.exit_code == EXIT_CONFIG and "not a plan" in bad.output
