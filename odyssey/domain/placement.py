"""Where the cluster's subnets go: at least ``MIN_AVAILABILITY_ZONES`` availability zones.

Pure decisions over facts looked up by the program (the region's zones, the
zones of existing subnets), so the rules are tested without AWS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from odyssey.domain.invariants import MIN_AVAILABILITY_ZONES


class PlacementError(ValueError):
    pass


def choose_availability_zones(configured: Sequence[str] | None, available: Sequence[str], count: int = MIN_AVAILABILITY_ZONES) -> list[str]:
    """The configured zones, checked against the region's; else the region's first ``count``."""
    if configured:
        missing = [az for az in configured if az not in available]
        if missing:
            raise PlacementError(
                f"odyssey:network.availabilityZones: {', '.join(missing)} not available in this region "
                f"(available: {', '.join(available)})"
            )
        return list(configured)
    ordered = sorted(available)
    if len(ordered) < count:
        raise PlacementError(
            f"the region offers {len(ordered)} availability zone(s) ({', '.join(ordered)}); the machine layer needs {count}"
        )
    return ordered[:count]


def check_subnets_in_vpc(subnet_vpcs: Mapping[str, str], vpc_id: str) -> None:
    """Every existing subnet must belong to the configured VPC."""
    strays = sorted(f"{subnet} (in {vpc})" for subnet, vpc in subnet_vpcs.items() if vpc != vpc_id)
    if strays:
        raise PlacementError(
            f"odyssey:network.existing: subnet(s) {', '.join(strays)} are not in {vpc_id}; list subnets of that VPC"
        )


def zones_of_subnets(subnet_zones: Mapping[str, str], key: str, minimum: int = MIN_AVAILABILITY_ZONES) -> list[str]:
    """The distinct zones of existing subnets, which must number at least ``minimum``."""
    zones = sorted(set(subnet_zones.values()))
    if len(zones) < minimum:
        listing = ", ".join(f"{subnet} ({zone})" for subnet, zone in sorted(subnet_zones.items()))
        raise PlacementError(
            f"{key}: the subnets span {len(zones)} availability zone(s) ({listing}); at least {minimum} are needed, "
            f"for example one subnet in each of us-east-1a, us-east-1b and us-east-1c"
        )
    return zones
