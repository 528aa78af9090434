import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain.capacity import extra_instances_during_replacement, max_healthy_percentage


@pytest.mark.parametrize(
    "minimum, expected",
    [(1, 200), (2, 150), (3, 134), (4, 125), (5, 120), (8, 113), (9, 112), (10, 110), (11, 110), (100, 110)],
)
def test_max_healthy_percentage_table(minimum, expected):
    assert max_healthy_percentage(minimum) == expected


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=0, max_value=1000))
def test_one_replacement_always_fits_at_or_above_the_minimum(minimum, above):
    percentage = max_healthy_percentage(minimum)
    assert 110 <= percentage <= 200
    assert extra_instances_during_replacement(minimum + above, percentage) >= 1


@pytest.mark.parametrize("minimum", [0, -1])
def test_minimum_must_be_positive(minimum):
    with pytest.raises(ValueError):
        max_healthy_percentage(minimum)


@pytest.mark.parametrize(
    "instance_type, expected",
    [
        ("m7i.large", (2048, 7372)),
        ("c7g.xlarge", (4096, 7372)),
        ("r6i.2xlarge", (8192, 58982)),
        ("m5.24xlarge", (98304, 353894)),
        ("t3.micro", (2048, 921)),
        ("t4g.medium", (2048, 3686)),
        ("g5.xlarge", None),
        ("m6i.metal", None),
    ],
)
def test_task_capacity_table(instance_type, expected):
    from odyssey.domain.capacity import task_capacity

    assert task_capacity(instance_type) == expected
