"""How an Application Load Balancer picks a listener rule, written from AWS's documents, as the oracle of the
local proxy's tests (``odyssey dev``): neither side is taken from the other.

ELB's user guide, "Listener rules for your Application Load Balancer": rules are evaluated in priority order,
lowest first, and the first rule whose conditions all match is applied; with none, the default action. "Host
conditions": values are not case-sensitive, ``*`` matches 0 or more characters, ``?`` exactly 1, and a rule
matches when any of its values does. "Path conditions": the pattern is case-sensitive, applied to the path of the
URL only (not its query string), with the same two wildcards. Here ``fnmatch`` does the wildcard matching: the
patterns Odyssey accepts hold no ``[``, its only other special character.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from odyssey.domain.routing import Route


def host_matches(pattern: str, host: str) -> bool:
    return fnmatchcase(host.lower(), pattern.lower())


def path_matches(pattern: str, path: str) -> bool:
    return fnmatchcase(path, pattern)


def alb_target(rules: Iterable[tuple[int, Route]], host: str, target: str) -> str | None:
    """The service whose rule routes ``host`` and ``target`` (path and query), or None: the default action."""
    path = target.split("?", 1)[0]
    for _, route in sorted(rules, key=lambda item: item[0]):
        if not any(host_matches(h, host) for h in route.hosts):
            continue
        if route.paths and not any(path_matches(p, path) for p in route.paths):
            continue
        return route.service
    return None


def instances(pattern: str, star: str, one: str) -> str:
    """A value a pattern matches: each ``*`` replaced by ``star``, each ``?`` by ``one``."""
    return pattern.replace("*", star).replace("?", one)


def probes(routes: Iterable[Route]) -> list[tuple[str, str]]:
    """(host, path) requests around every rule: what it matches, and its near misses, which later rules or the
    default action take."""
    requests = {("unknown.example.org", "/"), ("unknown.example.org", "/api/x")}
    for route in routes:
        for host in route.hosts:
            for h in {instances(host, "x", "q"), instances(host, "a.b", "Q"), host.upper().replace("*", "W")}:
                requests.update({(h, "/"), (h, "/x/y?z=1"), (h, "/nothing-routes-here")})
                for path in route.paths:
                    requests.update({
                        (h, instances(path, "deep/er", "z")),
                        (h, instances(path, "", "z") + "?q=/other"),
                        (h, instances(path, "x", "z").upper()),  # paths are case-sensitive
                        (h, instances(path, "x", "zz")),  # ? is exactly one character
                        (h, path.split("*")[0].split("?")[0].rstrip("/") or "/"),
                    })
    return sorted(requests)
