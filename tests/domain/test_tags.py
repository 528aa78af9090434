"""Tag values AWS accepts (odyssey/domain/tags.py), against the documented rules and botocore's models."""

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st

from odyssey.domain.tags import TAG_SYMBOLS, TAG_VALUE_LENGTH_MAX, tag_value_problem

# The character class IAM's and ELB's models give tag values; tags.py implements it with unicodedata.
BOTOCORE_CLASS = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*"


def test_the_character_class_is_the_one_botocore_ships_for_iam_and_elb():
    session = botocore.session.get_session()
    assert session.get_service_model("iam").shape_for("tagValueType").metadata["pattern"] == BOTOCORE_CLASS
    assert session.get_service_model("elbv2").shape_for("TagValue").metadata["pattern"] == f"^({BOTOCORE_CLASS})$"
    assert session.get_service_model("elbv2").shape_for("TagValue").metadata["max"] == TAG_VALUE_LENGTH_MAX


@pytest.mark.parametrize("value", ["platform", "Research and Development", "platform-team@example.com",
                                   "a_b.c:d/e=f+g-h@i", "Forschung Ünïcødé 数据 ٣", "", "x" * 256])
def test_values_aws_accepts(value):
    assert tag_value_problem(value) is None


@pytest.mark.parametrize(("value", "reason"), [
    ("R&D", "'&'"),
    ("o'brien@example.com", '"\'"'),
    ("a,b;c", "',', ';'"),
    ("x" * 257, "257 characters"),
    ("aws:managed", "prefix AWS reserves"),
    ("AWS:Managed", "prefix AWS reserves"),
])
def test_values_aws_refuses(value, reason):
    problem = tag_value_problem(value)
    assert problem is not None and reason in problem


allowed = st.text(alphabet=st.one_of(st.characters(categories=("L", "N", "Zs")), st.sampled_from(TAG_SYMBOLS)),
                  max_size=TAG_VALUE_LENGTH_MAX).filter(lambda v: not v.lower().startswith("aws:"))


@given(allowed)
def test_letters_digits_spaces_and_the_symbols_are_always_accepted(value):
    assert tag_value_problem(value) is None


@given(allowed, st.sampled_from("&'\",;!#$%*()[]{}<>?|\\^~`\t\n"), allowed)
def test_any_other_punctuation_is_refused_and_named(before, bad, after):
    problem = tag_value_problem(before + bad + after)
    assert problem is not None and repr(bad) in problem
