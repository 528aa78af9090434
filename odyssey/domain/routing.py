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
* Within a band, more specific rules come first: path rules are tiered by the
  length of their paths' literal prefix (``/api/reports/*`` before
  ``/api/*``), host rules put exact hosts before wildcards
  (``admin.example.com`` before ``*.example.com``).
* Within a tier a service's priority is a hash of its name: it depends on
  nothing else, so adding or removing another service never moves it. Two
  services that hash to the same value are resolved by probing upward in name
  order, deterministically; only then can a new service move an existing one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from odyssey.domain.quotas import ALB_HEALTH_CHECK_CODE_MAX, ALB_HEALTH_CHECK_CODE_MIN
from odyssey.domain.quotas import ALB_RULE_PRIORITY_MAX as MAX_PRIORITY

SLOT_SIZE = 5_000
SLOTS = MAX_PRIORITY // SLOT_SIZE
BAND_SIZE = SLOT_SIZE // 2
# Path rules: one tier per literal-prefix length from 24 characters down to 0.
PATH_TIERS = 25
HOST_TIERS = 2
WILDCARDS = "*?"
# The listener's default action, taken by every request no rule matches (and served the same by `odyssey dev`'s proxy).
NOT_FOUND_STATUS = 404
NOT_FOUND_CONTENT_TYPE = "text/plain"
NOT_FOUND_BODY = "Not Found"


def literal_prefix(pattern: str) -> str:
    """What a pattern matches literally before its first wildcard: '/api/reports/*' -> '/api/reports/'."""
    cut = min((pattern.index(c) for c in WILDCARDS if c in pattern), default=len(pattern))
    return pattern[:cut]


@dataclass(frozen=True)
class Route:
    """One service's rule: it matches any of ``hosts``, and any of ``paths`` when there are paths."""

    service: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...] = ()

    @property
    def band(self) -> int:
        return 0 if self.paths else 1

    @property
    def tier(self) -> int:
        """Lower tiers are matched first. The rule's most general value decides, since it matches the most."""
        if self.paths:
            shortest = min(len(literal_prefix(p)) for p in self.paths)
            return PATH_TIERS - 1 - min(shortest, PATH_TIERS - 1)
        return 1 if any(c in host for host in self.hosts for c in WILDCARDS) else 0

    @property
    def wildcards(self) -> int:
        """The ``*`` and ``?`` in the rule's host and path values, which ALB counts per rule."""
        return sum(value.count(c) for value in (*self.hosts, *self.paths) for c in WILDCARDS)


def matcher_problem(matcher: str) -> str | None:
    """Why ``matcher`` is not an ALB health-check success-code matcher (``200``, ``200,204``, ``200-399``), or None."""
    for part in matcher.split(","):
        low, dash, high = part.partition("-")
        codes = [low, high] if dash else [low]
        if not all(code.isdigit() and len(code) == 3 for code in codes):
            return f"{matcher!r} is not HTTP codes such as '200', '200,204' or '200-399'"
        outside = [c for c in codes if not ALB_HEALTH_CHECK_CODE_MIN <= int(c) <= ALB_HEALTH_CHECK_CODE_MAX]
        if outside:
            return (f"{matcher!r}: {', '.join(outside)} outside the {ALB_HEALTH_CHECK_CODE_MIN}-"
                    f"{ALB_HEALTH_CHECK_CODE_MAX} an Application Load Balancer accepts as healthy")
        if dash and int(low) > int(high):
            return f"{matcher!r}: the range {part} runs backwards; write it low-high, such as '200-399'"
    return None


def slot_range(slot: int) -> range:
    """The priorities slot ``slot`` (1-10) owns."""
    if not 1 <= slot <= SLOTS:
        raise ValueError(f"listener slot {slot} is outside 1-{SLOTS}")
    start = (slot - 1) * SLOT_SIZE + 1
    return range(start, start + SLOT_SIZE)


def tier_size(band: int) -> int:
    return BAND_SIZE // (PATH_TIERS if band == 0 else HOST_TIERS)


def preferred_offset(service: str, size: int) -> int:
    return int.from_bytes(hashlib.sha256(service.encode()).digest()[:8], "big") % size


def allocate_priorities(slot: int, routes: Iterable[Route]) -> dict[str, int]:
    """Map each route's service to its listener-rule priority within ``slot``; never fails for a valid slot.

    Each route takes its hashed place in its tier (stable as routes come and
    go). A band with a tier of more routes than places is spread evenly over
    the band instead, in specificity order (``spread_band``): still unique and
    ordered, but adding a route there can move the band's others.
    """
    routes = sorted(routes, key=lambda r: r.service)
    services = [r.service for r in routes]
    if len(set(services)) != len(services):
        raise ValueError("each service may have only one route")
    if len(routes) > BAND_SIZE:
        raise ValueError(f"{len(routes)} routes; a slot holds at most {BAND_SIZE} in one band")
    first = slot_range(slot).start
    priorities: dict[str, int] = {}
    for band in (0, 1):
        members = [r for r in routes if r.band == band]
        start = first + band * BAND_SIZE
        hashed = hashed_band(members)
        priorities.update({s: start + o for s, o in (hashed or spread_band(members)).items()})
    return priorities


def hashed_band(routes: list[Route]) -> dict[str, int] | None:
    """Offsets in the band: each tier's routes at their hashed places, probing upward; None when a tier overflows."""
    offsets: dict[str, int] = {}
    taken: dict[int, set[int]] = {}
    for route in routes:
        size = tier_size(route.band)
        used = taken.setdefault(route.tier, set())
        if len(used) == size:
            return None
        offset = preferred_offset(route.service, size)
        while offset in used:
            offset = (offset + 1) % size
        used.add(offset)
        offsets[route.service] = route.tier * size + offset
    return offsets


def spread_band(routes: list[Route]) -> dict[str, int]:
    """Offsets spread evenly over the band, in (tier, hashed place, name) order: more specific first."""
    ordered = sorted(routes, key=lambda r: (r.tier, preferred_offset(r.service, tier_size(r.band)), r.service))
    return {r.service: index * BAND_SIZE // len(ordered) for index, r in enumerate(ordered)}


def rules_in_order(routes: Iterable[Route]) -> list[tuple[int, Route]]:
    """The routes as the listener evaluates them, first match wins: (offset in the stack's slot, 1-5,000, route).

    The order inside a slot does not depend on which slot the stack has, so a
    stack's local proxy can keep it without knowing its slot.
    """
    routes = list(routes)
    offsets = allocate_priorities(1, routes)  # slot 1 starts at priority 1: its priorities are the offsets
    return sorted(((offsets[r.service], r) for r in routes), key=lambda item: item[0])
