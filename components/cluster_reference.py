"""ClusterReference: run on a shared cluster that another stack owns.

Design doc 000: one cluster runs several application stacks. A stack that does
not own its cluster names the owner (``odyssey:clusterStack``) and reads the
owner's outputs through a StackReference.
"""

from __future__ import annotations

from typing import Any

import pulumi

from odyssey.outputs import MachineLayerOutputs

# Outputs that may legitimately be None on the owner (no certificate configured).
OPTIONAL_OUTPUTS = frozenset({"httpsListenerArn"})


class OwnerNotDeployedError(Exception):
    pass


def check_owner_outputs(stack_name: str, outputs: dict[str, Any]) -> dict[str, Any]:
    """Fail with a clear message when the owning stack is missing or has not been deployed."""
    missing = [n for n in MachineLayerOutputs.output_names() if n not in outputs and n not in OPTIONAL_OUTPUTS]
    if not outputs:
        raise OwnerNotDeployedError(
            f"odyssey:clusterStack: the owning stack {stack_name} has no outputs. Deploy it first "
            f"(pulumi up --stack {stack_name}), then this stack."
        )
    if missing:
        raise OwnerNotDeployedError(
            f"odyssey:clusterStack: {stack_name} does not export {', '.join(missing)}; is it an Odyssey stack "
            "that owns a cluster, and is it deployed with this version?"
        )
    return outputs


class ClusterReference:
    """The owner's machine-layer outputs, read through a ``pulumi.StackReference``."""

    def __init__(self, stack_name: str, opts: pulumi.ResourceOptions | None = None):
        self.stack_name = stack_name
        self.reference = pulumi.StackReference("cluster-owner", stack_name=stack_name, opts=opts)
        checked = self.reference.outputs.apply(lambda outputs: check_owner_outputs(stack_name, outputs))
        values = {name: checked.apply(lambda o, n=name: o.get(n)) for name in MachineLayerOutputs.output_names()}
        values["clusterStack"] = pulumi.Output.from_input(stack_name)
        self.outputs = MachineLayerOutputs(
            **{f: values[MachineLayerOutputs.output_name(f)] for f in MachineLayerOutputs.__dataclass_fields__}
        )
