"""Listener-rule priorities on the shared HTTPS listener.

Every application stack on a cluster puts its rules on the same listener, so
priorities must never collide across stacks, must not change from one deploy
to the next, and must put specific rules before general ones:

* The listener's 1-50,000 priorities are cut into ten slots of 5,000. The
  cluster's owning stack assigns each application stack its slot
  (``odyssey:cluster.applicationStacks``), so two stacks cannot collide by
  construction: each only ever uses its own slot.
* Within a slot, rules with a host *and* a path come first (offsets
  1-2,500), host-only rules after (2,501-5,000), so ``www.example.com/api/*``
  is matched before ``www.example.com``.
* Within a band a service's priority is a hash of its name: it depends on
  nothing else, so adding or removing another service never moves it. Two
  services that hash to the same value are resolved by probing upward in name
  order, deterministically; only then can a new service move an existing one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

MAX_PRIORITY = 50_000
SLOT_SIZE = 5_000
SLOTS = MAX_PRIORITY // SLOT_SIZE
BAND_SIZE = SLOT_SIZE // 2


@dataclass(frozen=True)
class Route:
    """One service's rule: it matches any of ``hosts``, and any of ``paths`` when there are paths."""

    service: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...] = ()

    @property
    def band(self) -> int:
        return 0 if self.paths else 1


def slot_range(slot: int) -> range:
    """The priorities slot ``slot`` (1-10) owns."""
    if not 1 <= slot <= SLOTS:
        raise ValueError(f"listener slot {slot} is outside 1-{SLOTS}")
    start = (slot - 1) * SLOT_SIZE + 1
    return range(start, start + SLOT_SIZE)


def preferred_offset(service: str) -> int:
    return int.from_bytes(hashlib.sha256(service.encode()).digest()[:8], "big") % BAND_SIZE


def allocate_priorities(slot: int, routes: Iterable[Route]) -> dict[str, int]:
    """Map each route's service to its listener-rule priority within ``slot``."""
    routes = sorted(routes, key=lambda r: r.service)
    services = [r.service for r in routes]
    if len(set(services)) != len(services):
        raise ValueError("each service may have only one route")
    first = slot_range(slot).start
    priorities: dict[str, int] = {}
    for band in (0, 1):
        taken: set[int] = set()
        members = [r for r in routes if r.band == band]
        if len(members) > BAND_SIZE:
            raise ValueError(f"{len(members)} routes do not fit the {BAND_SIZE} priorities of a band")
        for route in members:
            offset = preferred_offset(route.service)
            while offset in taken:
                offset = (offset + 1) % BAND_SIZE
            taken.add(offset)
            priorities[route.service] = first + band * BAND_SIZE + offset
    return priorities
