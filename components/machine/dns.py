"""IngressDns: the Route 53 alias records that point each tenant's allotted hosts at the ALB it routes on.

With ``odyssey:loadBalancer.hostedZoneId`` set, the owner writes, in that zone,
an A alias record per host each stack on the cluster is allotted (exact names
and ``*.`` wildcards alike), to the ALB of the ingress pool that stack routes
on. Route 53 answers alias queries for free and follows the ALB's addresses as
they change; evaluating target health lets Route 53 stop answering with an ALB
that has no healthy targets. A stack allotted no hosts routes hosts no one else
is allotted; which ones is not known here, so it gets no records.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from odyssey.contract import MachineLayerOutputs


@dataclass(frozen=True)
class IngressDnsArgs:
    """Inputs of ``IngressDns``.

    Attributes:
        zone_id: the Route 53 hosted zone the records go in (``odyssey:loadBalancer.hostedZoneId``).
        machine: the owner's machine-layer outputs: each stack's allotted hosts (``tenancies``) and its ALB.
    """

    zone_id: str
    machine: MachineLayerOutputs


class IngressDns(pulumi.ComponentResource):
    """One alias record per allotted host. Outputs: ``records`` (host -> the stack it belongs to)."""

    def __init__(self, name: str, args: IngressDnsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:dns:IngressDns", name, None, opts)
        machine = args.machine
        self.records: dict[str, str] = {}
        for stack, tenancy in sorted(machine.tenancies.items()):
            alb = machine.load_balancer_of(stack)
            # ALB host matching and DNS are case-insensitive: one record per name. Allotments of different
            # stacks never overlap (the owner's check), so a host names its record uniquely.
            for host in sorted({host.lower() for host in tenancy.get("hosts") or ()}):
                aws.route53.Record(
                    f"{name}-{host}",
                    zone_id=args.zone_id,
                    name=host,
                    type="A",
                    aliases=[aws.route53.RecordAliasArgs(
                        name=alb["dnsName"], zone_id=alb["zoneId"], evaluate_target_health=True)],
                    opts=pulumi.ResourceOptions(parent=self),
                )
                self.records[host] = stack
        self.register_outputs({"records": self.records})
