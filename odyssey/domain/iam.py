"""IAM policy documents, as plain JSON text the components attach.

Every document the program attaches is built here from plain values (ARNs,
account ids, names), so each one has an exact-output test and a statement
cannot change unnoticed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# Regions that opened before August 2022 deliver ALB access logs from a regional
# ELB account (AWS "Enable access logs for your Application Load Balancer");
# newer regions use the log-delivery service principal only.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021", "us-east-2": "033677994240", "us-west-1": "027434742980",
    "us-west-2": "797873946194", "af-south-1": "098369216593", "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580", "ap-south-1": "718504428378", "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887", "ap-southeast-1": "114774131450", "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864", "ca-central-1": "985666609251", "eu-central-1": "054676820928",
    "eu-west-1": "156460612806", "eu-west-2": "652711504416", "eu-south-1": "635631232127",
    "eu-west-3": "009996457667", "eu-north-1": "897822967062", "me-south-1": "076674570225",
    "sa-east-1": "507241528517", "us-gov-west-1": "048591011584", "us-gov-east-1": "190560391635",
}


def _document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def assume_role_policy(service: str) -> str:
    """A trust policy letting one AWS service principal (``ec2.amazonaws.com``) assume the role."""
    return _document([{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}])


def service_trust_policy(service: str, account_id: str) -> str:
    """Trust ``service`` to assume the role, only on behalf of this account (confused-deputy guard)."""
    return _document([
        {
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    ])


def allow_policy(actions: Sequence[str], resources: Sequence[str]) -> str:
    """A policy allowing ``actions`` on ``resources`` and nothing else."""
    return _document([{"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}])


def flow_log_policy(log_group_arn: str) -> str:
    """What VPC flow logs need to deliver to one CloudWatch log group (the group and its streams)."""
    return allow_policy(
        ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], [log_group_arn, f"{log_group_arn}:*"]
    )


def _account_administers(account_id: str, partition: str) -> dict[str, Any]:
    """The account (through IAM policies) administers and uses the key; without it nobody could."""
    return {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def logs_key_policy(account_id: str, region: str, partition: str = "aws") -> str:
    """The key policy of a stack's logs key: CloudWatch Logs of the region may use it for this account's log groups.

    AWS's documented policy ("Encrypt log data in CloudWatch Logs using AWS
    KMS", step 2): the regional Logs principal, with the encryption context
    ``aws:logs:arn`` scoped to the log groups of this account and region, so
    no other account's log group can be encrypted (or read) with the key.
    """
    return _document([
        _account_administers(account_id, partition),
        {
            "Sid": "CloudWatchLogsEncrypt",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{region}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            "Resource": "*",
            "Condition": {"ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:log-group:*"}},
        },
    ])


def account_key_policy(account_id: str, partition: str = "aws") -> str:
    """A key used only by this account's own principals, as their IAM policies allow (the ECS Exec key)."""
    return _document([_account_administers(account_id, partition)])


def alert_key_policy(account_id: str, partition: str = "aws") -> str:
    """A KMS key policy for an encrypted SNS topic that CloudWatch alarms and EventBridge publish to.

    The AWS-managed aws/sns key cannot be used by those services, so alert
    topics get a customer-managed key that lets them encrypt.
    """
    return _document([
        _account_administers(account_id, partition),
        {
            "Sid": "AlarmsAndEventsPublish",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
    ])


def topic_publish_policy(topic_arn: str, account_id: str) -> str:
    """Let this account's alarms and EventBridge rules publish to the topic."""
    return _document([
        {
            "Sid": "AlarmsAndEventsPublish",
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    ])


def execution_secrets_policy(ssm_resource: str, secrets_manager_resource: str) -> str:
    """The task execution role reads only this stack's secrets: its SSM path and its Secrets Manager prefix."""
    return _document([
        {"Effect": "Allow", "Action": ["ssm:GetParameters", "ssm:GetParameter"], "Resource": ssm_resource},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secrets_manager_resource},
    ])


def exec_policy(region: str, account_id: str, exec_log_group: str, partition: str = "aws",
                exec_key_arn: str | None = None) -> str:
    """What ECS Exec needs from the task role: the SSM channel, writing the session log, and decrypting the
    session's data key with the cluster's Exec key (``exec_key_arn``; None for a cluster without one)."""
    decrypt = [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": exec_key_arn}] if exec_key_arn else []
    return _document([
        {"Effect": "Allow", "Resource": "*", "Action": [
            "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"]},
        {"Effect": "Allow", "Resource": "*", "Action": "logs:DescribeLogGroups"},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
         "Resource": f"arn:{partition}:logs:{region}:{account_id}:log-group:{exec_log_group}:*"},
        *decrypt,
    ])


def scheduler_policy(task_definition_arn: str, cluster_arn: str, role_arns: list[str], queue_arn: str) -> str:
    """EventBridge Scheduler runs the task's family on one cluster, passes its two roles, dead-letters to the queue."""
    # Any revision of the family: a deploy registers a new revision before the schedule is updated.
    family_arn = task_definition_arn.rsplit(":", 1)[0] + ":*"
    return _document([
        {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": family_arn,
         "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}}},
        {"Effect": "Allow", "Action": "ecs:TagResource", "Resource": "*",
         "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}}},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": role_arns,
         "Condition": {"StringLike": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn},
    ])


def events_log_policy(log_group_arn: str) -> str:
    """The CloudWatch Logs resource policy that lets EventBridge write to one log group."""
    return _document([{
        "Effect": "Allow",
        "Principal": {"Service": ["events.amazonaws.com", "delivery.logs.amazonaws.com"]},
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{log_group_arn}:*",
    }])


def account_trust_policy(account_id: str, partition: str = "aws") -> str:
    """Let principals of this account assume the role, when their own IAM policies allow them to."""
    return _document([{"Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                       "Action": "sts:AssumeRole"}])


def logs_subscription_trust_policy(region: str, account_id: str, partition: str = "aws") -> str:
    """Let CloudWatch Logs assume the role for this account's log groups only (its subscription filters)."""
    return _document([{
        "Effect": "Allow",
        "Principal": {"Service": "logs.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringLike": {"aws:SourceArn": f"arn:{partition}:logs:{region}:{account_id}:*"}},
    }])


def firehose_put_policy(stream_arn: str) -> str:
    """What a subscription filter needs: putting records on one Firehose stream."""
    return allow_policy(["firehose:PutRecord", "firehose:PutRecordBatch"], [stream_arn])


# Firehose creates and removes its delivery ENIs in the domain's subnets; EC2 allows no narrower resource for
# these actions ("Grant Firehose access to an OpenSearch Service destination in a VPC").
FIREHOSE_VPC_ACTIONS = (
    "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
    "ec2:DescribeNetworkInterfaces", "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
)


def firehose_delivery_policy(domain_arn: str, bucket_arn: str, key_arn: str, region: str) -> str:
    """What the Firehose stream needs: index into one domain, back failed records up to one bucket under one key."""
    return _document([
        {"Effect": "Allow", "Action": ["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig",
                                       "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpGet"],
         "Resource": [domain_arn, f"{domain_arn}/*"]},
        {"Effect": "Allow", "Action": list(FIREHOSE_VPC_ACTIONS), "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject",
                                       "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject"],
         "Resource": [bucket_arn, f"{bucket_arn}/*"]},
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": f"{bucket_arn}/*"}}},
    ])


def domain_access_policy(domain_arn: str, principal_arns: Sequence[str]) -> str:
    """The domain's resource policy: only these IAM principals may send it HTTP requests (fine-grained access
    control then decides what each may read or write)."""
    return _document([{"Effect": "Allow", "Principal": {"AWS": list(principal_arns)}, "Action": "es:ESHttp*",
                       "Resource": f"{domain_arn}/*"}])


def opensearch_log_policy(log_group_arns: Sequence[str], domain_arn: str, account_id: str) -> str:
    """The CloudWatch Logs resource policy that lets one OpenSearch domain publish its logs to these groups."""
    return _document([{
        "Effect": "Allow",
        "Principal": {"Service": "es.amazonaws.com"},
        "Action": ["logs:PutLogEvents", "logs:CreateLogStream"],
        "Resource": [f"{arn}:*" for arn in log_group_arns],
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": domain_arn}},
    }])


def deny_insecure_transport(bucket_arn: str) -> dict[str, Any]:
    """The bucket-policy statement refusing every request made without TLS (Security Hub S3.5)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def tls_only_bucket_policy(bucket_arn: str) -> str:
    """A bucket policy that only refuses requests made without TLS."""
    return _document([deny_insecure_transport(bucket_arn)])


def access_log_bucket_policy(bucket_arn: str, prefixes: Sequence[str], region: str, account_id: str) -> str:
    """Allow ELB to write access logs under each of ``prefixes`` (one per ALB); refuse any non-TLS request."""
    if isinstance(prefixes, str) or not prefixes:
        raise ValueError(f"prefixes must be a non-empty sequence of prefixes, got {prefixes!r}")
    paths = [f"{bucket_arn}/{prefix}/AWSLogs/{account_id}/*" for prefix in prefixes]
    objects: str | list[str] = paths[0] if len(paths) == 1 else paths
    partition = bucket_arn.split(":")[1]
    account_delivery = [
        {
            "Sid": "ElbAccountDelivery",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::{ELB_LOG_ACCOUNTS[region]}:root"},
            "Action": "s3:PutObject",
            "Resource": objects,
        }
    ] if region in ELB_LOG_ACCOUNTS else []
    return _document([
        *account_delivery,
        {
            "Sid": "ElbServiceDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": objects,
        },
        deny_insecure_transport(bucket_arn),
    ])
