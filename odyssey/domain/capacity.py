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

# Every service deploys with its old tasks kept at 100 % until new ones pass health checks, up to 200 %
# (design doc 000: a deploy halts when new containers fail ELB health checks; the circuit breaker rolls
# back). The capacity checks count on it: a service may run twice its tasks while it rolls out.
DEPLOYMENT_MINIMUM_HEALTHY_PERCENT = 100
DEPLOYMENT_MAXIMUM_PERCENT = 200
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


# ---------------------------------------------------------------- what one node offers tasks

# GiB of memory per vCPU by instance family letter, for the general-purpose,
# compute, memory and high-memory families. Other families (GPU, storage,
# burstable beyond the table below) are not checked.
MEMORY_PER_VCPU_GIB = {"c": 2, "m": 4, "r": 8, "x": 16, "z": 8}
BURSTABLE = {  # t3/t3a/t4g: (vCPUs, GiB)
    "nano": (2, 0.5), "micro": (2, 1), "small": (2, 2), "medium": (2, 4),
    "large": (2, 8), "xlarge": (4, 16), "2xlarge": (8, 32),
}
# The OS, the ECS agent and Docker keep some memory; ECS registers less than the
# instance has. A tenth is a conservative estimate for the check, not AWS's figure.
REGISTERED_MEMORY_FRACTION = 0.9


def _vcpus(size: str) -> int | None:
    if size == "medium":
        return 1
    if size == "large":
        return 2
    if size == "xlarge":
        return 4
    if size.endswith("xlarge") and size[:-6].isdigit():
        return 4 * int(size[:-6])
    return None


def task_capacity(instance_type: str) -> tuple[int, int] | None:
    """(CPU units, MiB of memory) one node of ``instance_type`` offers tasks, or None when not known."""
    from odyssey.domain.ami import parse_instance_type

    parsed = parse_instance_type(instance_type)
    if parsed.family == "t" and parsed.size in BURSTABLE:
        vcpus, gib = BURSTABLE[parsed.size]
    else:
        vcpus = _vcpus(parsed.size)
        per_vcpu = MEMORY_PER_VCPU_GIB.get(parsed.family)
        if vcpus is None or per_vcpu is None:
            return None
        gib = vcpus * per_vcpu
    return vcpus * 1024, int(gib * 1024 * REGISTERED_MEMORY_FRACTION)
