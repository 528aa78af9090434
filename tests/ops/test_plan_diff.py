"""plan-diff matches resources as the engine does: by URN, or by an alias given as a URN or as a spec."""

from __future__ import annotations

import pytest

from odyssey.ops.offline.plan_diff import alias_urn, diff_plans, urn

APP = "urn:pulumi:prod::odyssey::odyssey:app:AppStack::app"
SERVICE = "urn:pulumi:prod::odyssey::odyssey:app:AppStack$odyssey:service:Service::app-api"
ROOT = "urn:pulumi:prod::odyssey::pulumi:pulumi:Stack::odyssey-prod"
TG = "aws:lb/targetGroup:TargetGroup"


def test_urns_qualify_the_type_by_the_parents_unless_the_parent_is_the_stack():
    assert urn("prod", "odyssey", None, TG, "tg") == f"urn:pulumi:prod::odyssey::{TG}::tg"
    assert urn("prod", "odyssey", ROOT, TG, "tg") == f"urn:pulumi:prod::odyssey::{TG}::tg"
    assert urn("prod", "odyssey", APP, TG, "tg") == f"urn:pulumi:prod::odyssey::odyssey:app:AppStack${TG}::tg"
    # As the offline recorder names them: by the parent's own type.
    assert urn("prod", "odyssey", SERVICE, TG, "tg") == f"urn:pulumi:prod::odyssey::odyssey:service:Service${TG}::tg"


RESOURCE = {"urn": urn("prod", "odyssey", SERVICE, TG, "app-api-tg"), "type": TG, "name": "app-api-tg",
            "parent": SERVICE}


@pytest.mark.parametrize("spec, expected", [
    # What a spec leaves out is the resource's own: Alias(name="prod-api") keeps parent, type, stack, project.
    ({"name": "prod-api", "parentUrn": ""}, f"urn:pulumi:prod::odyssey::odyssey:service:Service${TG}::prod-api"),
    ({"type": "aws:elasticloadbalancingv2/targetGroup:TargetGroup", "parentUrn": ""},
     "urn:pulumi:prod::odyssey::odyssey:service:Service$aws:elasticloadbalancingv2/targetGroup:TargetGroup::app-api-tg"),
    ({"name": "old", "noParent": True}, f"urn:pulumi:prod::odyssey::{TG}::old"),
    ({"name": "old", "parentUrn": APP}, f"urn:pulumi:prod::odyssey::odyssey:app:AppStack${TG}::old"),
    ({"stack": "stage", "project": "other"}, f"urn:pulumi:stage::other::odyssey:service:Service${TG}::app-api-tg"),
])
def test_an_alias_spec_resolves_as_the_engine_resolves_it(spec, expected):
    assert alias_urn(spec, RESOURCE, "prod", "odyssey") == expected


def _plan(*resources):
    return {"stack": "prod", "project": "odyssey", "resources": [{"custom": True, "inputs": {"port": 80.0}, **r}
                                                                  for r in resources]}


OLD = {"urn": urn("prod", "odyssey", SERVICE, TG, "prod-api"), "type": TG, "name": "prod-api", "parent": SERVICE}


def test_a_resource_renamed_with_an_alias_spec_is_the_same_resource():
    renamed = {**RESOURCE, "aliases": [{"spec": {"name": "prod-api", "parentUrn": ""}}]}
    diff = diff_plans(_plan(OLD), _plan(renamed))
    assert diff.empty and diff.aliased == {RESOURCE["urn"]: OLD["urn"]}


def test_a_resource_renamed_without_an_alias_is_deleted_and_created():
    diff = diff_plans(_plan(OLD), _plan({**RESOURCE, "aliases": [{"spec": {"name": "other", "parentUrn": ""}}]}))
    assert (diff.created, diff.deleted, diff.aliased) == ([RESOURCE["urn"]], [OLD["urn"]], {})


def test_an_alias_given_as_a_urn_still_matches():
    diff = diff_plans(_plan(OLD), _plan({**RESOURCE, "aliases": [{"urn": OLD["urn"]}], "inputs": {"port": 81.0}}))
    assert diff.aliased == {RESOURCE["urn"]: OLD["urn"]} and diff.changed == {RESOURCE["urn"]: ["inputs.port"]}
