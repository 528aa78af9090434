"""The machine layer's stack outputs: the contract between a cluster's owning stack and the stacks that run on it."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import pulumi


@dataclass(frozen=True)
class MachineLayerOutputs:
    """Everything an application stack needs to run on the shared cluster.

    Field names are the stack output names. ``https_listener_arn`` is None when
    the owner has no certificate.
    """

    region: pulumi.Input[str]
    cluster_stack: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    capacity_provider_name: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    private_subnet_ids: pulumi.Input[list[str]]
    public_subnet_ids: pulumi.Input[list[str]]
    availability_zones: pulumi.Input[list[str]]
    alb_arn: pulumi.Input[str]
    alb_dns_name: pulumi.Input[str]
    alb_zone_id: pulumi.Input[str]
    alb_security_group_id: pulumi.Input[str]
    https_listener_arn: pulumi.Input[str | None]
    http_listener_arn: pulumi.Input[str]
    instance_security_group_id: pulumi.Input[str]
    host_log_group_name: pulumi.Input[str]

    @staticmethod
    def output_name(field_name: str) -> str:
        head, *rest = field_name.split("_")
        return head + "".join(part.title() for part in rest)

    @classmethod
    def output_names(cls) -> list[str]:
        return [cls.output_name(f.name) for f in fields(cls)]

    def as_stack_outputs(self) -> dict[str, Any]:
        return {self.output_name(f.name): getattr(self, f.name) for f in fields(self)}

    def export(self) -> None:
        for name, value in self.as_stack_outputs().items():
            pulumi.export(name, value)
