"""The shipped deployer policy (iam/deployer-policy-*.json) covers everything the prod and stage plans create."""

from __future__ import annotations

import fnmatch
import importlib
import json
import re

import botocore.session
import pulumi
import pytest

from odyssey.domain.deployer import (
    INVOKE_ACTIONS,
    MANAGED_POLICIES_PER_ROLE,
    document_problems,
    grants,
    required_actions,
    uncovered,
)
from odyssey.ops.offline.mock_cloud import MockCloud
from odyssey.ops.offline.plan import run_plan
from tests.domain.test_deployer import BOTOCORE_SERVICE, IAM_ONLY
from tests.plans import ROOT

POLICY_FILES = sorted((ROOT / "iam").glob("deployer-policy-*.json"))
ROLE = "aws:iam/role:Role"


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in POLICY_FILES}


@pytest.fixture(scope="module", params=["prod", "stage"])
def plan(request):
    return run_plan(ROOT, request.param)


def test_the_documents_are_valid_managed_policies_that_fit_one_role(documents):
    assert documents, "no iam/deployer-policy-*.json"
    assert len(documents) <= MANAGED_POLICIES_PER_ROLE
    assert [p for name, document in documents.items() for p in document_problems(name, document)] == []


def test_every_type_the_plan_creates_is_granted(plan, documents):
    types = {r["type"] for r in plan.resources}
    assert uncovered(types, documents.values()) == {}


def test_every_lookup_the_program_can_make_is_granted(documents):
    allowed = grants(documents.values())
    assert set(INVOKE_ACTIONS) == set(MockCloud._invokes)
    lacking = [a for actions in INVOKE_ACTIONS.values() for a in actions if not any(g.covers(a) for g in allowed)]
    assert lacking == []


@pytest.mark.parametrize("action", ["iam:CreateRole", "iam:PassRole"])
def test_the_roles_the_plan_creates_fall_under_the_role_scope(plan, documents, action):
    """Role names are Pulumi's autonames from the components' names; the policy scopes IAM by those prefixes."""
    scope = _scope(documents, action)
    roles = [f"arn:aws:iam::123456789012:role/{r['name']}-0123456" for r in plan.resources if r["type"] == ROLE]
    assert roles
    assert [role for role in roles if not any(fnmatch.fnmatchcase(role, pattern) for pattern in scope)] == []


def _scope(documents: dict[str, dict], action: str) -> list[str]:
    resources = [statement["Resource"] for document in documents.values() for statement in document["Statement"]
                 if action in statement["Action"]]
    return [r for resource in resources for r in ([resource] if isinstance(resource, str) else resource)]


@pytest.mark.parametrize(("typ", "action", "arn"), [
    ("aws:cloudwatch/logGroup:LogGroup", "logs:CreateLogGroup",
     lambda r: f"arn:aws:logs:us-east-1:123456789012:log-group:{r['inputs']['name']}"),
    ("aws:ecs/cluster:Cluster", "ecs:CreateCluster",
     lambda r: f"arn:aws:ecs:us-east-1:123456789012:cluster/{r['inputs']['name']}"),
    ("aws:s3/bucket:Bucket", "s3:CreateBucket", lambda r: f"arn:aws:s3:::{r['name']}-0123456"),
    ("aws:kms/alias:Alias", "kms:CreateAlias", lambda r: f"arn:aws:kms:us-east-1:123456789012:{r['inputs']['name']}"),
    ("aws:wafv2/webAcl:WebAcl", "wafv2:CreateWebACL",
     lambda r: f"arn:aws:wafv2:us-east-1:123456789012:regional/webacl/{r['inputs']['name']}/0123"),
    ("aws:opensearch/domain:Domain", "es:CreateDomain",
     lambda r: f"arn:aws:es:us-east-1:123456789012:domain/{r['inputs']['domainName']}"),
    ("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "firehose:CreateDeliveryStream",
     lambda r: f"arn:aws:firehose:us-east-1:123456789012:deliverystream/{r['inputs']['name']}"),
])
def test_named_resources_fall_under_their_scope(plan, documents, typ, action, arn):
    arns = [arn(r) for r in plan.resources if r["type"] == typ]
    assert arns or plan.stack == "stage"  # stage runs on prod's cluster
    scope = _scope(documents, action)
    assert [a for a in arns if not any(fnmatch.fnmatchcase(a, pattern) for pattern in scope)] == []


def _constructed_types() -> set[str]:
    """The type token of every resource class the program's source constructs (``aws.lb.LoadBalancer(`` ...)."""
    sources = [*(ROOT / "components").rglob("*.py"), ROOT / "__main__.py"]
    classes = {m for path in sources for m in re.findall(r"\b(aws(?:x)?\.\w+\.[A-Z]\w*)\(", path.read_text())}
    types = set()
    for dotted in classes:
        package, module, name = dotted.split(".")
        sdk = importlib.import_module(f"pulumi_{package}.{module}")
        if not issubclass(getattr(sdk, name), pulumi.Resource):
            continue  # argument classes and enums
        types.add(f"awsx:{module}:{name}" if package == "awsx" else f"aws:{module}/{name[0].lower()}{name[1:]}:{name}")
    return types


def test_every_resource_class_the_program_can_construct_is_mapped_and_granted(documents):
    """Beyond the two sample stacks: options they do not use (DNS records, an existing VPC, ...) create types too."""
    types = _constructed_types()
    assert {"aws:route53/record:Record", "aws:lb/loadBalancer:LoadBalancer", "awsx:ec2:Vpc"} <= types
    required_actions(types)  # raises, naming each type without a mapping
    assert uncovered(types, documents.values()) == {}


def test_every_action_the_documents_name_is_an_operation_of_its_service(documents):
    """Actions granted beyond the mapping (a split statement, a permission-only name) are spelled right too."""
    session = botocore.session.get_session()
    named = {action for document in documents.values() for statement in document["Statement"]
             for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
             if "*" not in action}
    wrong = []
    iam_only = {a.lower() for a in IAM_ONLY}  # IAM matches action names case-insensitively
    for action in sorted(a for a in named if a.lower() not in iam_only):
        service, operation = action.split(":", 1)
        model = session.get_service_model(BOTOCORE_SERVICE.get(service, service))
        if operation not in model.operation_names:
            wrong.append(action)
    assert wrong == []
