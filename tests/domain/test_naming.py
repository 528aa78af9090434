import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain.naming import ALB_NAME_MAX, aws_name
from odyssey.domain.stack_names import StackNames

ALLOWED = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
parts = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_. ", min_size=1, max_size=80), min_size=1, max_size=4)


def _usable(values):
    return any(c.isalnum() for c in "".join(values))


@given(parts, st.integers(min_value=8, max_value=64))
def test_name_fits_the_limit_and_the_alphabet(values, limit):
    if not _usable(values):
        with pytest.raises(ValueError):
            aws_name(*values, max_length=limit)
        return
    name = aws_name(*values, max_length=limit)
    assert len(name) <= limit
    assert ALLOWED.match(name), name
    assert "--" not in name


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=40, max_size=60), st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=40, max_size=60))
def test_long_names_that_differ_stay_distinct(a, b):
    if a != b:
        assert aws_name("odyssey", a) != aws_name("odyssey", b)


def test_short_names_are_kept_as_they_are():
    assert aws_name("odyssey", "prod") == "odyssey-prod"
    assert aws_name("Odyssey", "Stage_EU") == "odyssey-stage-eu"


def test_long_name_is_cut_with_a_hash_suffix():
    # Fixed expected values: a changed algorithm would rename (and replace) live resources.
    assert aws_name("odyssey", "a-very-long-stack-name-for-the-eu-west-region") == "odyssey-a-very-long-stack-d16347"
    assert aws_name("customer-facing-production", "recommendations", max_length=24) == "customer-facing-p-133890"
    assert len(aws_name("odyssey", "a-very-long-stack-name-for-the-eu-west-region")) == ALB_NAME_MAX


def test_limit_below_hash_room_is_refused():
    with pytest.raises(ValueError, match="at least"):
        aws_name("a", max_length=5)


def test_stack_names_keep_stacks_apart():
    prod, stage = StackNames("odyssey", "prod"), StackNames("odyssey", "stage")
    assert prod.cluster_name == "odyssey-prod"
    assert prod.load_balancer_name != stage.load_balancer_name
    assert prod.log_group("hosts") == "/odyssey/prod/hosts"
    long = StackNames("odyssey", "customer-facing-production-eu-central-1")
    assert len(long.load_balancer_name) <= ALB_NAME_MAX
