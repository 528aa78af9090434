import pytest

from odyssey.domain.placement import PlacementError, choose_availability_zones, zones_of_subnets

REGION_ZONES = ["us-east-1c", "us-east-1a", "us-east-1b", "us-east-1d"]


def test_defaults_to_the_regions_first_three_zones():
    assert choose_availability_zones(None, REGION_ZONES) == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_configured_zones_are_kept_in_order():
    assert choose_availability_zones(["us-east-1d", "us-east-1a", "us-east-1b"], REGION_ZONES) == [
        "us-east-1d", "us-east-1a", "us-east-1b",
    ]


def test_configured_zone_missing_from_the_region():
    with pytest.raises(PlacementError, match="us-east-1f not available"):
        choose_availability_zones(["us-east-1a", "us-east-1b", "us-east-1f"], REGION_ZONES)


def test_region_with_too_few_zones():
    with pytest.raises(PlacementError, match="offers 2"):
        choose_availability_zones(None, ["ca-west-1a", "ca-west-1b"])


def test_existing_subnets_over_three_zones():
    zones = {"subnet-1": "us-east-1a", "subnet-2": "us-east-1b", "subnet-3": "us-east-1c", "subnet-4": "us-east-1a"}
    assert zones_of_subnets(zones, "key") == ["us-east-1a", "us-east-1b", "us-east-1c"]


def test_existing_subnets_over_two_zones_are_refused_naming_each_subnet():
    zones = {"subnet-1": "us-east-1a", "subnet-2": "us-east-1b", "subnet-3": "us-east-1a"}
    with pytest.raises(PlacementError) as error:
        zones_of_subnets(zones, "odyssey:network.existing.privateSubnetIds")
    message = str(error.value)
    assert message.startswith("odyssey:network.existing.privateSubnetIds: the subnets span 2")
    assert "subnet-3 (us-east-1a)" in message
