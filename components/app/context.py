"""AppShared: what every service, scheduled task and event stream of one application stack uses.

It lives apart from ``AppStack`` so the children can name it without importing
the component that creates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from odyssey.contract import MachineLayerOutputs
from odyssey.domain.containers import SecretLocations
from odyssey.domain.naming import LOAD_BALANCER_TAG, StackNames


@dataclass(frozen=True)
class AppShared:
    """What every service and scheduled task of the stack uses."""

    names: StackNames
    region: str
    machine: MachineLayerOutputs
    namespace_id: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    topic_arn: pulumi.Output[str]
    execution_role_arn: pulumi.Output[str]
    dead_letter_queue_arn: pulumi.Output[str]
    secrets: pulumi.Output[SecretLocations]
    account_id: pulumi.Output[str]

    @property
    def load_balancer(self) -> dict[str, Any]:
        """The ALB of the owner's ingress pool this stack routes on: its listeners and ARN suffix."""
        return self.machine.load_balancer_of(self.names.stack)

    @property
    def load_balancer_tags(self) -> dict[str, str]:
        """Which ALB of the pool a target group or listener rule is on, for the policy pack to count per ALB."""
        return {LOAD_BALANCER_TAG: str(self.machine.load_balancer_index(self.names.stack))}
