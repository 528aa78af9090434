import pytest

from odyssey.domain.ami import ecs_ami_image_id, parse_instance_type
from odyssey.domain.invariants import ECS_AMI_PARAMETER_ARM64, ECS_AMI_PARAMETER_X86_64, RESOLVE_SSM


@pytest.mark.parametrize(
    "instance_type, architecture",
    [
        ("m7i.large", "x86_64"),
        ("m7i-flex.xlarge", "x86_64"),
        ("c5n.18xlarge", "x86_64"),
        ("g4dn.xlarge", "x86_64"),  # the x86 GPU family "g", not Graviton
        ("p5.48xlarge", "x86_64"),
        ("m6a.metal", "x86_64"),
        ("t3.micro", "x86_64"),
        ("m7g.large", "arm64"),
        ("c7gn.2xlarge", "arm64"),
        ("x2gd.medium", "arm64"),
        ("g5g.xlarge", "arm64"),
        ("t4g.small", "arm64"),
        ("r8g.metal-24xl", "arm64"),
        ("hpc7g.16xlarge", "arm64"),
        ("a1.large", "arm64"),
    ],
)
def test_architecture_of_instance_types(instance_type, architecture):
    assert parse_instance_type(instance_type).architecture == architecture


def test_image_id_resolves_the_ecs_optimized_parameter_at_launch():
    assert ecs_ami_image_id("m7i.large") == f"{RESOLVE_SSM}{ECS_AMI_PARAMETER_X86_64}"
    assert ecs_ami_image_id("m7g.large") == f"{RESOLVE_SSM}{ECS_AMI_PARAMETER_ARM64}"
    # AWS's own names (ECS developer guide, "Retrieving Amazon ECS-optimized Linux AMI metadata"), spelt out once.
    assert RESOLVE_SSM == "resolve:ssm:"
    assert ECS_AMI_PARAMETER_X86_64 == "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
    assert ECS_AMI_PARAMETER_ARM64 == "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id"


@pytest.mark.parametrize("value", ["m7i", "m7i.lrg", "M7I.large", "large", "m.large", "m7i.large ", ""])
def test_malformed_instance_types_are_refused(value):
    with pytest.raises(ValueError, match="is not an EC2 instance type"):
        parse_instance_type(value)


def test_mac_instances_are_refused():
    with pytest.raises(ValueError, match="mac"):
        parse_instance_type("mac2.metal").architecture
