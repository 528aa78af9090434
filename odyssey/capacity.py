"""Capacity arithmetic for the Auto Scaling group.

The group keeps at least its minimum in service while instances are cycled: its
instance maintenance policy launches a replacement before it terminates the old
instance (minimum healthy 100%). The maximum healthy percentage must leave room
for at least one extra instance above the group's size, or a replacement can
never start. AWS accepts 110-200% when the minimum is 100%.
"""

from __future__ import annotations

import math

MIN_HEALTHY_PERCENTAGE = 100
MAX_HEALTHY_FLOOR = 110
MAX_HEALTHY_CEILING = 200


def max_healthy_percentage(min_in_service: int) -> int:
    """The smallest maximum-healthy percentage that fits one extra instance.

    AWS rounds the maximum down, so for a group of ``n`` instances the
    percentage must satisfy ``floor(n * p / 100) >= n + 1``. The value that
    works for the group's minimum also works for every larger size.
    """
    if min_in_service < 1:
        raise ValueError(f"min_in_service must be at least 1, got {min_in_service}")
    needed = math.ceil(100 * (min_in_service + 1) / min_in_service)
    return max(MAX_HEALTHY_FLOOR, min(MAX_HEALTHY_CEILING, needed))


def extra_instances_during_replacement(group_size: int, max_healthy: int) -> int:
    """How many instances above ``group_size`` a replacement may launch."""
    return group_size * max_healthy // 100 - group_size
