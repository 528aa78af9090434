"""Log search planned offline: prod's domain, stream, bucket and subscriptions (stage's in stage's plan), all
protected in prod; turned off, all of it goes and nothing else changes."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from odyssey.ops.offline.plan import run_plan
from odyssey.ops.offline.plan_diff import diff_plans
from tests.plans import ROOT, of_type, one, plan_config

DOMAIN = "aws:opensearch/domain:Domain"
STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
FILTER = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
BUCKET = "aws:s3/bucket:Bucket"
KEY = "aws:kms/key:Key"
LOG_SEARCH = "odyssey:machine:LogSearch"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OWNER = "organization/odyssey/prod"


def by_name(plan, typ: str, name: str) -> dict:
    (found,) = [r for r in of_type(plan, typ) if r["name"] == name]
    return found


def committed(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]


def without_log_search(config: dict) -> dict:
    return {k: v for k, v in copy.deepcopy(config).items() if k != "odyssey:logSearch"}


@pytest.fixture(scope="module")
def prod():
    return run_plan(ROOT, "prod")


@pytest.fixture(scope="module")
def prod_off():
    return plan_config(without_log_search(committed("prod")), stack="prod")


@pytest.fixture(scope="module")
def stage(prod):
    return run_plan(ROOT, "stage", references={OWNER: prod.outputs})


def test_prod_has_it_on_and_stage_has_it_from_its_owner():
    assert "odyssey:logSearch" in committed("prod") and "odyssey:logSearch" not in committed("stage")


def test_the_domain(prod):
    domain = one(prod, DOMAIN)
    inputs = domain["inputs"]
    assert inputs["domainName"] == "odyssey-prod-logs" and inputs["engineVersion"] == "OpenSearch_2.19"
    assert inputs["clusterConfig"] == {
        "instanceType": "r6g.large.search", "instanceCount": 3.0, "zoneAwarenessEnabled": True,
        "zoneAwarenessConfig": {"availabilityZoneCount": 3.0}, "dedicatedMasterEnabled": True,
        "dedicatedMasterCount": 3.0, "dedicatedMasterType": "m6g.large.search"}
    assert inputs["ebsOptions"] == {"ebsEnabled": True, "volumeType": "gp3", "volumeSize": 100.0}
    key = by_name(prod, KEY, "log-search-key")
    assert inputs["encryptAtRest"]["enabled"] is True
    assert inputs["encryptAtRest"]["kmsKeyId"].startswith("arn:aws:kms:us-east-1:123456789012:key/log-search-key-")
    assert key["inputs"]["enableKeyRotation"] is True
    assert inputs["nodeToNodeEncryption"] == {"enabled": True}
    assert inputs["domainEndpointOptions"] == {"enforceHttps": True, "tlsSecurityPolicy": "Policy-Min-TLS-1-2-PFS-2023-10"}
    security = inputs["advancedSecurityOptions"]
    assert security["enabled"] is True and security["internalUserDatabaseEnabled"] is False
    assert security["masterUserOptions"]["masterUserArn"].startswith("arn:aws:iam::123456789012:role/log-search-admin")
    assert {o["logType"] for o in inputs["logPublishingOptions"]} == {"AUDIT_LOGS", "ES_APPLICATION_LOGS"}
    assert inputs["snapshotOptions"] == {"automatedSnapshotStartHour": 3.0}


def test_the_domain_is_in_three_private_subnets_behind_its_own_group(prod):
    inputs = one(prod, DOMAIN)["inputs"]
    assert len(inputs["vpcOptions"]["subnetIds"]) == 3
    assert set(inputs["vpcOptions"]["subnetIds"]) <= set(prod.outputs["privateSubnetIds"])
    groups = {r["name"]: r for r in of_type(prod, "aws:ec2/securityGroup:SecurityGroup")}
    rules = [r["inputs"] for r in of_type(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r["name"].startswith("log-search")]
    # HTTPS only: from Firehose's interfaces and from the operators' network, nothing else.
    assert sorted((r.get("cidrIpv4") or "delivery", r["fromPort"], r["toPort"]) for r in rules) == [
        ("10.100.0.0/16", 443.0, 443.0), ("delivery", 443.0, 443.0)]
    assert "log-search-domain" in groups and "log-search-delivery" in groups


def test_the_stream_delivers_to_the_domain_from_the_vpc_and_backs_up_failures(prod):
    stream = one(prod, STREAM)
    config = stream["inputs"]["opensearchConfiguration"]
    assert stream["inputs"]["destination"] == "opensearch"
    assert config["domainArn"] == "arn:aws:es:us-east-1:123456789012:domain/odyssey-prod-logs"
    assert config["s3BackupMode"] == "FailedDocumentsOnly"
    assert config["vpcConfig"]["subnetIds"] == one(prod, DOMAIN)["inputs"]["vpcOptions"]["subnetIds"]
    assert config["processingConfiguration"]["processors"] == [
        {"type": "Decompression", "parameters": [{"parameterName": "CompressionFormat", "parameterValue": "GZIP"}]}]
    assert config["s3Configuration"]["bucketArn"].startswith("arn:aws:s3:::log-search-backup-")
    encryption = by_name(prod, SSE, "log-search-backup")["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]
    assert encryption == {"sseAlgorithm": "aws:kms",
                          "kmsMasterKeyId": one(prod, DOMAIN)["inputs"]["encryptAtRest"]["kmsKeyId"]}
    assert by_name(prod, PAB, "log-search-backup")["inputs"] == {
        "bucket": config["s3Configuration"]["bucketArn"].removeprefix("arn:aws:s3:::"), "blockPublicAcls": True,
        "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}
    policy = json.loads(by_name(prod, "aws:s3/bucketPolicy:BucketPolicy", "log-search-backup")["inputs"]["policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_roles_are_scoped_to_the_stream_and_the_domain(prod):
    policies = {r["name"]: json.loads(r["inputs"]["policy"]) for r in of_type(prod, "aws:iam/rolePolicy:RolePolicy")
                if r["name"].startswith("log-search")}
    stream_arn = prod.outputs["logSearchStreamArn"]
    assert policies["log-search-subscription"]["Statement"] == [
        {"Effect": "Allow", "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"], "Resource": [stream_arn]}]
    delivery = policies["log-search-delivery"]["Statement"]
    assert delivery[0]["Resource"] == ["arn:aws:es:us-east-1:123456789012:domain/odyssey-prod-logs",
                                       "arn:aws:es:us-east-1:123456789012:domain/odyssey-prod-logs/*"]


def test_every_log_group_of_prod_and_the_hosts_is_subscribed(prod):
    filters = {r["inputs"]["logGroup"]: r for r in of_type(prod, FILTER)}
    assert sorted(filters) == ["/aws/events/odyssey/prod/ecs", "/odyssey/prod/app", "/odyssey/prod/hosts"]
    for record in filters.values():
        assert record["inputs"]["destinationArn"] == prod.outputs["logSearchStreamArn"]
        assert record["inputs"]["roleArn"] == prod.outputs["logSearchRoleArn"]
        assert record["inputs"]["name"] == "odyssey-prod-log-search" and record["inputs"]["filterPattern"] == ""


def test_stage_subscribes_its_own_groups_to_prods_stream(stage, prod):
    filters = {r["inputs"]["logGroup"]: r["inputs"] for r in of_type(stage, FILTER)}
    assert sorted(filters) == ["/aws/events/odyssey/stage/ecs", "/odyssey/stage/app"]
    assert {(f["destinationArn"], f["roleArn"]) for f in filters.values()} == {
        (prod.outputs["logSearchStreamArn"], prod.outputs["logSearchRoleArn"])}
    assert of_type(stage, DOMAIN) == [] and of_type(stage, STREAM) == []


def test_outputs(prod, stage):
    assert prod.outputs["logSearchEndpoint"].endswith(".us-east-1.es.amazonaws.com")
    assert prod.outputs["logSearchDashboardsUrl"] == f"https://{prod.outputs['logSearchEndpoint']}/_dashboards"
    assert stage.outputs["logSearchStreamArn"] == prod.outputs["logSearchStreamArn"]


def test_everything_of_it_is_protected_in_prod(prod):
    search = [r for r in prod.resources if LOG_SEARCH in r["urn"] or r["type"] == FILTER]
    must = {DOMAIN, STREAM, FILTER, BUCKET, KEY, "aws:cloudwatch/logGroup:LogGroup"}
    assert must <= {r["type"] for r in search}
    assert all(r["protect"] for r in search if r["type"] in must), [r["name"] for r in search
                                                                      if r["type"] in must and not r["protect"]]
    # Data holders outlive a deliberate destroy; the stream and the filters do not linger.
    assert all(r["retainOnDelete"] for r in search if r["type"] in must - {STREAM, FILTER})
    assert not any(r["retainOnDelete"] for r in search if r["type"] in (STREAM, FILTER))


def test_turning_it_off_removes_all_of_it_and_nothing_else(prod, prod_off):
    diff = diff_plans(prod_off.to_json(), prod.to_json())
    assert diff.deleted == [] and diff.changed == {} and diff.aliased == {}
    assert diff.components_created == ["urn:pulumi:prod::odyssey::odyssey:machine:LogSearch::log-search"]
    assert all(LOG_SEARCH in urn or FILTER in urn for urn in diff.created), diff.created
    assert len(diff.created) == 26
    assert of_type(prod_off, DOMAIN) == [] and of_type(prod_off, FILTER) == []
    assert prod_off.outputs["logSearchStreamArn"] is None


def test_a_tenant_of_an_owner_without_it_subscribes_nothing(prod_off):
    plan = plan_config(without_log_search(committed("stage")), stack="stage",
                       on_monitor=lambda m: m.mocks.stack_outputs.update({OWNER: prod_off.outputs}))
    assert of_type(plan, FILTER) == []


def test_an_existing_vpc_puts_the_domain_in_one_subnet_per_zone():
    config = without_log_search(committed("prod")) | {"odyssey:logSearch": True}
    config["odyssey:network"] = {"existing": {
        "vpcId": "vpc-0a1b2c3d4e5f67890",
        "privateSubnetIds": ["subnet-0000000a", "subnet-0000000b", "subnet-0000000c", "subnet-0000000d"],
        "publicSubnetIds": ["subnet-1000000a", "subnet-1000000b"]}}
    zones = {"subnet-0000000a": "us-east-1a", "subnet-0000000b": "us-east-1a", "subnet-0000000c": "us-east-1b",
             "subnet-0000000d": "us-east-1c", "subnet-1000000a": "us-east-1a", "subnet-1000000b": "us-east-1b"}

    def existing(monitor):
        monitor.mocks.subnet_zones.update(zones)
        monitor.mocks.subnet_vpcs.update(dict.fromkeys(zones, "vpc-0a1b2c3d4e5f67890"))

    plan = plan_config(config, stack="prod", on_monitor=existing)
    assert one(plan, DOMAIN)["inputs"]["vpcOptions"]["subnetIds"] == [
        "subnet-0000000a", "subnet-0000000c", "subnet-0000000d"]


def test_a_tenant_of_an_owner_deployed_before_log_search_subscribes_nothing(prod):
    older = {name: value for name, value in prod.outputs.items() if not name.startswith("logSearch")}
    plan = plan_config(without_log_search(committed("stage")), stack="stage",
                       on_monitor=lambda m: m.mocks.stack_outputs.update({OWNER: older}))
    assert of_type(plan, FILTER) == [] and plan.outputs["logSearchStreamArn"] is None
