import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain.routing import (
    BAND_SIZE,
    SLOT_SIZE,
    SLOTS,
    Route,
    allocate_priorities,
    literal_prefix,
    matcher_problem,
    preferred_offset,
    rules_in_order,
    slot_range,
    tier_size,
)

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=30)
paths = st.text(alphabet="abc/", min_size=0, max_size=30).map(lambda p: f"/{p}*")
hosts = st.sampled_from(["h.example.com", "*.example.com", "api.example.com"])
route_sets = st.dictionaries(names, st.tuples(hosts, st.one_of(st.none(), paths)), min_size=0, max_size=80).map(
    lambda d: [Route(name, (host,), (path,) if path else ()) for name, (host, path) in d.items()]
)


@given(st.integers(min_value=1, max_value=SLOTS), route_sets)
def test_priorities_are_unique_and_inside_the_slot(slot, routes):
    priorities = allocate_priorities(slot, routes)
    assert sorted(priorities) == sorted(r.service for r in routes)
    assert len(set(priorities.values())) == len(routes)
    assert all(p in slot_range(slot) for p in priorities.values())
    assert all(1 <= p <= 50_000 for p in priorities.values())


@given(route_sets, route_sets)
def test_two_stacks_in_different_slots_never_collide(prod, stage):
    assert not set(allocate_priorities(1, prod).values()) & set(allocate_priorities(2, stage).values())


@given(route_sets, st.randoms())
def test_priorities_do_not_depend_on_order(routes, random):
    shuffled = list(routes)
    random.shuffle(shuffled)
    assert allocate_priorities(3, routes) == allocate_priorities(3, shuffled)


@given(route_sets)
def test_host_and_path_rules_come_before_host_only_rules(routes):
    priorities = allocate_priorities(1, routes)
    specific = [priorities[r.service] for r in routes if r.paths]
    general = [priorities[r.service] for r in routes if not r.paths]
    if specific and general:
        assert max(specific) < min(general)


@given(route_sets)
def test_more_specific_rules_are_matched_first(routes):
    priorities = allocate_priorities(1, routes)
    for a in routes:
        for b in routes:
            if a.paths and b.paths:
                shortest = [min(len(literal_prefix(p)) for p in r.paths) for r in (a, b)]
                if min(shortest[0], 24) > min(shortest[1], 24):
                    assert priorities[a.service] < priorities[b.service], (a, b)
            if not a.paths and not b.paths and "*" not in a.hosts[0] and "*" in b.hosts[0]:
                assert priorities[a.service] < priorities[b.service]


@given(route_sets, names)
def test_adding_a_service_moves_no_other_unless_it_takes_their_hash_slot(routes, newcomer):
    if newcomer in {r.service for r in routes}:
        return
    before = allocate_priorities(1, routes)
    new = Route(newcomer, ("h.example.com",))
    after = allocate_priorities(1, [*routes, new])
    moved = {s for s in before if before[s] != after[s]}
    if moved:
        # Only a collision on the newcomer's preferred value can move anyone.
        preferred = slot_range(1).start + BAND_SIZE + preferred_offset(newcomer, tier_size(1))
        assert preferred in before.values()


def test_exact_priorities_are_stable():
    routes = [Route("web", ("www.example.com",)), Route("api", ("www.example.com",), ("/api/*",)),
              Route("reports", ("www.example.com",), ("/api/reports/*",)), Route("main", ("*.example.com",))]
    path_tier = tier_size(0)
    assert allocate_priorities(1, routes) == {
        "reports": 1 + (24 - 13) * path_tier + preferred_offset("reports", path_tier),
        "api": 1 + (24 - 5) * path_tier + preferred_offset("api", path_tier),
        "web": 1 + BAND_SIZE + preferred_offset("web", tier_size(1)),
        "main": 1 + BAND_SIZE + tier_size(1) + preferred_offset("main", tier_size(1)),
    }
    priorities = allocate_priorities(1, routes)
    assert priorities["reports"] < priorities["api"] < priorities["web"] < priorities["main"]
    assert {s: p - priorities[s] for s, p in allocate_priorities(2, routes).items()} == dict.fromkeys(priorities, SLOT_SIZE)


def test_a_full_tier_spreads_its_band_and_never_fails():
    crowded = [Route(f"svc-{i}", ("h.example.com",), ("/abcd/*",)) for i in range(tier_size(0) + 1)]
    general = [Route(f"gen-{i}", ("h.example.com",), ("/*",)) for i in range(3)]
    hosts_only = [Route("site", ("h.example.com",))]
    priorities = allocate_priorities(2, crowded + general + hosts_only)
    assert len(set(priorities.values())) == len(priorities) == tier_size(0) + 5
    band = range(SLOT_SIZE + 1, SLOT_SIZE + 1 + BAND_SIZE)
    assert all(priorities[r.service] in band for r in crowded + general)
    # Still ordered: every /abcd/* rule before every /* rule; the host-only rule keeps its hashed place.
    assert max(priorities[r.service] for r in crowded) < min(priorities[r.service] for r in general)
    assert priorities["site"] == allocate_priorities(2, hosts_only)["site"]


# Any route set up to a band's size fits: 180 public services of one specificity used to fail.
@given(st.integers(min_value=1, max_value=SLOTS), st.integers(min_value=0, max_value=BAND_SIZE),
       st.sampled_from([("/abcd/*",), ()]))
def test_any_route_set_that_fits_a_band_gets_unique_priorities(slot, count, paths):
    routes = [Route(f"svc-{i}", ("h.example.com",), paths) for i in range(count)]
    priorities = allocate_priorities(slot, routes)
    assert len(set(priorities.values())) == count and all(p in slot_range(slot) for p in priorities.values())


def test_more_routes_than_a_band_holds_is_a_clear_error():
    with pytest.raises(ValueError, match=f"a slot holds at most {BAND_SIZE}"):
        allocate_priorities(1, [Route(f"svc-{i}", ("h.example.com",)) for i in range(BAND_SIZE + 1)])


def test_collisions_probe_upward_in_name_order():
    # Find two names with the same preferred offset to exercise probing.
    seen = {}
    for i in range(100_000):
        name = f"svc{i}"
        offset = preferred_offset(name, tier_size(1))
        if offset in seen:
            first, second = sorted([seen[offset], name])
            break
        seen[offset] = name
    priorities = allocate_priorities(1, [Route(second, ("h",)), Route(first, ("h",))])
    band_start = slot_range(1).start + BAND_SIZE
    assert priorities[first] == band_start + preferred_offset(first, tier_size(1))
    assert priorities[second] == band_start + (preferred_offset(first, tier_size(1)) + 1) % tier_size(1)


@pytest.mark.parametrize("slot", [0, 11, -1])
def test_slots_outside_the_listener_are_refused(slot):
    with pytest.raises(ValueError, match="outside 1-10"):
        allocate_priorities(slot, [])


def test_duplicate_services_are_refused():
    with pytest.raises(ValueError, match="only one route"):
        allocate_priorities(1, [Route("web", ("a",)), Route("web", ("b",))])


@given(st.integers(min_value=1, max_value=SLOTS), route_sets)
def test_rules_in_order_is_the_listeners_order_in_any_slot(slot, routes):
    ordered = rules_in_order(routes)
    priorities = allocate_priorities(slot, routes)
    assert [r.service for _, r in ordered] == sorted(priorities, key=priorities.get)
    assert [offset for offset, _ in ordered] == sorted(p - slot_range(slot).start + 1 for p in priorities.values())
@pytest.mark.parametrize("matcher", ["200", "200,204", "200-399", "200-499", "200-299,301,302", "499"])
def test_matchers_an_alb_accepts(matcher):
    assert matcher_problem(matcher) is None


@pytest.mark.parametrize(("matcher", "reason"), [
    ("199", "199 outside the 200-499"),
    ("200-599", "599 outside the 200-499"),
    ("500", "500 outside"),
    ("399-200", "runs backwards"),
    ("2xx", "not HTTP codes"),
    ("200,", "not HTTP codes"),
    ("", "not HTTP codes"),
    ("200-300-400", "not HTTP codes"),
])
def test_matchers_an_alb_refuses(matcher, reason):
    problem = matcher_problem(matcher)
    assert problem is not None and reason in problem


def test_a_rule_counts_the_wildcards_of_its_hosts_and_paths_together():
    assert Route("web", ("www.example.com",)).wildcards == 0
    assert Route("web", ("*.example.com", "?.example.org"), ("/a*/*", "/b?")).wildcards == 5
