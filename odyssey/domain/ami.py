"""Instance types and the ECS-optimized AMI each one needs.

The launch template's image id is an SSM public parameter that EC2 resolves at
every launch, so each daily-cycled instance boots the latest patched
ECS-optimized Amazon Linux 2023 image without a deploy. Graviton (arm64) types
need the arm64 parameter; everything else takes the x86_64 one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from odyssey.domain.invariants import ECS_AMI_PARAMETER_ARM64, ECS_AMI_PARAMETER_X86_64, RESOLVE_SSM

# family, generation, attributes, size: "c7gn.2xlarge" -> ("c", "7", "gn", "2xlarge").
INSTANCE_TYPE = re.compile(
    r"^(?P<family>[a-z]+)(?P<generation>\d+)(?P<attributes>[a-z0-9-]*)"
    r"\.(?P<size>nano|micro|small|medium|large|xlarge|\d+xlarge|metal|metal-\d+xl)$"
)


@dataclass(frozen=True)
class InstanceType:
    family: str
    generation: int
    attributes: str
    size: str

    @property
    def architecture(self) -> str:
        # Graviton types carry a "g" among the attributes after the generation
        # (m7g, c7gn, x2gd, g5g); "g4dn" is the x86 GPU family "g". The first
        # Graviton family, a1, predates that convention.
        if self.family == "a" and self.generation == 1:
            return "arm64"
        if self.family == "mac":
            raise ValueError("mac instances cannot run the ECS-optimized Amazon Linux AMI")
        return "arm64" if "g" in self.attributes else "x86_64"


def parse_instance_type(value: str) -> InstanceType:
    match = INSTANCE_TYPE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not an EC2 instance type such as 'm7i.large' or 'c7g.xlarge'")
    return InstanceType(
        family=match["family"],
        generation=int(match["generation"]),
        attributes=match["attributes"],
        size=match["size"],
    )


def ecs_ami_image_id(instance_type: str) -> str:
    """The launch-template image id that resolves the right ECS-optimized AMI at launch."""
    parameter = (
        ECS_AMI_PARAMETER_ARM64
        if parse_instance_type(instance_type).architecture == "arm64"
        else ECS_AMI_PARAMETER_X86_64
    )
    return f"{RESOLVE_SSM}{parameter}"
