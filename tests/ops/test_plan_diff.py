"""plan-diff matches resources as the engine does: by URN, or by the URN an alias names."""

from __future__ import annotations

import pytest

from odyssey.ops.offline.plan_diff import alias_urn, diff_plans

STACK_URN = "urn:pulumi:prod::odyssey::pulumi:pulumi:Stack::odyssey-prod"
CLUSTER = "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster::cluster"
NODES = "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster$odyssey:cluster:NodeGroup::cluster"
ROLE_BEFORE = "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster$aws:iam/role:Role::cluster-instance"
ROLE_AFTER = "urn:pulumi:prod::odyssey::odyssey:cluster:NodeGroup$aws:iam/role:Role::cluster-instance"
ROLE = {"type": "aws:iam/role:Role", "name": "cluster-instance", "parent": NODES}


@pytest.mark.parametrize(("alias", "expected"), [
    # The parent's whole type chain comes before the type.
    ({"spec": {"parentUrn": CLUSTER}}, ROLE_BEFORE),
    ({"spec": {"parentUrn": NODES}},
     "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster$odyssey:cluster:NodeGroup$aws:iam/role:Role::cluster-instance"),
    # Unset fields are the resource's own: its name, type and current parent.
    ({"spec": {"name": "nodes-instance", "parentUrn": ""}},
     "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster$odyssey:cluster:NodeGroup$aws:iam/role:Role::nodes-instance"),
    ({"spec": {"type": "aws:iam/oldRole:Role", "parentUrn": CLUSTER}},
     "urn:pulumi:prod::odyssey::odyssey:cluster:SharedCluster$aws:iam/oldRole:Role::cluster-instance"),
    # A former root resource: the root stack adds no type, whether named or implied by noParent.
    ({"spec": {"noParent": True}}, "urn:pulumi:prod::odyssey::aws:iam/role:Role::cluster-instance"),
    ({"spec": {"parentUrn": STACK_URN}}, "urn:pulumi:prod::odyssey::aws:iam/role:Role::cluster-instance"),
    ({"spec": {"stack": "stage", "project": "other", "noParent": True}},
     "urn:pulumi:stage::other::aws:iam/role:Role::cluster-instance"),
    # URNs the SDK computed itself pass through.
    (ROLE_BEFORE, ROLE_BEFORE),
    ({"urn": ROLE_BEFORE}, ROLE_BEFORE),
])
def test_alias_urn(alias, expected):
    assert alias_urn(alias, ROLE, "prod", "odyssey") == expected


def plan(*resources):
    return {"stack": "prod", "project": "odyssey", "resources": list(resources)}


def resource(urn, parent, custom=True, aliases=(), **inputs):
    typ, name = urn.split("::")[2].split("$")[-1], urn.split("::")[3]
    return {"urn": urn, "type": typ, "name": name, "parent": parent, "custom": custom, "inputs": inputs,
            "aliases": list(aliases)}


BEFORE = plan(resource(CLUSTER, STACK_URN, custom=False), resource(ROLE_BEFORE, CLUSTER, path="/"))


def test_a_resource_moved_under_a_new_component_with_an_alias_is_the_same_resource():
    after = plan(resource(CLUSTER, STACK_URN, custom=False), resource(NODES, CLUSTER, custom=False),
                 resource(ROLE_AFTER, NODES, aliases=[{"spec": {"parentUrn": CLUSTER}}], path="/"))
    diff = diff_plans(BEFORE, after)
    assert diff.empty
    assert diff.aliased == {ROLE_AFTER: ROLE_BEFORE}
    assert (diff.created, diff.deleted, diff.components_created) == ([], [], [NODES])


def test_a_resource_moved_without_an_alias_is_replaced():
    after = plan(resource(CLUSTER, STACK_URN, custom=False), resource(NODES, CLUSTER, custom=False),
                 resource(ROLE_AFTER, NODES, path="/"))
    diff = diff_plans(BEFORE, after)
    assert not diff.empty
    assert (diff.created, diff.deleted) == ([ROLE_AFTER], [ROLE_BEFORE])


def test_an_aliased_resource_with_other_inputs_is_changed():
    after = plan(resource(CLUSTER, STACK_URN, custom=False),
                 resource(ROLE_AFTER, NODES, aliases=[{"spec": {"parentUrn": CLUSTER}}], path="/ops/"))
    assert diff_plans(BEFORE, after).changed == {ROLE_AFTER: ["inputs.path"]}


def test_a_remote_component_counts_as_the_cloud_resources_it_stands_for():
    vpc = resource("urn:pulumi:prod::odyssey::awsx:ec2:Vpc::network", STACK_URN, custom=False)
    renamed = {**resource("urn:pulumi:prod::odyssey::awsx:ec2:Vpc::net", STACK_URN, custom=False), "remote": True}
    diff = diff_plans(plan({**vpc, "remote": True}), plan(renamed))
    assert (diff.created, diff.deleted) == ([renamed["urn"]], [vpc["urn"]])
    assert not diff.empty


def test_a_local_component_removed_changes_nothing_in_the_account():
    diff = diff_plans(plan(resource(CLUSTER, STACK_URN, custom=False)), plan())
    assert diff.empty and diff.components_deleted == [CLUSTER]


def test_protect_is_compared():
    after = plan(resource(CLUSTER, STACK_URN, custom=False), dict(resource(ROLE_BEFORE, CLUSTER, path="/"), protect=True))
    assert list(diff_plans(BEFORE, after).changed.values()) == [["protect"]]


def test_the_command_exit_codes(tmp_path):
    import json

    from typer.testing import CliRunner

    from odyssey.ops.cli import EXIT_CONFIG, EXIT_FAILED, app

    runner = CliRunner()
    before, after, junk = tmp_path / "before.json", tmp_path / "after.json", tmp_path / "junk.json"
    before.write_text(json.dumps(BEFORE))
    after.write_text(json.dumps(plan(BEFORE["resources"][0])))
    junk.write_text("{}")
    same = runner.invoke(app, ["plan-diff", str(before), str(before)])
    different = runner.invoke(app, ["plan-diff", str(before), str(after)])
    bad = runner.invoke(app, ["plan-diff", str(before), str(junk)])
    assert same.exit_code == 0 and "0 to create, 0 to delete, 0 to change" in same.output
    assert different.exit_code == EXIT_FAILED and f"- {ROLE_BEFORE}" in different.output
    assert bad.exit_code == EXIT_CONFIG and "not a plan" in bad.output
