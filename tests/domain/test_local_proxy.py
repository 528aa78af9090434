"""The listener rules as nginx configuration: the translation of patterns, the order, and the decisions of the
generated map checked against the ALB's own rule evaluation (tests/alb.py), in pure form. The real nginx runs the
same configuration in tests/ops/test_dev_proxy.py."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain.local_proxy import (
    host_pattern,
    host_suffix_problem,
    local_hosts,
    path_pattern,
    proxy_conf,
    rule_regex,
)
from odyssey.domain.routing import Route, rules_in_order
from tests.alb import alb_target, probes

MAP_RULE = re.compile(r'^    "~(?P<regex>.+)" (?P<service>[a-z0-9-]+);$')
SUFFIX_RULE = re.compile(r'^    "~(?P<regex>.+)" \$odyssey_stripped;$')


def map_rules(conf: str) -> list[tuple[str, str]]:
    """The (regex, service) lines of the service map, in the order nginx tries them."""
    block = conf.split('map "$odyssey_host $odyssey_path" $odyssey_service {', 1)[1].split("}", 1)[0]
    return [(m["regex"], m["service"]) for m in map(MAP_RULE.match, block.splitlines()) if m]


def nginx_map(conf: str, host: str, target: str) -> str | None:
    """What the generated maps decide for a request, evaluated as nginx does: the local host's suffix stripped,
    the raw path without its query, then the first regular expression that matches (Python's `re` reads the
    subset of PCRE the generator writes: groups, (?i:...), classes, escapes)."""
    suffix = next(m["regex"] for m in map(SUFFIX_RULE.match, conf.splitlines()) if m)
    stripped = re.match(suffix.replace("(?<odyssey_stripped>", "(?P<s>"), host.lower())
    key = f"{stripped['s'] if stripped else host.lower()} {target.split('?', 1)[0]}"
    return next((service for regex, service in map_rules(conf) if re.search(regex, key)), None)


@pytest.mark.parametrize(("host", "regex"), [
    ("www.example.com", r"www\.example\.com"),
    ("*.example.com", r"[^ ]*\.example\.com"),
    ("a-b.example.com", r"a\-b\.example\.com"),
])
def test_host_patterns(host, regex):
    assert host_pattern(host) == regex


@pytest.mark.parametrize(("path", "regex"), [
    ("/api/*", r"/api/.*"),
    ("/v?/items", r"/v./items"),
    ("/a.b~c_d", r"/a\.b\~c_d"),
    ("/", "/"),
])
def test_path_patterns(path, regex):
    assert path_pattern(path) == regex


def test_a_rule_is_any_host_then_any_path_or_every_path():
    assert rule_regex(Route("api", ("a.example.com", "*.example.net"), ("/api/*", "/v?"))) == (
        r"^(?i:a\.example\.com|[^ ]*\.example\.net) (?:/api/.*|/v.)$")
    assert rule_regex(Route("web", ("a.example.com",))) == r"^(?i:a\.example\.com) (?:.*)$"


@given(st.text(alphabet="ab/.-_~*?", max_size=12), st.text(alphabet="ab/.-_~", max_size=12))
def test_path_patterns_match_what_the_alb_matches(pattern, path):
    assert bool(re.fullmatch(path_pattern(pattern), path)) == fnmatchcase(path, pattern)


@given(st.sampled_from(["*.example.com", "www.example.com", "*.a-b.example.com"]),
       st.text(alphabet="abwx.-", max_size=10).map(lambda s: s + ".example.com"))
def test_host_patterns_match_what_the_alb_matches(pattern, host):
    assert bool(re.fullmatch(host_pattern(pattern), host)) == fnmatchcase(host, pattern)


ROUTES = [
    Route("web", ("www.example.com",)),
    Route("wild", ("*.example.com",)),
    Route("api", ("www.example.com",), ("/api/*",)),
    Route("reports", ("www.example.com",), ("/api/reports/*",)),
    Route("static", ("*.example.com",), ("/static/*",)),
]


def test_the_map_lists_the_rules_in_priority_order():
    conf = proxy_conf("prod", ROUTES, {r.service: f"{r.service}:80" for r in ROUTES})
    assert [s for _, s in map_rules(conf)] == [r.service for _, r in rules_in_order(ROUTES)]
    # Longer literal prefixes first, host-only rules last, exact hosts before wildcards: the listener's order.
    assert [s for _, s in map_rules(conf)] == ["reports", "static", "api", "web", "wild"]


@pytest.mark.parametrize(("host", "target", "service"), [
    ("www.example.com.localhost", "/api/reports/1", "reports"),
    ("www.example.com.localhost", "/api/x?y=/api/reports/", "api"),
    ("www.example.com", "/API/x", "web"),  # paths are case-sensitive
    ("WWW.Example.COM.localhost", "/", "web"),  # hosts are not
    ("shop.example.com.localhost", "/static/a.css", "static"),
    ("shop.example.com.localhost", "/api/x", "wild"),
    ("example.org.localhost", "/", None),
    ("localhost", "/", None),
])
def test_the_map_decides_as_the_listener(host, target, service):
    conf = proxy_conf("prod", ROUTES, {r.service: f"{r.service}:80" for r in ROUTES})
    assert nginx_map(conf, host, target) == service
    assert alb_target(rules_in_order(ROUTES), host.removesuffix(".localhost"), target) == service


def test_every_probe_agrees_with_the_listener():
    ordered = rules_in_order(ROUTES)
    conf = proxy_conf("prod", ROUTES, {r.service: f"{r.service}:80" for r in ROUTES}, suffix="dev.test")
    for host, target in probes(ROUTES):
        expected = alb_target(ordered, host, target)
        assert nginx_map(conf, f"{host}.dev.test", target) == expected, (host, target)
        assert nginx_map(conf, host, target) == expected, (host, target)


def test_unmatched_requests_get_the_listeners_404():
    conf = proxy_conf("prod", ROUTES, {r.service: f"{r.service}:80" for r in ROUTES})
    assert 'return 404 "Not Found";' in conf and "default_type text/plain;" in conf


def test_every_routed_service_needs_an_upstream():
    with pytest.raises(ValueError, match="no upstream for api, reports"):
        proxy_conf("prod", ROUTES, {"web": "web:80", "wild": "wild:80", "static": "static:80"})


@pytest.mark.parametrize("suffix", ["", ".localhost", "Localhost", "dev test", "a..b"])
def test_a_host_suffix_is_a_dns_name(suffix):
    assert host_suffix_problem(suffix)
    with pytest.raises(ValueError):
        proxy_conf("prod", ROUTES, {r.service: "x:80" for r in ROUTES}, suffix=suffix)


def test_local_hosts_keep_the_whole_host():
    assert local_hosts(["www.example.com", "*.example.com"]) == ["www.example.com.localhost", "*.example.com.localhost"]
    assert local_hosts(["www.example.com"], "dev.test") == ["www.example.com.dev.test"]


host_pool = st.sampled_from(["a.example.com", "b.example.com", "*.example.com", "*.b.example.com", "a.example.net"])
path_pool = st.text(alphabet="ab/*?", min_size=0, max_size=6).map(lambda p: "/" + p)
random_routes = st.dictionaries(
    st.text(alphabet="abcdefgh", min_size=1, max_size=6),
    st.tuples(st.lists(host_pool, min_size=1, max_size=2, unique=True),
              st.lists(path_pool, max_size=2, unique=True)),
    max_size=8,
).map(lambda d: [Route(name, tuple(hosts), tuple(paths)) for name, (hosts, paths) in d.items()])
requests = st.tuples(st.sampled_from(["a.example.com", "x.b.example.com", "B.EXAMPLE.COM", "a.example.net", "c.org"]),
                     st.text(alphabet="ab/?=", min_size=0, max_size=8).map(lambda p: "/" + p))


@given(random_routes, st.lists(requests, min_size=1, max_size=10))
def test_any_rules_decide_as_the_listener(routes, probes_):
    """Whatever the rules, the generated map sends each request where the ALB's evaluation in priority order does."""
    conf = proxy_conf("any", routes, {r.service: "x:80" for r in routes})
    ordered = rules_in_order(routes)
    for host, target in probes_:
        assert nginx_map(conf, f"{host}.localhost", target) == alb_target(ordered, host, target), (host, target)


def test_a_stack_without_public_services_answers_404_to_everything():
    conf = proxy_conf("workers", [], {})
    assert map_rules(conf) == [] and nginx_map(conf, "www.example.com.localhost", "/") is None
