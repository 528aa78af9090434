"""odyssey:clusterStack against the backend's organization: what CI checks before it previews or deploys."""

from __future__ import annotations

import pytest

from odyssey.ops.backend import main, owner_problem
from tests.plans import ROOT


@pytest.mark.parametrize(("cluster_stack", "organization", "problem"), [
    (None, "acme", None),
    ("organization/odyssey/prod", "organization", None),
    ("acme/odyssey/prod", "acme", None),
    ("organization/odyssey/prod", "acme",
     "odyssey:clusterStack is organization/odyssey/prod, but this backend is the Pulumi Cloud organization 'acme': "
     "set odyssey:clusterStack: acme/odyssey/prod"),
    ("acme/odyssey/prod", "organization",
     "odyssey:clusterStack is acme/odyssey/prod, but this backend is a self-managed backend (file://, s3://), whose "
     "organization is always 'organization': set odyssey:clusterStack: organization/odyssey/prod"),
    ("acme/other/prod", "acme",
     "odyssey:clusterStack is acme/other/prod, but this backend is the Pulumi Cloud organization 'acme': "
     "set odyssey:clusterStack: acme/odyssey/prod"),
    ("prod", "acme", "odyssey:clusterStack is 'prod'; a StackReference needs <org>/<project>/<stack>, e.g. "
                     "acme/odyssey/prod"),
])
def test_owner_problem(cluster_stack, organization, problem):
    assert owner_problem(cluster_stack, organization, "odyssey") == problem


def test_the_committed_stacks_are_in_the_self_managed_form(capsys):
    assert main(["stage", "--project-dir", str(ROOT)]) == 0
    assert main(["prod", "--project-dir", str(ROOT)]) == 0
    assert capsys.readouterr().out == "stage: runs on organization/odyssey/prod\nprod: owns its cluster\n"


def test_on_pulumi_cloud_stage_must_name_the_org(capsys):
    assert main(["stage", "--organization", "acme", "--project-dir", str(ROOT)]) == 2
    assert "set odyssey:clusterStack: acme/odyssey/prod (Pulumi.stage.yaml)" in capsys.readouterr().err
