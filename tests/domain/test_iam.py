"""Every IAM document the program attaches, written out: a changed statement fails here.

Each expected document is compared as the exact JSON text the component
attaches (``json.dumps`` keeps key order), so a reordered key would show in
the plan as an update and fails here as well.
"""

from __future__ import annotations

import json

import pytest

from odyssey.domain import iam

ACCOUNT = "123456789012"


def document(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_assume_role_policy():
    assert iam.assume_role_policy("ec2.amazonaws.com") == document(
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    )


def test_service_trust_policy_guards_against_the_confused_deputy():
    assert iam.service_trust_policy("ecs-tasks.amazonaws.com", ACCOUNT) == document({
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    })


def test_allow_policy():
    assert iam.allow_policy(("s3:GetObject",), ("arn:aws:s3:::b/*",)) == document(
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}
    )


def test_flow_log_policy_writes_to_one_group_and_its_streams():
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/odyssey/prod/flow"
    assert iam.flow_log_policy(group) == document({
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        "Resource": [
            "arn:aws:logs:eu-west-1:123456789012:log-group:/odyssey/prod/flow",
            "arn:aws:logs:eu-west-1:123456789012:log-group:/odyssey/prod/flow:*",
        ],
    })


def test_alert_key_policy():
    assert iam.alert_key_policy(ACCOUNT, "aws-us-gov") == document(
        {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws-us-gov:iam::123456789012:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "AlarmsAndEventsPublish",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        },
    )


def test_topic_publish_policy():
    topic = "arn:aws:sns:eu-west-1:123456789012:alarms"
    assert iam.topic_publish_policy(topic, ACCOUNT) == document({
        "Sid": "AlarmsAndEventsPublish",
        "Effect": "Allow",
        "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
        "Action": "sns:Publish",
        "Resource": "arn:aws:sns:eu-west-1:123456789012:alarms",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    })


def test_execution_secrets_policy_reads_only_the_stacks_secrets():
    assert iam.execution_secrets_policy(
        "arn:aws:ssm:eu-west-1:123456789012:parameter/odyssey/prod/*",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:odyssey/prod/*",
    ) == document(
        {"Effect": "Allow", "Action": ["ssm:GetParameters", "ssm:GetParameter"],
         "Resource": "arn:aws:ssm:eu-west-1:123456789012:parameter/odyssey/prod/*"},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:odyssey/prod/*"},
    )


def test_exec_policy_opens_the_ssm_channel_and_writes_only_the_exec_log_group():
    assert iam.exec_policy("eu-west-1", ACCOUNT, "/odyssey/exec", "aws-cn") == document(
        {"Effect": "Allow", "Resource": "*", "Action": [
            "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]},
        {"Effect": "Allow", "Resource": "*", "Action": "logs:DescribeLogGroups"},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
         "Resource": "arn:aws-cn:logs:eu-west-1:123456789012:log-group:/odyssey/exec:*"},
    )


def test_exec_policy_decrypts_with_the_clusters_exec_key_only():
    key = "arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    statements = json.loads(iam.exec_policy("eu-west-1", ACCOUNT, "/odyssey/exec", exec_key_arn=key))["Statement"]
    assert statements[-1] == {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key}
    assert statements[:-1] == json.loads(iam.exec_policy("eu-west-1", ACCOUNT, "/odyssey/exec"))["Statement"]


def test_logs_key_policy_lets_the_regions_logs_service_use_it_for_this_accounts_log_groups_only():
    assert iam.logs_key_policy(ACCOUNT, "eu-west-1") == document(
        {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "CloudWatchLogsEncrypt", "Effect": "Allow", "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
         "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
         "Resource": "*",
         "Condition": {"ArnLike": {
             "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*"}}},
    )


def test_account_key_policy_leaves_the_key_to_the_accounts_iam_policies():
    assert iam.account_key_policy(ACCOUNT, "aws-us-gov") == document(
        {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": "arn:aws-us-gov:iam::123456789012:root"},
         "Action": "kms:*", "Resource": "*"})


def test_scheduler_policy_runs_any_revision_of_the_family_on_one_cluster():
    assert iam.scheduler_policy(
        "arn:aws:ecs:eu-west-1:123456789012:task-definition/prod-report:7",
        "arn:aws:ecs:eu-west-1:123456789012:cluster/shared",
        ["arn:aws:iam::123456789012:role/exec", "arn:aws:iam::123456789012:role/task"],
        "arn:aws:sqs:eu-west-1:123456789012:dlq",
    ) == document(
        {"Effect": "Allow", "Action": "ecs:RunTask",
         "Resource": "arn:aws:ecs:eu-west-1:123456789012:task-definition/prod-report:*",
         "Condition": {"ArnEquals": {"ecs:cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/shared"}}},
        {"Effect": "Allow", "Action": "ecs:TagResource", "Resource": "*",
         "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}}},
        {"Effect": "Allow", "Action": "iam:PassRole",
         "Resource": ["arn:aws:iam::123456789012:role/exec", "arn:aws:iam::123456789012:role/task"],
         "Condition": {"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:eu-west-1:123456789012:dlq"},
    )


def test_events_log_policy_lets_eventbridge_write_the_groups_streams():
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/events/odyssey/prod/ecs"
    assert iam.events_log_policy(group) == document({
        "Effect": "Allow",
        "Principal": {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]},
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/events/odyssey/prod/ecs:*",
    })


SERVICE_DELIVERY = {
    "Sid": "ElbServiceDelivery",
    "Effect": "Allow",
    "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::logs/alb/AWSLogs/123456789012/*",
}
DENY_INSECURE = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


@pytest.mark.parametrize(("region", "expected"), [
    ("eu-west-1", document({
        "Sid": "ElbAccountDelivery",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::156460612806:root"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::logs/alb/AWSLogs/123456789012/*",
    }, SERVICE_DELIVERY, DENY_INSECURE)),
    # Opened after August 2022: the log-delivery service principal only.
    ("me-central-1", document(SERVICE_DELIVERY, DENY_INSECURE)),
])
def test_access_log_bucket_policy(region, expected):
    assert iam.access_log_bucket_policy("arn:aws:s3:::logs", ["alb"], region, ACCOUNT) == expected


def test_access_log_bucket_policy_admits_each_alb_of_the_pool_under_its_prefix():
    policy = json.loads(iam.access_log_bucket_policy("arn:aws:s3:::logs", ["alb", "alb/ingress-2"], "me-central-1",
                                                     ACCOUNT))
    assert policy["Statement"][0]["Resource"] == [
        "arn:aws:s3:::logs/alb/AWSLogs/123456789012/*", "arn:aws:s3:::logs/alb/ingress-2/AWSLogs/123456789012/*"]
    with pytest.raises(ValueError, match="sequence of prefixes"):
        iam.access_log_bucket_policy("arn:aws:s3:::logs", "alb", "me-central-1", ACCOUNT)
