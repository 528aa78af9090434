"""Network under Pulumi mocks: a new awsx VPC, or an existing VPC whose subnets must span three zones."""

import pytest

from odyssey.domain.placement import PlacementError
from tests.plans import PROVIDER, VPC, of_type, one, plan_config

EXISTING = {
    "vpcId": "vpc-0a1b2c3d4e5f67890",
    "privateSubnetIds": ["subnet-0a0a0a0a", "subnet-1b1b1b1b", "subnet-2c2c2c2c"],
    "publicSubnetIds": ["subnet-3d3d3d3d", "subnet-4e4e4e4e", "subnet-5f5f5f5f"],
}


def test_new_vpc_over_the_regions_first_three_zones_with_a_nat_per_zone():
    inputs = one(plan_config({}), VPC)["inputs"]
    assert inputs["availabilityZoneNames"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert inputs["natGateways"] == {"strategy": "OnePerAz"}
    assert [s["type"] for s in inputs["subnetSpecs"]] == ["Public", "Private"]
    assert inputs["cidrBlock"] == "10.0.0.0/16"


def test_configured_zones_and_nat_strategy():
    plan = plan_config({"odyssey:network": {
        "availabilityZones": ["us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e"], "natGateways": "Single"}})
    inputs = one(plan, VPC)["inputs"]
    assert inputs["availabilityZoneNames"] == ["us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e"]
    assert inputs["natGateways"] == {"strategy": "Single"}
    assert len(plan.outputs["privateSubnetIds"]) == 4


def test_awsx_vpc_gets_the_tagged_provider():
    plan = plan_config({})
    provider = one(plan, PROVIDER)
    assert one(plan, VPC)["providers"]["aws"].startswith(provider["urn"] + "::")


def test_flow_logs_go_to_cloudwatch():
    plan = plan_config({})
    flow_log = one(plan, "aws:ec2/flowLog:FlowLog")
    assert flow_log["inputs"]["trafficType"] == "ALL"
    assert flow_log["inputs"]["logDestinationType"] == "cloud-watch-logs"
    assert flow_log["propertyDependencies"]["vpcId"] == [one(plan, VPC)["urn"]]


ZONES = {"subnet-0a0a0a0a": "us-east-1a", "subnet-1b1b1b1b": "us-east-1b", "subnet-2c2c2c2c": "us-east-1c",
         "subnet-3d3d3d3d": "us-east-1a", "subnet-4e4e4e4e": "us-east-1b", "subnet-5f5f5f5f": "us-east-1c"}


def placed(zones=ZONES, vpcs=None):
    def configure(monitor):
        monitor.mocks.subnet_zones.update(zones)
        monitor.mocks.subnet_vpcs.update(vpcs or {s: EXISTING["vpcId"] for s in zones})
    return configure


def test_existing_vpc_over_three_zones():
    plan = plan_config({"odyssey:network": {"existing": EXISTING}}, on_monitor=placed())
    assert not of_type(plan, VPC)
    assert one(plan, "aws:ec2/flowLog:FlowLog")["inputs"]["vpcId"] == EXISTING["vpcId"]
    assert plan.outputs["availabilityZones"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert one(plan, "aws:autoscaling/group:Group")["inputs"]["vpcZoneIdentifiers"] == EXISTING["privateSubnetIds"]
    assert one(plan, "aws:lb/loadBalancer:LoadBalancer")["inputs"]["subnets"] == EXISTING["publicSubnetIds"]
    assert plan.assumptions == []


def test_existing_vpc_over_two_zones_is_refused_before_any_aws_resource():
    monitors = []

    def capture(monitor):
        monitors.append(monitor)
        placed({**ZONES, "subnet-2c2c2c2c": "us-east-1a"})(monitor)

    with pytest.raises(PlacementError, match="span 2 availability zone"):
        plan_config({"odyssey:network": {"existing": EXISTING}}, on_monitor=capture)
    # Only the AWS provider, which the lookup runs through, has registered.
    assert [r["type"] for r in monitors[0].records] == [PROVIDER]


def test_subnets_of_another_vpc_are_refused():
    with pytest.raises(PlacementError, match="subnet-4e4e4e4e \\(in vpc-99999999\\) are not in vpc-0a1b2c3d4e5f67890"):
        plan_config({"odyssey:network": {"existing": EXISTING}},
                    on_monitor=placed(vpcs={**{s: EXISTING["vpcId"] for s in ZONES}, "subnet-4e4e4e4e": "vpc-99999999"}))


def test_public_subnets_in_one_zone_are_refused():
    zones = {**ZONES, "subnet-4e4e4e4e": "us-east-1a", "subnet-5f5f5f5f": "us-east-1a"}
    with pytest.raises(PlacementError, match="publicSubnetIds: the subnets span 1 availability zone"):
        plan_config({"odyssey:network": {"existing": EXISTING}}, on_monitor=placed(zones))


def test_unknown_existing_subnets_are_reported_as_assumed():
    plan = plan_config({"odyssey:network": {"existing": EXISTING}})
    assert len(plan.assumptions) == 6
    assert "assumed to be in us-east-1a and in vpc-0a1b2c3d4e5f67890" in plan.assumptions[0]
