"""Regions and instance types from botocore's shipped data, and the problems that name the nearest real ones."""

import botocore.session
import pytest

from odyssey.config.aws_catalog import instance_types, regions, unknown_name_problem
from odyssey.config.base import ConfigError
from odyssey.config.stack import parse_stack_config

BASE = {"region": "us-east-1", "tags": {"department": "platform", "contact": "ops@example.com"}}


def test_regions_span_every_partition():
    assert {"us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"} <= regions()
    assert "us-east-7" not in regions() and "eu-west1" not in regions()


def test_instance_types_are_the_ec2_models_enum_read_in_full():
    model = botocore.session.get_session().get_service_model("ec2")
    assert instance_types() == frozenset(model.shape_for("InstanceType").enum)
    assert {"m7i.large", "c7g.xlarge", "t3.micro"} <= instance_types()


@pytest.mark.parametrize(("value", "nearest"), [("m7i.lrage", "m7i.large"), ("m7.large", "m7i.large"),
                                                ("c7gxlarge", "c7g.xlarge")])
def test_a_near_miss_names_the_nearest_types(value, nearest):
    problem = unknown_name_problem(value, instance_types(), "an EC2 instance type")
    assert problem.startswith(f"{value!r} is not an EC2 instance type") and nearest in problem


def test_nothing_near_names_nothing():
    assert "did you mean" not in unknown_name_problem("zzzz", regions(), "an AWS region")
    assert unknown_name_problem("us-east-1", regions(), "an AWS region") is None


@pytest.mark.parametrize(("raw", "key", "text"), [
    ({**BASE, "region": "us-east-7"}, "aws:region", "did you mean us-east-2"),
    ({**BASE, "region": "useast-1"}, "aws:region", "did you mean us-east-1"),
    ({**BASE, "cluster": {"instanceType": "m7i.lrage"}}, "odyssey:cluster.instanceType", "did you mean m7i.large"),
    ({**BASE, "cluster": {"instanceType": "m9z.large"}}, "odyssey:cluster.instanceType", "is not an EC2 instance type"),
])
def test_the_config_refuses_names_aws_does_not_have(raw, key, text):
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(raw)
    (problem,) = raised.value.problems
    assert problem.key == key and text in problem.message and problem.example


def test_other_partitions_regions_are_accepted():
    assert parse_stack_config({**BASE, "region": "us-gov-west-1"}).region == "us-gov-west-1"
