"""ClusterReference: run on a shared cluster that another stack owns.

Design doc 000: one cluster runs several application stacks. A stack that does
not own its cluster names the owner (``odyssey:clusterStack``) and reads the
owner's outputs through a StackReference.

The outputs are read at once, synchronously (as a synchronous invoke is), so
that this stack's services are checked against the owner's cluster (node size,
its slot of listener priorities) before anything else registers.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await

from odyssey.contract import MachineLayerOutputs

# Outputs that may legitimately be None on the owner (no certificate configured).
OPTIONAL_OUTPUTS = frozenset({"httpsListenerArn"})
# Outputs added after owners were first deployed. An owner deployed before them still serves its application
# stacks (nothing here depends on them): they are passed on as None, and `odyssey status` and `cycle-audit`
# then compare against the invariants and say so. Redeploying the owner exports them. Without the keys
# (logsKeyArn, execKeyArn) a tenant's log groups go unencrypted until the owner is redeployed (see the contract);
# an owner from before log search has none of its outputs: its stacks' log groups stay unsubscribed.
ADDED_LATER = frozenset({"minSize", "maxInstanceLifetimeSeconds", "tenancies", "loadBalancers", "logsKeyArn",
                         "execKeyArn", "logSearchStreamArn", "logSearchRoleArn", "logSearchEndpoint",
                         "logSearchDashboardsUrl"})


class OwnerNotDeployedError(Exception):
    pass


def check_owner_outputs(stack_name: str, outputs: dict[str, Any]) -> dict[str, Any]:
    """Fail with a clear message when the owning stack is missing or has not been deployed."""
    if not outputs:
        raise OwnerNotDeployedError(
            f"odyssey:clusterStack: the owning stack {stack_name} has no outputs. Deploy it first "
            f"(pulumi up --stack {stack_name}), then this stack."
        )
    missing = [n for n in MachineLayerOutputs.output_names()
               if n not in outputs and n not in OPTIONAL_OUTPUTS and n not in ADDED_LATER]
    if missing:
        raise OwnerNotDeployedError(
            f"odyssey:clusterStack: {stack_name} does not export {', '.join(missing)}; is it an Odyssey stack "
            "that owns a cluster, and is it deployed with this version?"
        )
    return outputs


def read_owner(stack_name: str, opts: pulumi.ResourceOptions | None = None) -> MachineLayerOutputs:
    """The owner's machine-layer outputs as plain values, through a ``pulumi.StackReference``."""
    reference = pulumi.StackReference("cluster-owner", stack_name=stack_name, opts=opts)
    outputs = check_owner_outputs(stack_name, _sync_await(reference.outputs.future()) or {})
    values = {f.name: outputs.get(MachineLayerOutputs.output_name(f.name)) for f in fields(MachineLayerOutputs)}
    values["cluster_stack"] = stack_name
    # Numbers cross the engine as floats.
    values["listener_slots"] = {name: int(slot) for name, slot in (values["listener_slots"] or {}).items()}
    for name in ("min_size", "max_instance_lifetime_seconds"):
        values[name] = None if values[name] is None else int(values[name])
    # An owner from before the ingress pool had one ALB and slots alone: each stack there, with no allotment.
    values["tenancies"] = values["tenancies"] or {name: {"slot": slot, "loadBalancer": 1}
                                                  for name, slot in values["listener_slots"].items()}
    values["load_balancers"] = values["load_balancers"] or [{
        "arn": values["alb_arn"], "arnSuffix": values["alb_arn_suffix"], "dnsName": values["alb_dns_name"],
        "zoneId": values["alb_zone_id"], "securityGroupId": values["alb_security_group_id"],
        "httpsListenerArn": values["https_listener_arn"], "httpListenerArn": values["http_listener_arn"]}]
    return MachineLayerOutputs(**values)
