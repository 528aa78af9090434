"""Tenancy decisions: host allotments, the ingress pool, capacity arithmetic. Exact tables and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain.tenancy import (
    AlbQuotas,
    Headroom,
    Reservation,
    TaskShape,
    Tenancy,
    allotment_overlaps,
    assign_load_balancers,
    deploy_surge,
    host_covers,
    host_outside,
    hosts_overlap,
    pool_size,
    resolve_quotas,
    steady_reservation,
    zone_sizes,
)


@pytest.mark.parametrize("pattern, host, covered", [
    ("www.example.com", "www.example.com", True),
    ("www.example.com", "WWW.Example.com", True),
    ("www.example.com", "api.example.com", False),
    ("*.example.com", "www.example.com", True),
    ("*.example.com", "a.b.example.com", True),  # ALB's * matches dots too
    ("*.example.com", "example.com", False),
    ("*.example.com", "*.stage.example.com", True),
    ("*.example.com", "*.example.com", True),
    ("*.stage.example.com", "*.example.com", False),
    ("www.example.com", "*.example.com", False),
    ("*.example.com", "www.example.org", False),
    ("*.example.com", "badexample.com", False),
])
def test_host_covers(pattern, host, covered):
    assert host_covers(pattern, host) is covered


@pytest.mark.parametrize("a, b, overlap", [
    ("www.example.com", "www.example.com", True),
    ("www.example.com", "stage.example.com", False),
    ("*.example.com", "stage.example.com", True),
    ("*.example.com", "*.stage.example.com", True),
    ("*.stage.example.com", "*.prod.example.com", False),
    ("*.example.com", "example.com", False),
    ("*.example.com", "*.example.org", False),
])
def test_hosts_overlap_is_symmetric(a, b, overlap):
    assert hosts_overlap(a, b) is overlap and hosts_overlap(b, a) is overlap


labels = st.text(alphabet="abc", min_size=1, max_size=3)
patterns = st.builds(lambda parts, wild: ("*." if wild else "") + ".".join(parts) + ".com",
                     st.lists(labels, min_size=1, max_size=3), st.booleans())


@given(patterns, patterns, st.lists(labels, min_size=1, max_size=4))
def test_overlap_means_a_host_both_match(a, b, parts):
    """Any concrete host both patterns cover is evidence of overlap (the converse is checked by the table)."""
    host = ".".join(parts) + ".com"
    if host_covers(a, host) and host_covers(b, host):
        assert hosts_overlap(a, b)


def test_overlapping_allotments_are_found_in_slot_order():
    tenants = [Tenancy("prod", 1, ("www.example.com", "*.api.example.com")),
               Tenancy("stage", 2, ("stage.example.com",)),
               Tenancy("qa", 3, ("*.example.com",))]
    assert allotment_overlaps(tenants) == [
        ("qa", "*.example.com", "prod", "www.example.com"),
        ("qa", "*.example.com", "prod", "*.api.example.com"),
        ("qa", "*.example.com", "stage", "stage.example.com"),
    ]
    assert allotment_overlaps(tenants[:2]) == []


def test_a_host_outside_the_allotment_or_in_anothers_is_named():
    prod = Tenancy("prod", 1, ("www.example.com", "*.prod.example.com"))
    stage = Tenancy("stage", 2, ("stage.example.com",))
    free = Tenancy("free", 3)
    assert host_outside("a.prod.example.com", prod, [stage, free]) is None
    assert host_outside("www.example.com", stage, [prod, free]) == \
        "is outside this stack's allotted hosts (stage.example.com)"
    assert host_outside("www.example.com", free, [prod, stage]) == \
        "belongs to stack prod's allotted hosts (www.example.com, *.prod.example.com)"
    assert host_outside("other.example.org", free, [prod, stage]) is None


QUOTAS = AlbQuotas(target_groups=100, rules=100)


def test_the_committed_shape_is_one_alb():
    tenants = [Tenancy("prod", 1, target_groups=50, rules=50), Tenancy("stage", 2, target_groups=50, rules=50)]
    assignment = assign_load_balancers(tenants, QUOTAS)
    assert assignment == {"prod": 1, "stage": 2 - 1} and pool_size(assignment) == 1


def test_three_full_tenants_need_three_albs():
    tenants = [Tenancy(f"t{i}", i, target_groups=100, rules=100) for i in (1, 2, 3)]
    assert assign_load_balancers(tenants, QUOTAS) == {"t1": 1, "t2": 2, "t3": 3}


def test_first_fit_fills_earlier_albs_and_pins_win():
    tenants = [Tenancy("a", 1, target_groups=60, rules=60), Tenancy("b", 2, target_groups=60, rules=60),
               Tenancy("c", 3, target_groups=40, rules=40), Tenancy("d", 4, target_groups=10, rules=10, load_balancer=3)]
    assert assign_load_balancers(tenants, QUOTAS) == {"a": 1, "b": 2, "c": 1, "d": 3}


def test_a_budget_no_alb_holds_and_an_overfull_pin_are_refused():
    with pytest.raises(ValueError, match="t: a budget of 120 target groups; one ALB holds at most 100"):
        assign_load_balancers([Tenancy("t", 1, target_groups=120, rules=10)], QUOTAS)
    with pytest.raises(ValueError, match="b: load balancer 1 cannot hold its budget"):
        assign_load_balancers([Tenancy("a", 1, target_groups=70, rules=70, load_balancer=1),
                               Tenancy("b", 2, target_groups=40, rules=40, load_balancer=1)], QUOTAS)
    raised = AlbQuotas(target_groups=100, rules=200)
    assert assign_load_balancers([Tenancy("t", 1, target_groups=100, rules=200)], raised) == {"t": 1}


budgets = st.lists(st.tuples(st.integers(0, 100), st.integers(0, 100)), min_size=1, max_size=8)


@given(budgets, st.tuples(st.integers(0, 100), st.integers(0, 100)))
def test_adding_a_tenant_never_moves_an_existing_one_and_no_alb_overflows(existing, newcomer):
    tenants = [Tenancy(f"t{i}", i, target_groups=g, rules=r) for i, (g, r) in enumerate(existing, start=1)]
    before = assign_load_balancers(tenants, QUOTAS)
    grown = tenants + [Tenancy("new", len(tenants) + 1, target_groups=newcomer[0], rules=newcomer[1])]
    after = assign_load_balancers(grown, QUOTAS)
    assert {k: after[k] for k in before} == before
    for index in set(after.values()):
        on_it = [t for t in grown if after[t.stack] == index]
        assert sum(t.target_groups for t in on_it) <= 100 and sum(t.rules for t in on_it) <= 100


@pytest.mark.parametrize("min_size, zones, sizes", [(4, 3, [2, 1, 1]), (6, 3, [2, 2, 2]), (5, 3, [2, 2, 1]),
                                                   (4, 4, [1, 1, 1, 1]), (2, 3, [1, 1, 0])])
def test_zone_sizes(min_size, zones, sizes):
    assert zone_sizes(min_size, zones) == sizes


def test_headroom_of_the_committed_cluster():
    # m7i.large: 2 vCPUs = 2,048 CPU units, 8 GiB x 0.9 registered = 7,372 MiB. Six nodes over three zones,
    # two per zone: losing a zone leaves four.
    headroom = Headroom.of(Reservation(2048, 7372), min_size=6, zones=3)
    assert headroom.normal == Reservation(12288, 44232)
    assert headroom.zone_lost == Reservation(8192, 29488)
    # Four nodes over three zones (2, 1, 1): losing the zone of two leaves half.
    assert Headroom.of(Reservation(2048, 7372), 4, 3).zone_lost == Reservation(4096, 14744)


def test_steady_reservation_and_deploy_surge():
    tasks = [TaskShape(256, 512, 2), TaskShape(512, 1024, 2), TaskShape(256, 768, 3)]
    assert steady_reservation(tasks) == Reservation(256 * 2 + 512 * 2 + 256 * 3, 512 * 2 + 1024 * 2 + 768 * 3)
    # maximumPercent 200: a service doubles while it rolls. Most CPU: 512 x 2 tasks; most memory: 768 x 3.
    assert deploy_surge(tasks) == Reservation(1024, 2304)
    # At 150 % the third service (3 tasks -> 2 extra, rounded up) surges as much CPU and more memory.
    assert deploy_surge(tasks, maximum_percent=150) == Reservation(512, 1536)
    # Each resource's worst deploy, even when two different services have them.
    assert deploy_surge([TaskShape(1024, 256, 1), TaskShape(256, 4096, 1)]) == Reservation(1024, 4096)
    assert deploy_surge([]) == Reservation(0, 0)


def test_open_quotas_share_what_explicit_ones_leave():
    tenants = [Tenancy("prod", 1, cpu=4096, memory=8192), Tenancy("stage", 2), Tenancy("qa", 3, memory=1024)]
    assert resolve_quotas(tenants, Reservation(8192, 29488)) == {
        "prod": Reservation(4096, 8192), "stage": Reservation(2048, 20272), "qa": Reservation(2048, 1024)}
