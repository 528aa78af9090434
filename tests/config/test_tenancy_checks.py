"""Tenancy checks: the owner's registry against its ingress and cluster, and each stack against its tenancy.

Each bad input is one Problem naming the key, what is wrong (with the limit) and a valid example.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odyssey.config.base import ConfigError
from odyssey.config.checks import configured_zones, node_offer, owner_pool, tenant_problems
from odyssey.config.stack import parse_stack_config
from odyssey.domain.naming import StackNames
from odyssey.domain.tenancy import Headroom, Reservation
from tests.config.test_app_config import only_problem

REGISTRY = "odyssey:cluster.applicationStacks"
OWNER = "organization/odyssey/prod"
BASE = {"region": "us-east-1", "tags": {"department": "platform", "contact": "ops@example.com"}}
# Two public services and a worker: 3 x 256 CPU units and 3 x 512 MiB at one task each.
SERVICES = {
    "web": {"image": "nginx:1.27.2", "port": 80, "public": {"hosts": ["www.example.com"]}},
    "api": {"image": "acme/api:1.0.0", "port": 8080, "public": {"paths": ["/api/*"]}},
    "worker": {"image": "acme/worker:1.0.0", "command": ["./work"]},
}


def owner(registry, cluster=None, **sections):
    return {**BASE, "cluster": {"applicationStacks": registry, **(cluster or {})}, **sections}


def tenant(services=None, **sections):
    """Stage's config: SERVICES on stage.example.com, with ``services`` added or replaced."""
    own = copy.deepcopy(SERVICES) | {"web": {**SERVICES["web"], "public": {"hosts": ["stage.example.com"]}}}
    return {**BASE, "clusterStack": OWNER, "app": {"defaultHosts": ["stage.example.com"]},
            "services": own | (services or {}), **sections}


def check(problem, key, fragments, example):
    assert problem.key == key, str(problem)
    for fragment in fragments:
        assert fragment in problem.message, str(problem)
    assert problem.example is not None and example in problem.example, str(problem)


# ---------------------------------------------------------------- the owner's registry


OWNER_CASES = [
    ("overlapping allotments",
     owner({"prod": {"slot": 1, "hosts": ["*.example.com"]}, "stage": {"slot": 2, "hosts": ["stage.example.com"]}}),
     f"{REGISTRY}.stage.hosts", ["allots stage.example.com to stage", "overlaps *.example.com, allotted to prod"],
     f'{REGISTRY}.stage.hosts: ["stage.example.net"]'),
    ("the same host twice",
     owner({"prod": {"slot": 1, "hosts": ["www.example.com"]}, "stage": {"slot": 2, "hosts": ["www.example.com"]}}),
     f"{REGISTRY}.stage.hosts", ["overlaps www.example.com, allotted to prod"], '["stage.example.com"]'),
    ("a namespace another stack uses",
     owner({"prod": 1, "stage": {"slot": 2, "namespace": "prod.odyssey.internal"}}),
     f"{REGISTRY}.stage.namespace", ["prod.odyssey.internal, which is prod's", "Route 53"],
     f'{REGISTRY}.stage.namespace: "stage.odyssey.internal"'),
    # The stack whose default a namespace is keeps it, whatever its slot.
    ("a namespace that is another stack's default",
     owner({"prod": {"slot": 1, "namespace": "stage.odyssey.internal"}, "stage": 2}),
     f"{REGISTRY}.prod.namespace", ["stage.odyssey.internal, which is stage's"],
     f'{REGISTRY}.prod.namespace: "prod.odyssey.internal"'),
    ("more target groups than an ALB holds",
     owner({"prod": 1, "stage": {"slot": 2, "targetGroups": 150}}),
     f"{REGISTRY}.stage.targetGroups", ["is 150", "at most 100 target groups", "cannot be raised"],
     f"{REGISTRY}.stage.targetGroups: 20"),
    ("more rules than the account's quota",
     owner({"prod": 1, "stage": {"slot": 2, "rules": 150}}),
     f"{REGISTRY}.stage.rules", ["150 rules", "one ALB holds 100"], f"{REGISTRY}.stage.rules: 100"),
    ("more rules than a slot orders",
     owner({"prod": 1, "stage": {"slot": 2, "rules": 3000}}, loadBalancer={"rulesQuota": 5000}),
     f"{REGISTRY}.stage.rules", ["is 3000", "at most 2,500 rules"], f"{REGISTRY}.stage.rules: 20"),
    ("pinned stacks that overfill their ALB",
     owner({"prod": {"slot": 1, "targetGroups": 60, "loadBalancer": 1},
            "stage": {"slot": 2, "targetGroups": 60, "loadBalancer": 1}}),
     f"{REGISTRY}.stage.loadBalancer", ["pins stage (60 target groups, 20 rules) to load balancer 1",
                                        "prod already take 60 target groups and 20 rules of its 100 and 100"],
     f"{REGISTRY}.stage.loadBalancer: 2"),
    ("a hosted zone id that isn't one",
     owner({"prod": 1}, loadBalancer={"hostedZoneId": "example.com"}),
     "odyssey:loadBalancer.hostedZoneId", ["'example.com' is not a Route 53 hosted zone id"],
     "odyssey:loadBalancer.hostedZoneId: \"Z0123456789ABCDEFGHIJ\""),
    # m7i.large: 2,048 CPU units a node; minSize 4 over 3 zones keeps 2 nodes after losing the zone of 2.
    ("quotas over the cluster's headroom",
     owner({"prod": {"slot": 1, "cpu": 8192}, "stage": {"slot": 2, "cpu": 2048}}),
     REGISTRY, [f"{REGISTRY}.prod.cpu 8,192 + {REGISTRY}.stage.cpu 2,048 = 10,240 CPU units",
                "above the 4,096 the cluster guarantees with minSize 4 over 3 zones",
                "losing its largest zone (2 of the 4 m7i.large nodes"],
     "odyssey:cluster.minSize: 8"),
    ("quotas that need a bigger group than maxSize",
     owner({"prod": {"slot": 1, "memory": 200_000}}),
     REGISTRY, [f"{REGISTRY}.prod.memory 200,000 = 200,000 MiB", "above the 14,744"],
     "odyssey:cluster.minSize: 42 (and maxSize: 42)"),
    ("an open quota left nothing",
     owner({"prod": {"slot": 1, "cpu": 4096}, "stage": 2}),
     REGISTRY, ["stage has no cpu quota of its own", "share the 0 CPU units", "a share of 0"],
     # A node's worth for stage: 6,144 CPU units after losing a zone.
     "odyssey:cluster.minSize: 5"),
    ("an unregistered owner",
     {**owner({"stage": 2}), "services": SERVICES, "app": {"defaultHosts": ["www.example.com"]}},
     REGISTRY, ["not this stack (prod)"], f'{REGISTRY}: {{"prod": 1}}'),
    ("a host longer than an ALB condition value",
     owner({"prod": {"slot": 1, "hosts": ["a" * 60 + "." + "b" * 60 + ".example.com"]}}),
     f"{REGISTRY}.prod.hosts", ["longer than the 128 characters"], '["stage.example.com"'),
]


@pytest.mark.parametrize("label, raw, key, fragments, example", OWNER_CASES, ids=[c[0] for c in OWNER_CASES])
def test_each_owner_problem_is_one_clear_problem(label, raw, key, fragments, example):
    check(only_problem(raw), key, fragments, example)


def test_the_examples_fix_the_owner_problems():
    """Applying the suggested pin and minimum size gives a registry the owner accepts."""
    parse_stack_config(owner({"prod": {"slot": 1, "targetGroups": 60, "loadBalancer": 1},
                              "stage": {"slot": 2, "targetGroups": 60, "loadBalancer": 2}}), stack="prod")
    parse_stack_config(owner({"prod": {"slot": 1, "cpu": 8192}, "stage": {"slot": 2, "cpu": 2048}},
                             {"minSize": 8}), stack="prod")
    parse_stack_config(owner({"prod": {"slot": 1, "cpu": 4096}, "stage": 2}, {"minSize": 6}), stack="prod")


def test_several_owner_problems_are_reported_together():
    with pytest.raises(ConfigError) as error:
        parse_stack_config(owner({"prod": {"slot": 1, "hosts": ["www.example.com"], "cpu": 100_000},
                                  "stage": {"slot": 2, "hosts": ["www.example.com"], "rules": 101}}), stack="prod")
    assert sorted(p.key for p in error.value.problems) == [REGISTRY, f"{REGISTRY}.stage.hosts", f"{REGISTRY}.stage.rules"]


def test_host_daemons_count_against_what_a_node_offers():
    config = parse_stack_config(owner({"prod": 1}, {"daemons": {
        "agent": {"image": "datadog/agent:7.59.0", "cpu": 128, "memory": 256},
        "shipper": {"image": "fluent/fluent-bit:3.1.9", "memory": 128}}}), stack="prod")
    assert node_offer(config) == Reservation(2048 - 128, 7372 - 384)
    assert node_offer(parse_stack_config(owner({"prod": 1}, {"instanceType": "p5.48xlarge"}), stack="prod")) is None


@pytest.mark.parametrize("network, zones", [
    (None, 3),
    ({"availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]}, 4),
    ({"existing": {"vpcId": "vpc-0a1b2c3d", "publicSubnetIds": ["subnet-1a2b3c4d", "subnet-2a2b3c4d"],
                   "privateSubnetIds": ["subnet-0a1b2c3d", "subnet-1a1b2c3d", "subnet-2a1b2c3d", "subnet-3a1b2c3d"]}}, 4),
])
def test_zones_at_config_time_are_the_most_the_config_allows(network, zones):
    raw = owner({"prod": 1}) | ({"network": network} if network else {})
    assert configured_zones(parse_stack_config(raw)) == zones


def test_more_zones_guarantee_more_so_the_config_time_check_never_refuses_what_the_placement_accepts():
    # 8 nodes over 4 zones keep 6 after a loss, over 3 zones only 5.
    fits_four_zones = owner({"prod": {"slot": 1, "cpu": 6 * 2048}}, {"minSize": 8},
                            network={"availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"]})
    config = parse_stack_config(fits_four_zones, stack="prod")
    assert owner_pool(config, StackNames("odyssey", "prod"), 4).quotas["prod"] == Reservation(12288, 2 * 7372 * 3)
    with pytest.raises(ConfigError, match="above the 10,240 the cluster guarantees with minSize 8 over 3 zones"):
        owner_pool(config, StackNames("odyssey", "prod"), 3)


def test_the_pool_resolves_open_quotas_to_equal_shares_of_the_guarantee():
    config = parse_stack_config(owner({"prod": {"slot": 1, "cpu": 2048}, "stage": 2, "qa": 3}, {"minSize": 6}),
                                stack="prod")
    pool = owner_pool(config, StackNames("odyssey", "prod"), 3)
    guaranteed = Headroom.of(Reservation(2048, 7372), 6, 3).zone_lost
    assert guaranteed == Reservation(8192, 29488)
    assert pool.quotas == {"prod": Reservation(2048, 29488 // 3), "stage": Reservation(3072, 29488 // 3),
                           "qa": Reservation(3072, 29488 // 3)}


# ---------------------------------------------------------------- each stack against its tenancy

STAGE = StackNames("odyssey", "stage")


def registry(**stage):
    """What an owner exports (``Pool.outputs``): prod on www, stage on stage.example.com, with stage's changes."""
    return {
        "prod": {"slot": 1, "hosts": ["www.example.com"], "targetGroups": 20, "rules": 20, "cpu": 4096,
                 "memory": 8192, "loadBalancer": 1, "namespace": "prod.odyssey.internal"},
        "stage": {"slot": 2, "hosts": ["stage.example.com"], "targetGroups": 10, "rules": 10, "cpu": 2048,
                  "memory": 4096, "loadBalancer": 1, "namespace": "stage.odyssey.internal", **stage},
    }


def tenant_problem(raw, tenancies):
    problems = tenant_problems(parse_stack_config(raw, stack="stage"), STAGE, tenancies, OWNER)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_a_stack_within_its_tenancy_has_no_problems():
    assert tenant_problems(parse_stack_config(tenant(), stack="stage"), STAGE, registry(), OWNER) == []


def public(count):
    """``count`` tiny public services on the default hosts, one path each."""
    return {f"svc-{i}": {"image": "acme/svc:1.0.0", "port": 80, "cpu": 0, "memory": 8,
                         "public": {"paths": [f"/svc-{i}/*"]}} for i in range(count)}


TENANT_CASES = [
    ("a host of another stack's allotment", tenant(services={"web": SERVICES["web"]}), registry(),
     "odyssey:services.web.public.hosts",
     ["routes www.example.com", "outside this stack's allotted hosts (stage.example.com)", "stack prod is allotted it"],
     'odyssey:services.web.public.hosts: ["stage.example.com"]'),
    ("default hosts outside the allotment", tenant(app={"defaultHosts": ["api.example.org"]}), registry(),
     "odyssey:app.defaultHosts", ["routes api.example.org", "outside this stack's allotted hosts",
                                  f"{REGISTRY}.stage.hosts in {OWNER}'s config"],
     'odyssey:app.defaultHosts: ["stage.example.com"]'),
    ("a wildcard allotment's example names the service", tenant(app={"defaultHosts": ["api.example.org"]}),
     registry(hosts=["*.stage.example.com", "stage.example.com"]), "odyssey:app.defaultHosts", ["api.example.org"],
     '["api.stage.example.com"]'),
    ("a host another stack is allotted, without an allotment", tenant(app={"defaultHosts": ["www.example.com"]}),
     registry(hosts=[]), "odyssey:app.defaultHosts", ["belongs to stack prod's allotted hosts (www.example.com)"],
     '["stage.example.com"]'),
    ("public routes over the budget", tenant(services={"api": SERVICES["api"] | {"public": None}} | public(10)), registry(memory=8192), "odyssey:services",
     ["11 public services", "11 target groups and 11 listener rules", "10 target groups and 10 rules",
      f"{REGISTRY}.stage.targetGroups and .rules in {OWNER}'s config"],
     f'in {OWNER}\'s config: {REGISTRY}.stage: {{"slot": 2, "targetGroups": 11, "rules": 11}}'),
    ("public routes over the rules budget alone", tenant(services=public(4)), registry(rules=5, memory=8192), "odyssey:services",
     ["6 public services", "10 target groups and 5 rules"], '"targetGroups": 6, "rules": 6'),
    ("more public services than one ALB holds", tenant(services=public(118)),
     registry(targetGroups=100, rules=100, memory=8192), "odyssey:services",
     ["120 public services", "100 target groups and 100 rules", "make 20 of the services internal"],
     '"targetGroups": 100, "rules": 100'),
    # Three services of 256 CPU units and 512 MiB at two tasks each: 1,536 and 3,072. api at 4 tasks: 2,048 CPU
    # units at desired counts, and 4 more tasks (1,024 and 2,048) while api deploys.
    ("reservations over the quota at desired counts",
     tenant(services={"api": {**SERVICES["api"], "desiredCount": 4}}), registry(cpu=1024),
     "odyssey:services",
     ["reserve 2,048 CPU units and 4,096 MiB at desired counts and 3,072 CPU units and 6,144 MiB while api deploys",
      "above this stack's quota of 1,024 CPU units and 4,096 MiB already at desired counts",
      f"raise {REGISTRY}.stage.cpu and {REGISTRY}.stage.memory in {OWNER}'s config"],
     f"in {OWNER}'s config: {REGISTRY}.stage.cpu: 3072, {REGISTRY}.stage.memory: 6144"),
    ("reservations over the quota during a deploy", tenant(), registry(cpu=1792), "odyssey:services",
     ["reserve 1,536 CPU units and 3,072 MiB at desired counts and 2,048 CPU units and 4,096 MiB while web deploys",
      "(maximumPercent 200: 512 CPU units and 1,024 MiB more)", "quota of 1,792 CPU units and 4,096 MiB during the "
      "deploy", f"raise {REGISTRY}.stage.cpu in"],
     f"in {OWNER}'s config: {REGISTRY}.stage.cpu: 2048"),
    # The worst deploy takes its CPU from one service and its memory from another: web, api and worker add 512 CPU
    # units each, cache (no CPU, 2,048 MiB at one task) the most memory. Over quota on memory, named after cache.
    ("the deploy surge of two different services", tenant(services={"cache": {
        "image": "acme/cache:1.0.0", "cpu": 0, "memory": 2048, "desiredCount": 1}}), registry(memory=6144),
     "odyssey:services",
     ["reserve 1,536 CPU units and 5,120 MiB at desired counts and 2,048 CPU units and 7,168 MiB while cache "
      "deploys", "(maximumPercent 200: 512 CPU units and 2,048 MiB more)", "during the deploy"],
     f"in {OWNER}'s config: {REGISTRY}.stage.memory: 7168"),
    ("a namespace another stack uses", tenant(app={"defaultHosts": ["stage.example.com"],
                                                   "namespace": "prod.odyssey.internal"}),
     registry(), "odyssey:app.namespace", ["is prod.odyssey.internal, the Cloud Map namespace of stack prod",
                                           "Route 53 refuses"], 'odyssey:app.namespace: "stage.odyssey.internal"'),
    ("a namespace other than the registered one", tenant(app={"defaultHosts": ["stage.example.com"],
                                                              "namespace": "stage.internal"}),
     registry(), "odyssey:app.namespace", ["is stage.internal, but the owner registered stage.odyssey.internal",
                                           f"{REGISTRY}.stage.namespace in {OWNER}'s config"],
     'odyssey:app.namespace: "stage.odyssey.internal"'),
    ("an unregistered stack", tenant(), {"prod": registry()["prod"]}, "odyssey:clusterStack",
     ["this stack (stage) is not registered on organization/odyssey/prod's cluster"],
     f'in {OWNER}\'s config: {REGISTRY}: {{"stage": <free slot 1-10>}}'),
]


@pytest.mark.parametrize("label, raw, tenancies, key, fragments, example", TENANT_CASES, ids=[c[0] for c in TENANT_CASES])
def test_each_tenant_problem_is_one_clear_problem(label, raw, tenancies, key, fragments, example):
    check(tenant_problem(raw, tenancies), key, fragments, example)


# ---------------------------------------------------------------- properties the checks rely on


@given(st.integers(1, 10_000), st.integers(1, 60_000), st.integers(0, 200), st.integers(1, 6), st.integers(0, 6))
def test_more_zones_never_guarantee_less(cpu, memory, min_size, zones, more):
    """Why the config-time check may take the most zones the config allows."""
    node = Reservation(cpu, memory)
    fewer, most = Headroom.of(node, min_size, zones).zone_lost, Headroom.of(node, min_size, zones + more).zone_lost
    assert fewer.fits(most)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60_000), st.integers(4, 12), st.sampled_from([3, 4]))
def test_the_suggested_minimum_size_is_the_smallest_that_holds_the_quotas(cpu, min_size, zones):
    raw = owner({"prod": {"slot": 1, "cpu": cpu}}, {"minSize": min_size, "maxSize": 5000},
                network={"availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"][:zones]})
    try:
        parse_stack_config(raw, stack="prod")
    except ConfigError as error:
        (problem,) = error.problems
        size = int(problem.example.removeprefix("odyssey:cluster.minSize: "))
        assert size > min_size
        assert Headroom.of(Reservation(2048, 7372), size, zones).zone_lost.cpu >= cpu
        assert Headroom.of(Reservation(2048, 7372), size - 1, zones).zone_lost.cpu < cpu
        parse_stack_config(raw | {"cluster": raw["cluster"] | {"minSize": size}}, stack="prod")
    else:
        assert Headroom.of(Reservation(2048, 7372), min_size, zones).zone_lost.cpu >= cpu
