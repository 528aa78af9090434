"""The monthly estimate's arithmetic, against figures computed by hand for the committed prod and stage stacks.

Prices are the pinned us-east-1 table (odyssey/domain/prices.json) and the
default assumptions; a month is 730 hours and 730 / 24 = 30.4167 days.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain.cost import (
    FREE,
    PRICED,
    Assumptions,
    PriceTable,
    PriceTableError,
    TenantWeight,
    alarm_metrics,
    alb_shares,
    chargeback,
    compute_shares,
    estimate,
    is_cloud_resource,
    nat_gateways,
    not_counted,
    one_alb_per_service,
    pinned_prices,
    price_tables,
    unclassified_types,
)
from odyssey.ops.offline.plan import run_plan
from tests.plans import ROOT

DAYS = 730 / 24
PRICES = pinned_prices("us-east-1")


@pytest.fixture(scope="module")
def prod():
    return run_plan(ROOT, "prod")


@pytest.fixture(scope="module")
def stage():
    return run_plan(ROOT, "stage")


def by_key(result, scope):
    totals: dict[str, list[float]] = {}
    for line in result.lines:
        if line.scope == scope:
            pair = totals.setdefault(line.key, [0.0, 0.0])
            pair[0] += line.monthly_min
            pair[1] += line.monthly_max
    return {key: tuple(pair) for key, pair in totals.items()}


# prod's shared machine layer: m7i.large at 0.1008/h, minSize 6, maxSize 12, 30 GiB gp3 roots, 3 zones OnePerAz,
# one internet-facing ALB over 3 subnets, 2 cluster alarms, and log search (odyssey:logSearch in Pulumi.prod.yaml):
# an OpenSearch domain of 3 r6g.large.search data nodes with 100 GiB gp3 each and 3 m6g.large.search masters,
# its KMS key, its audit and error log groups, a Firehose stream and its backup bucket. The security baseline
# (issue 10): the ALB's WAF web ACL logging to aws-waf-logs-odyssey-prod, the logs key and the ECS Exec key, and
# odyssey:securityLogRetentionDays (365) on the flow logs, Exec, search-audit and WAF log groups.
PROD_CLUSTER = {
    "ec2Instances": (6 * 0.1008 * 730, 12 * 0.1008 * 730),          # 441.504 .. 883.008
    "ebsRootVolumes": (6 * 30 * 0.08, 12 * 30 * 0.08),              # 14.40 .. 28.80
    "natGatewayHours": (3 * 0.045 * 730,) * 2,                      # 98.55
    "natGatewayData": (3 * 30 * 0.045,) * 2,                        # 4.05: 30 GB per gateway assumed
    "natPublicIpv4": (3 * 0.005 * 730,) * 2,                        # 10.95: one EIP per gateway
    "albHours": (0.0225 * 730,) * 2,                                # 16.425
    "albLcus": (1 * 0.008 * 730,) * 2,                              # 5.84: 1 LCU assumed
    "albPublicIpv4": (3 * 0.005 * 730,) * 2,                        # 10.95: one address per subnet
    # the cluster alarms topic's key, the domain's, the logs key and the ECS Exec key
    "kmsKeys": (4 * 1.0,) * 2,
    # CPUReservation + MemoryReservation, + 2 alarms AWS makes for the capacity provider's managed scaling
    "alarms": ((2 + 2) * 0.10,) * 2,
    "containerInsightsMetrics": (11 * 0.30,) * 2,                   # the cluster's metrics
    # ecs-exec, hosts, search-audit, search-errors and aws-waf-logs-odyssey-prod at 0.01 GB/day: ingested for a
    # month, stored for each group's own retention: ecs-exec, search-audit and WAF 365 days (security logs),
    # hosts and search-errors 90 (odyssey:logRetentionDays)
    "logIngestion": (5 * 0.01 * DAYS * 0.50,) * 2,                  # 0.7604
    "logStorage": (0.01 * (365 + 90 + 365 + 90 + 365) * 0.03,) * 2,  # 0.01 x 1275 GB-days x 0.03 = 0.3825
    "flowLogDelivery": (0.5 * DAYS * 0.50,) * 2,                    # 0.5 GB/day vended to CloudWatch Logs
    "flowLogStorage": (0.5 * 365 * 0.03,) * 2,                      # 5.475: kept 365 days (a security log)
    # one web ACL (one per ALB of the pool) with 4 rules: the 3 AWS managed rule group references (each billed as
    # one rule) and the rate-based rule
    "wafWebAcls": (1 * 5.0,) * 2,
    "wafRules": ((3 + 1) * 1.0,) * 2,
    # the domain's lines have no price in the table (its notFound): 0 here, quantities in the test below
    "opensearchInstances": (0.0, 0.0),
    "opensearchStorage": (0.0, 0.0),
    "firehoseIngestion": (1.0 * DAYS * 0.029,) * 2,                 # 0.8821: 1 GB/day assumed
    "albAccessLogs": (0.1 * 90 * 0.023,) * 2,                       # 0.207: access logs expire after 90 days
    "s3Storage": (0.1 * 30 * 0.023,) * 2,                           # 0.069: the backup bucket expires after 30 days
}

# An application stack of 4 services (web, api autoscaled from 2; catalog, worker 2 each), 3 with discovery:
# 8 alarms (5xx and unhealthy for web and api: 1 metric each; below-desired for all 4: 2 metrics each)
# and 3 target-tracking policies (2 alarms each).
PROD_STACK = {
    "kmsKeys": (1.0,) * 2,
    "alarms": ((4 * 1 + 4 * 2 + 3 * 2) * 0.10,) * 2,                # 18 metrics: 1.80
    "containerInsightsMetrics": (4 * 21 * 0.30,) * 2,               # 25.20
    "containerInsightsLogs": (4 * 0.05 * DAYS * 0.50,) * 2,
    # /odyssey/prod/app: 4 services x 0.1 GB/day kept 90 days; the event-stream audit group 0.01 GB/day kept 365
    # (a security log)
    "logIngestion": ((4 * 0.1 + 0.01) * DAYS * 0.50,) * 2,
    "logStorage": ((4 * 0.1 * 90 + 0.01 * 365) * 0.03,) * 2,        # (36 + 3.65) x 0.03 = 1.1895
    "cloudMapNamespaces": (0.50,) * 2,                              # one private hosted zone
    "cloudMapInstances": ((2 + 2 + 2) * 0.10,) * 2,                 # web, api, catalog tasks at desired count
}

# stage: the same services at 1 task each (4 alarms of 1 metric, 4 of 2, no autoscaling), app logs kept 30 days,
# its event audit log 365 (the security retention's default; stage sets no securityLogRetentionDays).
STAGE_STACK = {
    "kmsKeys": (1.0,) * 2,
    "alarms": ((4 * 1 + 4 * 2) * 0.10,) * 2,
    "containerInsightsMetrics": (4 * 21 * 0.30,) * 2,
    "containerInsightsLogs": (4 * 0.05 * DAYS * 0.50,) * 2,
    "logIngestion": ((4 * 0.1 + 0.01) * DAYS * 0.50,) * 2,
    "logStorage": ((4 * 0.1 * 30 + 0.01 * 365) * 0.03,) * 2,        # (12 + 3.65) x 0.03 = 0.4695
    "cloudMapNamespaces": (0.50,) * 2,
    "cloudMapInstances": (3 * 0.10,) * 2,
}


def assert_lines(actual, expected):
    assert set(actual) == set(expected)
    for key, (low, high) in expected.items():
        assert actual[key] == pytest.approx((low, high), abs=1e-9), key


def test_prod_shared_machine_layer_lines(prod):
    assert_lines(by_key(estimate("prod", prod.resources, PRICES), "cluster"), PROD_CLUSTER)


def test_prod_application_stack_lines(prod):
    assert_lines(by_key(estimate("prod", prod.resources, PRICES), "stack"), PROD_STACK)


def test_stage_has_only_its_own_lines(stage):
    result = estimate("stage", stage.resources, PRICES)
    assert by_key(result, "cluster") == {}
    assert_lines(by_key(result, "stack"), STAGE_STACK)


def test_prod_log_search_domain_is_unpriced_with_its_quantities(prod):
    result = estimate("prod", prod.resources, PRICES)
    # 3 data nodes and 3 dedicated masters (instance-hours at 730 h each), 3 x 100 GiB of gp3
    assert [(line.label, line.quantity_min, line.quantity_max, line.unit_usd, line.monthly_min, line.monthly_max)
            for line in result.unpriced()] == [
        ("OpenSearch r6g.large.search instances", 3.0, 3.0, None, 0.0, 0.0),
        ("OpenSearch m6g.large.search instances", 3.0, 3.0, None, 0.0, 0.0),
        ("OpenSearch gp3 storage", 300.0, 300.0, None, 0.0, 0.0),
    ]
    assert all(line.scope == "cluster" and line.resources == ("log-search-domain",) for line in result.unpriced())
    assert not_counted(result.unpriced()) == (
        "not counted: 3 unpriced lines (OpenSearch r6g.large.search instances, OpenSearch m6g.large.search "
        "instances, OpenSearch gp3 storage)")
    assert estimate("stage", [], PRICES).unpriced() == [] and not_counted([]) == ""


def test_prod_total_is_the_sum_of_the_hand_computed_lines(prod):
    low, high = estimate("prod", prod.resources, PRICES).total()
    lines = list(PROD_CLUSTER.values()) + list(PROD_STACK.values())
    assert (low, high) == pytest.approx((sum(v[0] for v in lines), sum(v[1] for v in lines)))
    # cluster 634.7492 .. 1090.6532: the 619.1976 .. 1075.1016 before the security baseline + 15.5516 (2 keys 2.00,
    # the WAF's web ACL 5.00 and 4 rules 4.00, its log group's ingestion 0.01 x 30.4167 x 0.50 = 0.1521, log
    # storage 0.3825 - 0.108 = 0.2745, flow log storage 5.475 - 1.35 = 4.125)
    # + the stack's own 39.5666 (39.4841 + the audit log's 0.01 x (365 - 90) x 0.03 = 0.0825)
    assert round(low, 2) == 674.32 and round(high, 2) == 1130.22


# ---------------------------------------------------------------- every type is decided on


def test_every_type_the_plans_create_is_priced_or_listed_free(prod, stage):
    assert unclassified_types(prod.resources) == []
    assert unclassified_types(stage.resources) == []
    assert not set(PRICED) & set(FREE)


def test_a_new_type_is_reported_not_silently_free():
    record = {"type": "aws:rds/instance:Instance", "custom": True, "urn": "u", "name": "db"}
    assert unclassified_types([record]) == ["aws:rds/instance:Instance"]
    assert is_cloud_resource({"type": "awsx:ec2:Vpc", "custom": False, "remote": True})
    assert not is_cloud_resource({"type": "odyssey:app:AppStack", "custom": False, "remote": False})


@pytest.mark.parametrize("type_", [
    "aws:wafv2/webAcl:WebAcl", "aws:kms/key:Key", "aws:opensearch/domain:Domain",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
])
def test_the_types_other_issues_add_are_priced_already(type_):
    assert type_ in PRICED


# ---------------------------------------------------------------- single lines


@pytest.mark.parametrize("inputs, count", [
    ({"natGateways": {"strategy": "OnePerAz"}, "availabilityZoneNames": ["a", "b", "c"]}, 3),
    ({"natGateways": {"strategy": "OnePerAz"}, "numberOfAvailabilityZones": 4.0}, 4),
    ({"natGateways": {"strategy": "Single"}, "availabilityZoneNames": ["a", "b", "c"]}, 1),
    ({"natGateways": {"strategy": "None"}}, 0),
    ({}, 3),  # awsx's defaults: one per zone over 3 zones
])
def test_nat_gateways_follow_the_strategy_and_zones(inputs, count):
    assert nat_gateways(inputs) == count


def test_a_metric_math_alarm_is_billed_per_metric_it_lists():
    assert alarm_metrics({"metricName": "CPUReservation"}) == 1
    queries = [{"id": "a", "metric": {}}, {"id": "b", "metric": {}}, {"id": "e", "expression": "a - b"}]
    assert alarm_metrics({"metricQueries": queries}) == 2


def record(type_, name, **inputs):
    return {"type": type_, "name": name, "urn": f"urn::{name}", "custom": True, "parent": None, "inputs": inputs}


def test_waf_is_the_web_acl_and_each_rule():
    group = {"name": "core", "statement": {"managedRuleGroupStatement": {"vendorName": "AWS",
                                                                         "name": "AWSManagedRulesCommonRuleSet"}}}
    acl = record("aws:wafv2/webAcl:WebAcl", "waf", rules=[group, {"name": "b"}, {"name": "c"}])
    lines = {line.key: line.monthly_min for line in estimate("x", [acl], PRICES).lines}
    # the managed rule group is billed as one rule, not per rule it holds
    assert lines == {"wafWebAcls": 5.0, "wafRules": 3 * 1.0}


def test_each_log_group_is_stored_for_its_own_retention():
    groups = [record("aws:cloudwatch/logGroup:LogGroup", n, retentionInDays=d)
              for n, d in (("audit", 365.0), ("app", 30.0), ("forever", None))]
    (_, storage) = estimate("x", groups, PRICES).lines
    # 0.01 GB/day each: 365 + 30 days, and a year for the group that never expires
    assert storage.quantity_min == pytest.approx(0.01 * (365 + 30 + 365))


def test_a_price_missing_from_the_table_is_an_unpriced_line_not_a_silent_zero():
    domain = record("aws:opensearch/domain:Domain", "search",
                    clusterConfig={"instanceType": "r6g.large.search", "instanceCount": 3.0},
                    ebsOptions={"ebsEnabled": True, "volumeSize": 100.0, "volumeType": "gp3"})
    lines = estimate("x", [domain], PRICES).lines
    assert [(line.key, line.quantity_min) for line in lines] == [("opensearchInstances", 3.0),
                                                                  ("opensearchStorage", 300.0)]
    assert all(line.unpriced and line.monthly_min == 0 for line in lines)


def test_an_instance_type_without_a_price_is_named():
    group = record("aws:autoscaling/group:Group", "nodes", minSize=4.0, maxSize=8.0)
    template = record("aws:ec2/launchTemplate:LaunchTemplate", "lt", instanceType="c7i.large")
    line = estimate("x", [group, template], PRICES).lines[0]
    assert line.unpriced == "no price ec2.instance.c7i.large in the us-east-1 table"


def test_firehose_ingestion_is_the_assumed_volume():
    stream = record("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "logs")
    (line,) = estimate("x", [stream], PRICES, Assumptions(firehose_gb_per_day=2.0)).lines
    assert line.monthly_min == pytest.approx(2.0 * DAYS * 0.029)


def test_the_albs_access_log_bucket_is_its_own_line_and_other_buckets_are_storage():
    logs, backup = record("aws:s3/bucket:Bucket", "logs"), record("aws:s3/bucket:Bucket", "backup")
    alb = record("aws:lb/loadBalancer:LoadBalancer", "alb", accessLogs={"enabled": True, "bucket": "logs-1"})
    alb["propertyDependencies"] = {"accessLogs": ["urn::logs"]}
    lines = {line.key: (line.quantity_min, line.resources) for line in estimate("x", [alb, logs, backup], PRICES).lines
             if line.key in ("albAccessLogs", "s3Storage")}
    # no lifecycle configuration: each bucket holds a year of 0.1 GB/day
    assert lines == {"albAccessLogs": (0.1 * 365, ("logs",)), "s3Storage": (0.1 * 365, ("backup",))}


# ---------------------------------------------------------------- chargeback and the counterfactual

PROD = TenantWeight("prod", cpu=4096, memory=8192, rules={1: 2})
STAGE = TenantWeight("stage", cpu=2048, memory=4096, rules={1: 2})


def test_the_committed_tenants_split_two_thirds_and_half():
    assert compute_shares([PROD, STAGE]) == pytest.approx({"prod": 2 / 3, "stage": 1 / 3})
    assert alb_shares([PROD, STAGE], 1) == pytest.approx({"prod": 0.5, "stage": 0.5})


def test_chargeback_of_the_committed_cluster(prod, stage):
    shared = [line for line in estimate("prod", prod.resources, PRICES).lines if line.scope == "cluster"]
    # the ALB's hours, LCU, addresses, access logs and its WAF (web ACL 5 + 4 rules): 33.422 + 9 = 42.422, split by
    # rules (the backup bucket and the WAF log group are not in it)
    alb = 0.0225 * 730 + 0.008 * 730 + 3 * 0.005 * 730 + 0.1 * 90 * 0.023 + 5.0 + 4 * 1.0
    rest_low = sum(v[0] for v in PROD_CLUSTER.values()) - alb                # 592.3272: split by CPU and memory
    rest_high = sum(v[1] for v in PROD_CLUSTER.values()) - alb               # 1048.2312
    charges = {c.stack: c for c in chargeback(shared, [PROD, STAGE], 1, {"prod": (39.57, 39.57)})}
    assert charges["prod"].shared == pytest.approx((rest_low * 2 / 3 + alb / 2,     # 416.10
                                                    rest_high * 2 / 3 + alb / 2))   # 720.03
    assert charges["stage"].shared == pytest.approx((rest_low / 3 + alb / 2,        # 218.65
                                                     rest_high / 3 + alb / 2))      # 370.62
    assert charges["stage"].own is None and charges["stage"].total == charges["stage"].shared
    assert charges["prod"].total[0] == pytest.approx(charges["prod"].shared[0] + 39.57)


def test_on_a_pool_each_alb_is_split_among_the_tenants_on_it():
    a = TenantWeight("a", 1024, 1024, {1: 3})
    b = TenantWeight("b", 1024, 1024, {1: 1})
    c = TenantWeight("c", 2048, 2048, {2: 5})
    # ALB 1 (half the pool): a 3/4, b 1/4; ALB 2: c alone
    assert alb_shares([a, b, c], 2) == pytest.approx({"a": 0.375, "b": 0.125, "c": 0.5})


weights = st.lists(st.tuples(st.integers(1, 10**5), st.integers(1, 10**6), st.integers(0, 100), st.integers(1, 3)),
                   min_size=1, max_size=8)


@given(weights, st.integers(1, 3))
def test_shares_always_sum_to_the_whole(values, pool):
    tenants = [TenantWeight(f"t{i}", cpu, mem, {min(alb, pool): rules}) for i, (cpu, mem, rules, alb) in
               enumerate(values)]
    assert sum(compute_shares(tenants).values()) == pytest.approx(1)
    assert sum(alb_shares(tenants, pool).values()) == pytest.approx(1)


def test_one_alb_per_public_service_against_the_shared_one():
    # 4 public services (web and api in prod and in stage), each ALB: hours + 1 LCU + 3 public addresses
    result = one_alb_per_service(4, 3, PRICES, Assumptions(), shared=33.42)
    assert result.per_alb == pytest.approx(730 * (0.0225 + 0.008 + 3 * 0.005))     # 33.215
    assert result.one_per_service == pytest.approx(4 * 33.215)                      # 132.86
    assert result.to_json()["savingMonthly"] == pytest.approx(132.86 - 33.42)


# ---------------------------------------------------------------- the pinned table


def test_the_table_covers_every_region_the_readme_names():
    regions = set(re.findall(r"\b(?:us|eu|ap|ca|sa|me|af|il)-[a-z]+-\d\b", (ROOT / "README.md").read_text()))
    assert regions, "the README names a region"
    for region in regions:
        assert pinned_prices(region).region == region


def test_every_figure_has_a_date_and_a_source():
    for table in price_tables(json.loads((ROOT / "odyssey/domain/prices.json").read_text())).values():
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", table.date)
        for key, price in table.prices.items():
            assert price.usd > 0, key
            assert price.page.startswith("https://aws.amazon.com/"), key
            assert price.service_code and price.seen_in and price.unit, key


def test_an_unpinned_region_is_a_clear_error():
    with pytest.raises(PriceTableError, match="no pinned prices for eu-north-1"):
        pinned_prices("eu-north-1")


def test_a_malformed_table_is_named():
    with pytest.raises(PriceTableError, match="prices for us-east-1: malformed"):
        price_tables({"regions": {"us-east-1": {"date": "2026-11-26", "prices": {"x": {"usd": 1}}}}})


def test_estimates_carry_the_table_date():
    table = PriceTable("us-east-1", "2026-01-01", {})
    assert estimate("x", [], table).price_date == "2026-01-01"
