"""Stack configuration: every structurally impossible value is one clear problem, before anything registers."""


import pytest
import yaml

from odyssey.config.base import ConfigError
from odyssey.config.machine import ClusterConfig, LoadBalancerConfig, NetworkConfig
from odyssey.config.stack import parse_stack_config, raw_from_pulumi_config
from odyssey.domain.invariants import (
    AWS_LIFETIME_MAX_SECONDS,
    AWS_LIFETIME_MIN_SECONDS,
    DAILY_CYCLE_SECONDS,
    MIN_AVAILABILITY_ZONES,
    MIN_INSTANCES,
)
from tests.plans import ROOT

BASE = {"region": "us-east-1", "tags": {"department": "platform", "contact": "ops@example.com"}}
CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


def with_(**sections):
    return {**BASE, **sections}


def only_problem(raw):
    with pytest.raises(ConfigError) as error:
        parse_stack_config(raw)
    problems = error.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_defaults_satisfy_the_organisation_invariants():
    config = parse_stack_config(BASE)
    assert config.owns_cluster
    cluster = config.cluster_config
    assert cluster.min_size >= MIN_INSTANCES and cluster.max_size >= cluster.min_size
    assert cluster.max_instance_lifetime_seconds == DAILY_CYCLE_SECONDS
    assert config.network_config.nat_gateways == "OnePerAz"
    assert config.load_balancer_config.deletion_protection is True
    assert config.protect_stateful_resources is True


@pytest.mark.parametrize(
    "raw, key, fragment, example",
    [
        # wrong types
        (with_(cluster={"minSize": "four"}), "odyssey:cluster.minSize", "valid integer", "odyssey:cluster.minSize: 4"),
        (with_(cluster={"minSize": True}), "odyssey:cluster.minSize", "valid integer", "odyssey:cluster.minSize: 4"),
        (with_(cluster={"minSize": 4.5}), "odyssey:cluster.minSize", "valid integer", "4"),
        (with_(loadBalancer={"deletionProtection": "yes"}), "odyssey:loadBalancer.deletionProtection", "valid boolean", "true"),
        (with_(network={"availabilityZones": "us-east-1a"}), "odyssey:network.availabilityZones", "valid list", '["us-east-1a"'),
        (with_(cluster=[]), "odyssey:cluster", "valid dictionary", "odyssey:cluster"),
        # unknown keys (typos)
        (with_(clustr={}), "odyssey:clustr", "did you mean odyssey:cluster?", None),
        (with_(cluster={"minSzie": 4}), "odyssey:cluster.minSzie", "did you mean odyssey:cluster.minSize?", "odyssey:cluster.minSize: 4"),
        (with_(loadBalancer={"certificate": CERT}), "odyssey:loadBalancer.certificate", "did you mean odyssey:loadBalancer.certificateArn?", "certificateArn"),
        # max < min
        (with_(cluster={"minSize": 6, "maxSize": 5}), "odyssey:cluster.maxSize", "below minSize (6)", "odyssey:cluster.maxSize: 12"),
        # lifetime AWS rejects
        (with_(cluster={"maxInstanceLifetimeSeconds": 3600}), "odyssey:cluster.maxInstanceLifetimeSeconds", "86,400 to 31,536,000", "86400"),
        (with_(cluster={"maxInstanceLifetimeSeconds": AWS_LIFETIME_MIN_SECONDS - 1}), "odyssey:cluster.maxInstanceLifetimeSeconds",
         f"{AWS_LIFETIME_MIN_SECONDS:,}", str(DAILY_CYCLE_SECONDS)),
        (with_(cluster={"maxInstanceLifetimeSeconds": AWS_LIFETIME_MAX_SECONDS + 1}), "odyssey:cluster.maxInstanceLifetimeSeconds",
         f"{AWS_LIFETIME_MAX_SECONDS:,}", str(DAILY_CYCLE_SECONDS)),
        # malformed instance types, CIDRs, ARNs
        (with_(cluster={"instanceType": "m7i.lrg"}), "odyssey:cluster.instanceType", "not an EC2 instance type", '"m7i.large"'),
        (with_(network={"cidrBlock": "10.0.0.0/33"}), "odyssey:network.cidrBlock", "not an IPv4 CIDR block", '"10.20.0.0/16"'),
        (with_(network={"cidrBlock": "10.0.0.1/16"}), "odyssey:network.cidrBlock", "host bits set", '"10.20.0.0/16"'),
        (with_(network={"cidrBlock": "10.0.0.0/8"}), "odyssey:network.cidrBlock", "/16 to /24", '"10.20.0.0/16"'),
        (with_(loadBalancer={"certificateArn": "arn:aws:iam::123456789012:server-certificate/x"}), "odyssey:loadBalancer.certificateArn", "not an ACM certificate ARN", "arn:aws:acm:"),
        (with_(loadBalancer={"ingressCidrs": ["everywhere"]}), "odyssey:loadBalancer.ingressCidrs", "'everywhere' is not an IPv4 CIDR block", '["0.0.0.0/0"]'),
        (with_(loadBalancer={"sslPolicy": "ELBSecurityPolicy-2016-08"}), "odyssey:loadBalancer.sslPolicy", "not one of the TLS 1.2/1.3 policies", "TLS13"),
        (with_(loadBalancer={"sslPolicy": "ELBSecurityPolicy-TLS13-1-0-2021-06"}), "odyssey:loadBalancer.sslPolicy", "not one of the TLS 1.2/1.3 policies", "TLS13-1-2"),
        (with_(loadBalancer={"ingressCidrs": ["10.0.0.0/8", "10.0.0.0/8"]}), "odyssey:loadBalancer.ingressCidrs", "10.0.0.0/8 more than once", None),
        (with_(network={"natGateways": "None"}), "odyssey:network.natGateways", "'OnePerAz' or 'Single'", "OnePerAz"),
        ({**BASE, "tags": {**BASE["tags"], "extra": {"cost center": "x"}}}, "odyssey:tags.extra", "not usable tag keys", "CostCenter"),
        ({**BASE, "tags": {**BASE["tags"], "extra": {"aws:owner": "x"}}}, "odyssey:tags.extra", "not starting with 'aws:'", None),
        # availability zones
        (with_(network={"availabilityZones": ["us-east-1a", "us-east-1b", "us-east-1a"]}), "odyssey:network.availabilityZones", "us-east-1a more than once", "us-east-1c"),
        (with_(network={"availabilityZones": ["us-east-1a", "us-east-1b"]}), "odyssey:network.availabilityZones", f"at least {MIN_AVAILABILITY_ZONES}", "us-east-1c"),
        (with_(network={"availabilityZones": ["us-east-1a", "us-east-1b", "useast1c"]}), "odyssey:network.availabilityZones", "'useast1c' is not an availability zone", None),
        # existing VPC
        (with_(network={"existing": {"vpcId": "vpc-123", "privateSubnetIds": ["subnet-0a1b2c3d", "subnet-1a1b2c3d", "subnet-2a1b2c3d"], "publicSubnetIds": ["subnet-1a2b3c4d", "subnet-2a2b3c4d"]}}), "odyssey:network.existing.vpcId", "not a VPC id", "vpc-0a1b2c3d4e5f67890"),
        (with_(network={"existing": {"vpcId": "vpc-0a1b2c3d", "privateSubnetIds": ["subnet-0a1b2c3d", "subnet-0a1b2c3d", "subnet-1a1b2c3d"], "publicSubnetIds": ["subnet-1a2b3c4d", "subnet-2a2b3c4d"]}}), "odyssey:network.existing.privateSubnetIds", "same subnet more than once", None),
        (with_(network={"existing": {"vpcId": "vpc-0a1b2c3d", "privateSubnetIds": ["subnet-0a1b2c3d"], "publicSubnetIds": ["subnet-1a2b3c4d", "subnet-2a2b3c4d"]}}), "odyssey:network.existing.privateSubnetIds", f"at least {MIN_AVAILABILITY_ZONES} items", None),
        (with_(network={"cidrBlock": "10.1.0.0/16", "existing": {"vpcId": "vpc-0a1b2c3d", "privateSubnetIds": ["subnet-0a1b2c3d", "subnet-1a1b2c3d", "subnet-2a1b2c3d"], "publicSubnetIds": ["subnet-1a2b3c4d", "subnet-2a2b3c4d"]}}), "odyssey:network.cidrBlock", "cannot be combined with odyssey:network.existing", '"existing"'),
        (with_(loadBalancer={"certificateArn": CERT.replace("us-east-1", "eu-west-1")}), "odyssey:loadBalancer.certificateArn", "is in eu-west-1, but the load balancer is in us-east-1", "arn:aws:acm:us-east-1:"),
        # bootstrap settings
        (with_(cluster={"ecsConfig": {"ECS_CLUSTER": "x"}}), "odyssey:cluster.ecsConfig", "set by Odyssey", "ECS_RESERVED_MEMORY"),
        (with_(cluster={"sysctls": {"vm.max_map_count": "1; reboot"}}), "odyssey:cluster.sysctls", "not allowed", "vm.max_map_count"),
        (with_(cluster={"sysctls": {"vm": "1"}}), "odyssey:cluster.sysctls", "not a sysctl name", "vm.max_map_count"),
        (with_(cluster={"ecsConfig": {"reserved_memory": "1"}}), "odyssey:cluster.ecsConfig", "not an ECS agent variable", None),
        (with_(cluster={"alarmEmail": "team"}), "odyssey:cluster.alarmEmail", "not an email address", None),
        (with_(cluster={"applicationStacks": {"prod": 11}}), "odyssey:cluster.applicationStacks.prod.slot",
         "less than or equal to 10", None),
        (with_(cluster={"daemons": {"agent": {"image": "datadog/agent:7.59.0", "memory": 256, "environment": {"A-B": "x"}}}}), "odyssey:cluster.daemons.agent.environment", "not valid environment variable names", None),
        (with_(cluster={"daemons": {"agent": {"image": "datadog/agent", "memory": 256}}}), "odyssey:cluster.daemons.agent.image", "has no tag", "nginx:1.27.2"),
        (with_(cluster={"daemons": {"agent": {"image": "datadog/agent:latest", "memory": 256}}}), "odyssey:cluster.daemons.agent.image", "'latest'", None),
        (with_(cluster={"daemons": {"Agent_1": {"image": "datadog/agent:7.59.0", "memory": 256}}}), "odyssey:cluster.daemons", "lowercase letters", None),
        (with_(cluster={"daemons": {"agent": {"image": "datadog/agent:7.59.0"}}}), "odyssey:cluster.daemons.agent.memory", "is required", "256"),
        # stack-level keys
        ({**BASE, "region": "us-east"}, "aws:region", "not an AWS region", "us-east-1"),
        ({"tags": BASE["tags"]}, "aws:region", "is required", "us-east-1"),
        ({**BASE, "tags": {"department": "platform"}}, "odyssey:tags.contact", "is required", "platform-team@example.com"),
        ({**BASE, "tags": {"department": "platform", "contact": "nobody"}}, "odyssey:tags.contact", "not an email address", None),
        (with_(logRetentionDays=31), "odyssey:logRetentionDays", "CloudWatch Logs accepts", "30"),
        (with_(clusterStack="prod"), "odyssey:clusterStack", "<org>/<project>/<stack>", "acme/odyssey/prod"),
        (with_(clusterStack="acme/odyssey/prod", cluster={}), "odyssey:cluster", "configures a cluster this stack would own", "odyssey:clusterStack: acme/odyssey/prod"),
    ],
)
def test_each_bad_value_is_one_clear_problem(raw, key, fragment, example):
    problem = only_problem(raw)
    assert problem.key == key
    assert fragment in problem.message
    if example is not None:
        assert problem.example is not None and example in problem.example
    assert str(problem).startswith(f"{key}: ")


def test_several_problems_are_reported_together():
    with pytest.raises(ConfigError) as error:
        parse_stack_config(with_(cluster={"minSize": "x", "instanceType": "big"}, netwrk={}))
    keys = sorted(p.key for p in error.value.problems)
    assert keys == ["odyssey:cluster.instanceType", "odyssey:cluster.minSize", "odyssey:netwrk"]
    assert str(error.value).startswith("invalid stack configuration (3 problems):")


def test_numbers_in_settings_maps_are_taken_as_text():
    config = parse_stack_config(with_(cluster={"sysctls": {"vm.max_map_count": 262144}}))
    assert config.cluster_config.sysctls == {"vm.max_map_count": "262144"}


def test_a_referencing_stack_owns_nothing():
    config = parse_stack_config(with_(clusterStack="acme/odyssey/prod"))
    assert not config.owns_cluster


def test_pulumi_cli_strings_are_decoded_like_the_cli_passes_them():
    raw = raw_from_pulumi_config(
        {
            "aws:region": "eu-west-1",
            "aws:profile": "ignored",
            "pulumi:template": "ignored",
            "odyssey:tags": '{"department": "platform", "contact": "ops@example.com"}',
            "odyssey:logRetentionDays": "90",
            "odyssey:protectStatefulResources": "false",
            "odyssey:clusterStack": "acme/odyssey/prod",
        }
    )
    config = parse_stack_config(raw)
    assert config.region == "eu-west-1"
    assert config.log_retention_days == 90
    assert config.protect_stateful_resources is False
    assert config.cluster_stack == "acme/odyssey/prod"


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_committed_stack_files_parse(stack):
    values = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    flattened = {k: (v if isinstance(v, str) else __import__("json").dumps(v)) for k, v in values.items()}
    parse_stack_config(raw_from_pulumi_config(flattened))


def test_models_are_immutable():
    with pytest.raises(Exception):
        ClusterConfig().min_size = 2  # type: ignore[misc]
    assert NetworkConfig().cidr_block == "10.0.0.0/16"
    assert LoadBalancerConfig().ssl_policy.startswith("ELBSecurityPolicy-TLS13-")
