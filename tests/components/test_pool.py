"""The ingress pool under Pulumi mocks: as many ALBs as the tenants' budgets need, each tenant on its own.

Three tenants with a full ALB's budget each (100 target groups, 100 rules)
need three ALBs; one of them is pinned to ALB 3. The owner and each tenant are
planned as `make plan` plans them, the tenants reading the owner's outputs.
"""

from __future__ import annotations

import json

import pytest

from odyssey.domain.naming import LOAD_BALANCER_TAG
from odyssey.ops.offline.plan import run_plan
from tests.plans import (
    ALB,
    BUCKET,
    CERT,
    EGRESS_RULE,
    INGRESS_RULE,
    LISTENER,
    ROOT,
    SECURITY_GROUP,
    by_urn,
    of_type,
    one,
    plan_config,
)

TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
RULE = "aws:lb/listenerRule:ListenerRule"
RECORD = "aws:route53/record:Record"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OWNER = "acme/odyssey/test"  # given as a reference: the plan answers it with the outputs given here
ZONE = "Z0123456789ABCDEFGHIJ"
FULL = {"targetGroups": 100, "rules": 100}
REGISTRY = {
    "test": {"slot": 1, "hosts": ["test.example.com"], **FULL},
    "alpha": {"slot": 2, "hosts": ["alpha.example.com", "*.alpha.example.com"], **FULL, "loadBalancer": 3},
    "beta": {"slot": 3, "hosts": ["beta.example.com"], **FULL},
}
EXPECTED = {"test": 1, "alpha": 3, "beta": 2}  # first-fit in slot order, after alpha's pin


def services(host: str, count: int = 1) -> dict:
    """``count`` small public services on ``host``, the first with request-count autoscaling."""
    found = {f"web{i}": {"image": "acme/web:1.0.0", "cpu": 128, "memory": 256, "port": 8080,
                         "public": {"hosts": [host], "paths": [f"/web{i}/*"]}} for i in range(count)}
    found["web0"]["autoscaling"] = {"minCount": 1, "maxCount": 2, "requestsPerTarget": 500}
    return found


def owner_config(registry: dict, **load_balancer) -> dict:
    return {
        "odyssey:cluster": {"applicationStacks": registry},
        "odyssey:loadBalancer": {"certificateArn": CERT, **load_balancer},
        "odyssey:services": services("test.example.com"),
    }


def tenant_plan(stack: str, owner, config: dict):
    return plan_config({"odyssey:clusterStack": OWNER, **config}, stack=stack,
                       references={OWNER: owner.outputs})


@pytest.fixture(scope="module")
def owner():
    return plan_config(owner_config(REGISTRY))


@pytest.fixture(scope="module")
def tenants(owner):
    hosts = {"alpha": "api.alpha.example.com", "beta": "beta.example.com"}
    return {stack: tenant_plan(stack, owner, {"odyssey:services": services(host)}) for stack, host in hosts.items()}


def albs(plan) -> dict[str, dict]:
    """The plan's ALBs by their component's name (ingress, ingress-2, ...)."""
    found = by_urn(plan)
    return {found[alb["parent"]]["name"]: alb for alb in of_type(plan, ALB)}


def listeners_of(plan, alb: dict) -> dict[float, dict]:
    return {l["inputs"]["port"]: l for l in of_type(plan, LISTENER) if l["parent"] == alb["parent"]}


def test_three_full_budgets_make_three_albs_with_the_same_settings(owner):
    pool = albs(owner)
    assert sorted(pool) == ["ingress", "ingress-2", "ingress-3"]
    assert [pool[n]["inputs"]["name"] for n in ("ingress", "ingress-2", "ingress-3")] == [
        "odyssey-test", "odyssey-test--2", "odyssey-test--3"]
    settings = ("loadBalancerType", "internal", "subnets", "dropInvalidHeaderFields", "desyncMitigationMode",
                "enableDeletionProtection", "enableHttp2", "idleTimeout")
    first = pool["ingress"]["inputs"]
    for alb in pool.values():
        assert {k: alb["inputs"][k] for k in settings} == {k: first[k] for k in settings}
        assert alb["inputs"]["enableDeletionProtection"] is True and alb["inputs"]["accessLogs"]["enabled"] is True
        listeners = listeners_of(owner, alb)
        assert sorted(listeners) == [80.0, 443.0]
        https = listeners[443.0]["inputs"]
        assert (https["protocol"], https["certificateArn"], https["sslPolicy"]) == (
            "HTTPS", CERT, "ELBSecurityPolicy-TLS13-1-2-2021-06")
        assert https["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
        assert listeners[80.0]["inputs"]["defaultActions"][0]["redirect"] == {
            "protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


def test_the_pool_shares_alb_1s_protected_log_bucket_each_alb_under_its_prefix(owner):
    bucket = one(owner, BUCKET)
    assert bucket["protect"] is True
    pool = albs(owner)
    assert {n: a["inputs"]["accessLogs"]["prefix"] for n, a in pool.items()} == {
        "ingress": "alb", "ingress-2": "alb/ingress-2", "ingress-3": "alb/ingress-3"}
    assert len({a["inputs"]["accessLogs"]["bucket"] for a in pool.values()}) == 1
    assert all(a["propertyDependencies"]["accessLogs"] == [bucket["urn"]] for a in pool.values())
    policy = one(owner, BUCKET_POLICY)
    assert all(policy["urn"] in a["dependencies"] for a in pool.values())  # ELB checks it may write first
    resources = {r for s in json.loads(policy["inputs"]["policy"])["Statement"] if s["Effect"] == "Allow"
                 for r in s["Resource"]}
    assert {r.split(":::", 1)[1].split("/", 1)[1] for r in resources} == {
        "alb/AWSLogs/123456789012/*", "alb/ingress-2/AWSLogs/123456789012/*", "alb/ingress-3/AWSLogs/123456789012/*"}


def test_the_instances_admit_each_alb_and_each_alb_reaches_them(owner):
    groups = {r["name"]: r for r in of_type(owner, SECURITY_GROUP)}
    instances = groups["cluster-instances"]
    alb_groups = {groups[f"{n}-sg"]["urn"] for n in ("ingress", "ingress-2", "ingress-3")}
    ingress = [r for r in of_type(owner, INGRESS_RULE) if r["propertyDependencies"].get("securityGroupId") == [instances["urn"]]]
    assert sorted(r["name"] for r in ingress) == ["cluster-from-alb", "cluster-from-alb-2", "cluster-from-alb-3"]
    assert {r["propertyDependencies"]["referencedSecurityGroupId"][0] for r in ingress} == alb_groups
    egress = [r for r in of_type(owner, EGRESS_RULE) if "referencedSecurityGroupId" in r["propertyDependencies"]]
    assert sorted(r["name"] for r in egress) == [
        "cluster-alb-2-to-instances", "cluster-alb-3-to-instances", "cluster-alb-to-instances"]
    assert {r["propertyDependencies"]["securityGroupId"][0] for r in egress} == alb_groups
    assert all(r["propertyDependencies"]["referencedSecurityGroupId"] == [instances["urn"]] for r in egress)
    assert all((r["inputs"]["fromPort"], r["inputs"]["toPort"]) == (32768.0, 65535.0) for r in ingress + egress)


def test_the_owner_exports_each_tenants_alb_listeners_and_dns_name(owner):
    balancers = owner.outputs["loadBalancers"]
    assert len(balancers) == 3 and len({b["dnsName"] for b in balancers}) == 3
    assert {s: t["loadBalancer"] for s, t in owner.outputs["tenancies"].items()} == EXPECTED
    for stack, index in EXPECTED.items():
        alb = balancers[index - 1]
        assert owner.outputs["ingress"][stack] == {
            "loadBalancer": index, "dnsName": alb["dnsName"], "zoneId": alb["zoneId"],
            "httpsListenerArn": alb["httpsListenerArn"], "httpListenerArn": alb["httpListenerArn"]}
    # ALB 1 is the one the outputs named before the pool.
    assert (owner.outputs["albDnsName"], owner.outputs["httpsListenerArn"]) == (
        balancers[0]["dnsName"], balancers[0]["httpsListenerArn"])


@pytest.mark.parametrize("stack", sorted(EXPECTED))
def test_each_tenant_routes_on_its_alb_and_a_pinned_one_on_its_pin(owner, tenants, stack):
    plan = owner if stack == "test" else tenants[stack]
    alb = owner.outputs["loadBalancers"][EXPECTED[stack] - 1]
    tag = {LOAD_BALANCER_TAG: str(EXPECTED[stack])}
    (rule,) = of_type(plan, RULE)
    assert rule["inputs"]["listenerArn"] == alb["httpsListenerArn"] and rule["inputs"]["tags"] == tag
    (group,) = of_type(plan, TARGET_GROUP)
    assert group["inputs"]["tags"] == tag
    # Request-count scaling and the target alarms measure the tenant's own ALB.
    (requests,) = [p for p in of_type(plan, SCALING_POLICY) if p["name"].endswith("scaling-requests")]
    label = requests["inputs"]["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]["resourceLabel"]
    assert label.startswith(alb["arnSuffix"] + "/targetgroup/")
    target_alarms = [a for a in of_type(plan, ALARM) if a["inputs"].get("namespace") == "AWS/ApplicationELB"]
    assert len(target_alarms) == 2
    assert all(a["inputs"]["dimensions"]["LoadBalancer"] == alb["arnSuffix"] for a in target_alarms)
    tenancy = one(plan, "odyssey:app:AppStack")["inputs"]["tenancy"]
    assert tenancy == {"stack": stack, "targetGroups": 100.0, "rules": 100.0, "cpu": tenancy["cpu"],
                       "memory": tenancy["memory"], "loadBalancer": float(EXPECTED[stack])}
    assert tenancy["cpu"] > 0 and tenancy["memory"] > 0


def test_without_a_hosted_zone_no_records(owner):
    assert not of_type(owner, RECORD)


def test_a_hosted_zone_gets_an_alias_per_allotted_host_to_its_tenants_alb():
    plan = plan_config(owner_config(REGISTRY, hostedZoneId=ZONE))
    records = {r["inputs"]["name"]: r["inputs"] for r in of_type(plan, RECORD)}
    hosts = {"test.example.com": "test", "alpha.example.com": "alpha", "*.alpha.example.com": "alpha",
             "beta.example.com": "beta"}
    assert sorted(records) == sorted(hosts)
    balancers = plan.outputs["loadBalancers"]
    for host, stack in hosts.items():
        alb = balancers[EXPECTED[stack] - 1]
        assert (records[host]["zoneId"], records[host]["type"]) == (ZONE, "A")
        assert records[host]["aliases"] == [
            {"name": alb["dnsName"], "zoneId": alb["zoneId"], "evaluateTargetHealth": True}]


def test_tenants_without_an_allotment_get_no_records():
    plan = plan_config(owner_config({"test": {"slot": 1, "hosts": ["test.example.com"]}, "beta": 2},
                                    hostedZoneId=ZONE))
    assert [r["inputs"]["name"] for r in of_type(plan, RECORD)] == ["test.example.com"]


# ---------------------------------------------------------------- the committed stacks: one ALB, as before

@pytest.fixture(scope="module")
def committed():
    return {stack: run_plan(ROOT, stack) for stack in ("prod", "stage")}


def test_the_committed_prod_plan_still_has_exactly_one_alb(committed):
    prod = committed["prod"]
    assert [a["name"] for a in of_type(prod, ALB)] == ["ingress-alb"]
    assert len(prod.outputs["loadBalancers"]) == 1 and not of_type(prod, RECORD)
    assert {s: i["loadBalancer"] for s, i in prod.outputs["ingress"].items()} == {"prod": 1, "stage": 1}


def test_priorities_are_unique_per_listener_across_the_tenants_of_one_alb(committed):
    """prod and stage share ALB 1; so do two stacks with many services each."""
    config = owner_config({"test": {"slot": 1, "hosts": ["test.example.com"]},
                           "gamma": {"slot": 2, "hosts": ["gamma.example.com"]}})
    # Twelve services each need more than the default cluster's share after losing a zone: bigger nodes.
    config["odyssey:cluster"]["instanceType"] = "m7i.2xlarge"
    owner = plan_config({**config, "odyssey:services": services("test.example.com", 12)})
    gamma = tenant_plan("gamma", owner, {"odyssey:services": services("gamma.example.com", 12)})
    for plans in ((committed["prod"], committed["stage"]), (owner, gamma)):
        rules = [(r["inputs"]["listenerArn"], r["inputs"]["priority"]) for plan in plans for r in of_type(plan, RULE)]
        assert len({listener for listener, _ in rules}) == 1
        assert len(rules) == len(set(rules)) == sum(len(of_type(plan, TARGET_GROUP)) for plan in plans)


def test_services_register_their_reservation_for_the_policy_pack(committed):
    found = {r["name"]: r["inputs"]["reservation"] for r in of_type(committed["prod"], "odyssey:service:Service")}
    assert found == {
        "app-web": {"cpu": 256.0, "memory": 512.0, "count": 2.0, "public": True},  # autoscaled: its minimum
        "app-api": {"cpu": 512.0, "memory": 1024.0, "count": 2.0, "public": True},
        "app-catalog": {"cpu": 256.0, "memory": 768.0, "count": 2.0, "public": False},
        "app-worker": {"cpu": 256.0, "memory": 512.0, "count": 2.0, "public": False},
    }
    stage = one(committed["stage"], "odyssey:app:AppStack")["inputs"]["tenancy"]
    assert stage == {"stack": "stage", **{k: committed["prod"].outputs["tenancies"]["stage"][k]
                                          for k in ("targetGroups", "rules", "cpu", "memory", "loadBalancer")}}
    assert all(r["inputs"]["tags"] == {LOAD_BALANCER_TAG: "1"}
               for plan in committed.values() for r in of_type(plan, RULE) + of_type(plan, TARGET_GROUP))


def test_without_a_certificate_every_alb_of_the_pool_serves_http_and_rules_use_it():
    plan = plan_config({**owner_config({"test": {"slot": 1, **FULL}, "beta": {"slot": 2, **FULL}}),
                        "odyssey:loadBalancer": {"deletionProtection": False}})
    pool = albs(plan)
    assert sorted(pool) == ["ingress", "ingress-2"]
    for alb in pool.values():
        (listener,) = listeners_of(plan, alb).values()
        assert listener["inputs"]["port"] == 80.0
        assert listener["inputs"]["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    (rule,) = of_type(plan, RULE)
    assert rule["inputs"]["listenerArn"] == plan.outputs["loadBalancers"][0]["httpListenerArn"]
    assert plan.outputs["ingress"]["beta"]["httpsListenerArn"] is None


def test_the_tenancy_prop_is_plain_numbers_even_from_a_stack_reference():
    """Numbers cross a StackReference as floats; the prop carries them as the owner allotted them."""
    from dataclasses import fields

    from components.app.app_stack import allotted_tenancy
    from odyssey.contract import MachineLayerOutputs

    values = {f.name: None for f in fields(MachineLayerOutputs)}
    values["tenancies"] = {"stage": {"slot": 2.0, "targetGroups": 20.0, "rules": 30.0, "cpu": 2048.0,
                                     "memory": None, "loadBalancer": 2.0}}
    tenancy = allotted_tenancy(MachineLayerOutputs(**values), "stage")
    assert tenancy == {"stack": "stage", "targetGroups": 20, "rules": 30, "cpu": 2048, "memory": None,
                       "loadBalancer": 2}
    assert all(type(v) is int for k, v in tenancy.items() if k not in ("stack", "memory"))


def test_each_alb_of_the_pool_has_its_own_web_acl_and_waf_log_group(owner):
    pool = albs(owner)
    associations = [r for r in owner.resources if r["type"] == "aws:wafv2/webAclAssociation:WebAclAssociation"]
    assert sorted(a["propertyDependencies"]["resourceArn"][0] for a in associations) == sorted(
        alb["urn"] for alb in pool.values())
    acls = sorted(r["inputs"]["name"] for r in owner.resources if r["type"] == "aws:wafv2/webAcl:WebAcl")
    assert acls == ["odyssey-test", "odyssey-test--2", "odyssey-test--3"]
    groups = sorted(g["inputs"]["name"] for g in of_type(owner, "aws:cloudwatch/logGroup:LogGroup")
                    if g["inputs"]["name"].startswith("aws-waf-logs-"))
    assert groups == [f"aws-waf-logs-{name}" for name in acls]
