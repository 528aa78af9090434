"""Log search decisions: engine versions, instance types, volumes, nodes, masters, subnets, names, IAM documents."""

from __future__ import annotations

import json
import re

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain import iam
from odyssey.domain.log_search import (
    ENGINE_VERSIONS,
    INSTANCE_TYPES,
    MAX_DATA_NODES,
    VOLUME_LIMITS_GIB,
    data_nodes_problem,
    dedicated_master_type,
    domain_subnets,
    engine_version_problem,
    instance_type_problem,
    subscription_filter_name,
    volume_problem,
)
from odyssey.domain.naming import StackNames


def test_engine_versions():
    assert engine_version_problem("OpenSearch_2.19") is None
    assert engine_version_problem("OpenSearch_3.1") is None
    assert "is not an OpenSearch version" in engine_version_problem("OpenSearch_2.20")
    assert "is not an OpenSearch version" in engine_version_problem("Elasticsearch_7.10")


def test_engine_versions_match_the_api_pattern():
    # botocore's ListVersions model: the service's version strings are 14-18 characters of this form.
    shape = botocore.session.get_session().get_service_model("opensearch").shape_for("VersionString")
    for version in ENGINE_VERSIONS:
        assert shape.metadata["min"] <= len(version) <= shape.metadata["max"], version


def test_every_supported_type_the_api_model_lists_is_spelled_as_it_spells_it():
    # botocore ships the service's instance type enum, which stops before the 7th generation (the API takes any
    # string): every type of the older families must be in it, so no typo in the table can reach AWS.
    enum = set(botocore.session.get_session().get_service_model("opensearch")
               .shape_for("OpenSearchPartitionInstanceType").enum)
    listed_families = {t.split(".", 1)[0] for t in enum}
    older = {t for t in INSTANCE_TYPES if t.split(".", 1)[0] in listed_families}
    assert {t.split(".", 1)[0] for t in older} == {"m5", "m6g", "c5", "c6g", "r5", "r6g", "or1"}
    assert older <= enum, sorted(older - enum)


@pytest.mark.parametrize("instance_type, fragment", [
    ("r7g.large.search", None),
    ("or1.medium.search", None),
    ("r7g.large", "did you mean 'r7g.large.search'?"),
    ("m7i.large", "they end in '.search'"),
    ("t3.small.search", "no burstable or instance-storage types"),
    ("i3.large.search", "no burstable or instance-storage types"),
    ("r7g.huge.search", "Odyssey supports"),
])
def test_instance_types(instance_type, fragment):
    problem = instance_type_problem(instance_type)
    assert (problem is None) if fragment is None else (fragment in problem), problem


def test_a_plain_ec2_type_without_a_search_twin_gets_no_suggestion():
    assert "did you mean" not in instance_type_problem("x2idn.large")


@pytest.mark.parametrize("count, ok", [(3, True), (6, True), (78, True), (0, False), (1, False), (2, False),
                                       (4, False), (5, False), (81, False)])
def test_data_nodes(count, ok):
    assert (data_nodes_problem(count) is None) == ok


def test_data_nodes_messages():
    assert data_nodes_problem(4) == ("is 4; the domain spreads its data nodes over 3 availability zones, so it "
                                     "needs a multiple of 3 (at least 3)")
    assert "at most 80 instances" in data_nodes_problem(84)


@given(st.integers(min_value=-10, max_value=300))
def test_data_nodes_property(count):
    assert (data_nodes_problem(count) is None) == (count >= 3 and count % 3 == 0 and count <= MAX_DATA_NODES)


@pytest.mark.parametrize("instance_type, gib, ok", [
    ("r7g.large.search", 10, True), ("r7g.large.search", 1536, True), ("r7g.large.search", 1537, False),
    ("r7g.large.search", 9, False), ("c5.large.search", 256, True), ("c5.large.search", 257, False),
    ("or1.medium.search", 19, False), ("or1.medium.search", 20, True), ("r6g.large.search", 2048, True),
    ("no-such.search", 5, True),  # the type's own problem is reported, not this one
])
def test_volume_limits(instance_type, gib, ok):
    assert (volume_problem(instance_type, gib) is None) == ok


def test_volume_message():
    assert volume_problem("r7g.large.search", 2000) == ("is 2000 GiB; a r7g.large.search data node takes a gp3 "
                                                        "volume of 10 to 1,536 GiB")


def test_every_limit_is_a_range():
    assert all(0 < low < high for low, high in VOLUME_LIMITS_GIB.values())


@pytest.mark.parametrize("data_nodes, master", [
    (3, "m6g.large.search"), (9, "m6g.large.search"), (10, "m6g.large.search"), (12, "c6g.2xlarge.search"),
    (30, "c6g.2xlarge.search"), (33, "c6g.4xlarge.search"), (78, "r6g.2xlarge.search"),
    (126, "r6g.4xlarge.search"), (200, "r6g.4xlarge.search"),
])
def test_dedicated_master_type_follows_aws_sizing(data_nodes, master):
    assert dedicated_master_type(data_nodes) == master


def test_no_master_type_past_the_table():
    with pytest.raises(ValueError, match="no master type past 200"):
        dedicated_master_type(201)


def test_master_types_are_supported_types():
    assert all(instance_type_problem(dedicated_master_type(n)) is None for n in (3, 12, 33, 78, 126))


def test_domain_subnets_new_vpc_takes_the_first_three():
    assert domain_subnets(["a", "b", "c", "d"]) == ["a", "b", "c"]


def test_domain_subnets_existing_vpc_takes_one_per_zone():
    zones = {"a": "us-east-1a", "b": "us-east-1a", "c": "us-east-1b", "d": "us-east-1c", "e": "us-east-1d"}
    assert domain_subnets(["a", "b", "c", "d", "e"], zones) == ["a", "c", "d"]


def test_domain_subnets_need_three_zones():
    with pytest.raises(ValueError, match="span 2 zone"):
        domain_subnets(["a", "b", "c"], {"a": "z1", "b": "z1", "c": "z2"})


def test_names():
    assert subscription_filter_name("odyssey-prod") == "odyssey-prod-log-search"


# ---------------------------------------------------------------- IAM documents

DOMAIN = "arn:aws:es:us-east-1:123456789012:domain/odyssey-prod-logs"
BUCKET = "arn:aws:s3:::odyssey-prod-log-search-backup"
KEY = "arn:aws:kms:us-east-1:123456789012:key/0a1b"
STREAM = "arn:aws:firehose:us-east-1:123456789012:deliverystream/odyssey-prod-log-search"


def test_logs_subscription_trust_policy():
    assert json.loads(iam.logs_subscription_trust_policy("us-east-1", "123456789012")) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole",
                       "Condition": {"StringLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:123456789012:*"}}}],
    }


def test_firehose_put_policy():
    assert json.loads(iam.firehose_put_policy(STREAM))["Statement"] == [
        {"Effect": "Allow", "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"], "Resource": [STREAM]}]


def test_firehose_delivery_policy():
    statements = json.loads(iam.firehose_delivery_policy(DOMAIN, BUCKET, KEY, "us-east-1"))["Statement"]
    assert statements == [
        {"Effect": "Allow", "Action": ["es:DescribeDomain", "es:DescribeDomains", "es:DescribeDomainConfig",
                                       "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpGet"],
         "Resource": [DOMAIN, f"{DOMAIN}/*"]},
        {"Effect": "Allow", "Action": list(iam.FIREHOSE_VPC_ACTIONS), "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject",
                                       "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:PutObject"],
         "Resource": [BUCKET, f"{BUCKET}/*"]},
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": KEY,
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": f"{BUCKET}/*"}}},
    ]
    # Nothing but the network interfaces' actions reaches beyond the stream's own resources.
    assert [s["Action"] for s in statements if s["Resource"] == "*"] == [list(iam.FIREHOSE_VPC_ACTIONS)]


def test_domain_access_policy():
    roles = ["arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/b"]
    assert json.loads(iam.domain_access_policy(DOMAIN, roles))["Statement"] == [
        {"Effect": "Allow", "Principal": {"AWS": roles}, "Action": "es:ESHttp*", "Resource": f"{DOMAIN}/*"}]


def test_opensearch_log_policy():
    groups = ["arn:aws:logs:us-east-1:123456789012:log-group:/o/p/search-audit",
              "arn:aws:logs:us-east-1:123456789012:log-group:/o/p/search-errors"]
    assert json.loads(iam.opensearch_log_policy(groups, DOMAIN, "123456789012"))["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "es.amazonaws.com"},
        "Action": ["logs:PutLogEvents", "logs:CreateLogStream"], "Resource": [f"{g}:*" for g in groups],
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}, "ArnLike": {"aws:SourceArn": DOMAIN}},
    }]


def test_account_trust_policy():
    assert json.loads(iam.account_trust_policy("123456789012"))["Statement"] == [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]


def test_tls_only_bucket_policy():
    assert json.loads(iam.tls_only_bucket_policy(BUCKET))["Statement"] == [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [BUCKET, f"{BUCKET}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]


# ---------------------------------------------------------------- names

DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9-]{2,27}$")  # "Creating and managing Amazon OpenSearch Service domains"
FIREHOSE_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")  # botocore: DeliveryStreamName


def test_log_search_names_of_prod():
    names = StackNames("odyssey", "prod")
    assert (names.log_search_domain, names.log_search_stream) == ("odyssey-prod-logs", "odyssey-prod-log-search")
    assert (names.log_search_audit_log_group, names.log_search_error_log_group) == (
        "/odyssey/prod/search-audit", "/odyssey/prod/search-errors")
    assert names.log_search_log_policy_name == "odyssey-prod-search-logs"


@given(st.text(alphabet="abcXYZ019_.-", min_size=1, max_size=100), st.text(alphabet="abcXYZ019_.-", min_size=1,
                                                                            max_size=100))
def test_log_search_names_are_valid_for_any_project_and_stack(project, stack):
    names = StackNames(project, stack)
    assert DOMAIN_NAME.match(names.log_search_domain), names.log_search_domain
    assert FIREHOSE_NAME.match(names.log_search_stream), names.log_search_stream
