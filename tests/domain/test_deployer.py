"""The deployer's actions by resource type, and the check of a policy against them (pure)."""

from __future__ import annotations

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain.deployer import (
    COMPONENT_CHILDREN,
    MANAGED_POLICY_MAX_CHARS,
    READS,
    RESOURCE_ACTIONS,
    Grant,
    UnmappedTypeError,
    document_problems,
    grants,
    policy_size,
    required_actions,
    uncovered,
)


def _allow(*actions: str, **extra) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*",
                                                    **extra}]}


def test_a_type_needs_its_actions_and_its_services_reads():
    assert required_actions(["aws:sqs/queue:Queue"]) == {"aws:sqs/queue:Queue": (
        "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue",
        "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags")}


def test_awsx_vpc_expands_to_what_it_creates_in_a_real_preview():
    required = required_actions(["awsx:ec2:Vpc"])
    assert set(required) == set(COMPONENT_CHILDREN["awsx:ec2:Vpc"])
    assert "ec2:CreateNatGateway" in required["aws:ec2/natGateway:NatGateway"]


def test_engine_and_local_components_need_nothing():
    assert required_actions(["pulumi:pulumi:StackReference", "odyssey:app:AppStack", "odyssey:service:Service"]) == {}


def test_an_unmapped_type_is_named():
    with pytest.raises(UnmappedTypeError, match=r"aws:rds/instance:Instance, aws:x/y:Z"):
        required_actions(["aws:sqs/queue:Queue", "aws:x/y:Z", "aws:rds/instance:Instance"])


@pytest.mark.parametrize(("granted", "action", "covered"), [
    ("sqs:CreateQueue", "sqs:CreateQueue", True),
    ("sqs:createqueue", "sqs:CreateQueue", True),   # IAM compares action names case-insensitively
    ("sqs:*", "sqs:CreateQueue", True),
    ("sqs:Create*", "sqs:DeleteQueue", False),
    ("ec2:Describe*", "ec2:Describe*", True),        # a wildcard the mapping needs, granted as such
    ("ec2:DescribeVpcs", "ec2:Describe*", False),    # one Describe is not all of them
    ("s3:Get?ucketPolicy", "s3:GetBucketPolicy", True),
    ("sns:Subscribe", "sqs:Subscribe", False),
])
def test_grant_matching(granted, action, covered):
    assert Grant("s", (granted,)).covers(action) is covered


def test_uncovered_lists_each_missing_action_by_type():
    policy = _allow("sqs:CreateQueue", "sqs:DeleteQueue", "sqs:Get*", "sqs:ListQueueTags", "sqs:SetQueueAttributes")
    assert uncovered(["aws:sqs/queue:Queue"], [policy]) == {"aws:sqs/queue:Queue": ["sqs:TagQueue", "sqs:UntagQueue"]}
    policy["Statement"].append({"Effect": "Allow", "Action": "sqs:*Tag*", "Resource": "*"})
    assert uncovered(["aws:sqs/queue:Queue"], [policy]) == {}


def test_deny_and_notresource_statements_grant_nothing():
    documents = [_allow("sqs:*", Condition={}) | {}, {"Statement": [
        {"Effect": "Deny", "Action": "sns:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:*", "NotResource": "*"}]}]
    assert [g.actions for g in grants(documents)] == [("sqs:*",)]


def test_document_problems_are_what_iam_refuses():
    good = _allow("sqs:CreateQueue") | {"Statement": [{"Sid": "Queues", "Effect": "Allow", "Action": "sqs:*",
                                                       "Resource": "*"}]}
    assert document_problems("good", good) == []
    bad = {"Version": "2008-10-17", "Statement": [
        {"Sid": "a-b", "Effect": "allow", "Action": "CreateQueue", "NotAction": "x:y", "Principal": "*"},
        {"Sid": "a-b", "Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
    assert document_problems("bad", bad) == [
        "bad: Version must be 2012-10-17",
        "bad statement 0: Effect must be Allow or Deny",
        "bad statement 0: needs exactly one of Action and NotAction",
        "bad statement 0: needs exactly one of Resource and NotResource",
        "bad statement 0: an identity policy has no Principal",
        "bad statement 0: 'CreateQueue' is not service:Action",
        "bad statement 0: Sid 'a-b' must be letters and digits only",
        "bad statement 1: Sid 'a-b' must be letters and digits only",
        "bad: Sids must be unique",
    ]


def test_size_counts_no_white_space_and_the_quota_is_enforced():
    document = _allow("sqs:CreateQueue")
    assert policy_size(document) == len('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":'
                                        '["sqs:CreateQueue"],"Resource":"*"}]}')
    actions = [f"sqs:Action{i:05d}" for i in range(MANAGED_POLICY_MAX_CHARS // 18)]
    assert any("split it" in p for p in document_problems("big", _allow(*actions)))


@given(st.lists(st.sampled_from(sorted(RESOURCE_ACTIONS)), min_size=1, max_size=6))
def test_a_policy_granting_exactly_the_required_actions_covers_them_and_dropping_one_is_caught(types):
    required = required_actions(types)
    actions = sorted({a for needed in required.values() for a in needed})
    assert uncovered(types, [_allow(*actions)]) == {}
    dropped = actions[0]
    missing = uncovered(types, [_allow(*actions[1:])])
    assert missing and all(dropped in lacking for lacking in missing.values())


# IAM action names that are not an API operation of the same name in botocore's model of the service.
IAM_ONLY = {
    "iam:PassRole", "ec2:RunInstances",
    # S3 authorizes several bucket APIs with actions of other names (GetBucketLifecycleConfiguration, ...).
    "s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration", "s3:PutEncryptionConfiguration",
    "s3:GetEncryptionConfiguration", "s3:GetReplicationConfiguration", "s3:GetAccelerateConfiguration",
    "s3:ListBucket", "s3:PutBucketPublicAccessBlock",
    # Permission-only actions that AWS documents with no API of their own.
    "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "elasticloadbalancing:SetWebACL",
}
BOTOCORE_SERVICE = {"elasticloadbalancing": "elbv2", "es": "opensearch", "route53": "route53",
                    "servicediscovery": "servicediscovery", "application-autoscaling": "application-autoscaling"}


def test_every_named_action_is_an_operation_of_its_service():
    """A misspelled action would be granted by no policy and needed by no API: botocore's models catch it."""
    session = botocore.session.get_session()
    named = {a for actions in [*RESOURCE_ACTIONS.values(), *READS.values()] for a in actions if "*" not in a}
    wrong = []
    for action in sorted(named - IAM_ONLY):
        service, operation = action.split(":", 1)
        model = session.get_service_model(BOTOCORE_SERVICE.get(service, service))
        if operation not in model.operation_names:
            wrong.append(action)
    assert wrong == []
