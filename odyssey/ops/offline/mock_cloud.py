"""Pulumi mocks that stand in for AWS during the offline plan.

Nothing here talks to AWS. Each resource gets plausible outputs (``id``,
``arn``, ``name`` and the few type-specific ones the program reads), derived
deterministically from its URN, so a plan is the same every run. Lookups
(invokes) answer with fabricated but well-formed data; where that data matters
to a decision (the AZs of existing subnets) the plan says it was assumed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"

# awsx classes are remote components: under mocks they register once and none
# of their children appear. Return only declared outputs; echoing inputs breaks
# on natGateways (a config input and a list-of-resources output).
AWSX_VPC_TYPE = "awsx:ec2:Vpc"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


class MockCloud(pulumi.runtime.Mocks):
    """Answers resource registrations and invokes as AWS plausibly would.

    ``stack_outputs`` maps fully qualified stack names to the outputs a
    StackReference to them returns. ``subnet_zones`` (and ``subnet_vpcs``) map
    existing subnet ids to their AZs (and VPCs); unknown subnets are assumed
    round-robin over the region's zones, in ``existing_vpc_id``, and reported
    through ``assumptions``.
    """

    def __init__(
        self,
        region: str,
        stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
        subnet_zones: Mapping[str, str] | None = None,
        existing_vpc_id: str | None = None,
    ):
        self.region = region
        self.stack_outputs = dict(stack_outputs or {})
        self.subnet_zones = dict(subnet_zones or {})
        self.subnet_vpcs: dict[str, str] = {}
        self.existing_vpc_id = existing_vpc_id
        self.assumptions: list[str] = []
        # (type, logical name) -> the logical name it had, for resources renamed with an alias.
        self.previous_names: dict[tuple[str, str], str] = {}

    # ------------------------------------------------------------ resources

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        if args.typ == STACK_REFERENCE_TYPE:
            name = args.inputs.get("name") or args.resource_id
            if name not in self.stack_outputs:
                raise KeyError(f"unknown stack {name!r}: the offline plan has no outputs for it")
            return name, {"name": name, "outputs": dict(self.stack_outputs[name]), "secretOutputNames": []}
        if args.typ == AWSX_VPC_TYPE:
            return f"vpc-{_digest(args.name, 17)}", self._awsx_vpc(args)
        if not args.custom:
            return None, {}
        # Like the engine's state: an autonamed resource keeps the name it got under its first logical name.
        first_name = self.previous_names.get((args.typ, args.name), args.name)
        physical = args.inputs.get("name") or f"{first_name}-{_digest(args.typ + first_name, 7)}"
        resource_id = args.resource_id or self._id_for(args.typ, first_name, physical)
        state = {**args.inputs, "id": resource_id, "name": physical, "arn": self._arn(args.typ, physical)}
        extra = self._type_outputs.get(args.typ)
        if extra:
            state.update(extra(self, args, physical))
        return resource_id, state

    def _id_for(self, typ: str, name: str, physical: str) -> str:
        prefix = {
            "aws:ec2/securityGroup:SecurityGroup": "sg-",
            "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
            "aws:ec2/flowLog:FlowLog": "fl-",
        }.get(typ)
        return f"{prefix}{_digest(typ + name, 17)}" if prefix else physical

    def _arn(self, typ: str, physical: str) -> str:
        module = typ.split(":")[1].split("/")[0]
        service = {"lb": "elasticloadbalancing", "cloudwatch": "logs", "autoscaling": "autoscaling"}.get(module, module)
        if service in ("iam", "s3"):
            region, account = "", ACCOUNT_ID if service == "iam" else ""
        else:
            region, account = self.region, ACCOUNT_ID
        kind = typ.rsplit(":", 1)[1]
        kind = kind[0].lower() + kind[1:]
        return f"arn:aws:{service}:{region}:{account}:{kind}/{physical}"

    def _awsx_vpc(self, args: pulumi.runtime.MockResourceArgs) -> dict:
        zones = args.inputs.get("availabilityZoneNames") or []
        subnets = {
            kind: [f"subnet-{_digest(f'{args.name}-{kind}-{zone}', 17)}" for zone in zones]
            for kind in ("public", "private")
        }
        return {
            "vpcId": f"vpc-{_digest(args.name, 17)}",
            "publicSubnetIds": subnets["public"],
            "privateSubnetIds": subnets["private"],
            "isolatedSubnetIds": [],
        }

    _type_outputs: dict[str, Callable[[MockCloud, pulumi.runtime.MockResourceArgs, str], dict]] = {
        "aws:lb/loadBalancer:LoadBalancer": lambda self, args, name: {
            "dnsName": f"{name}-{_digest(name, 10)}.{self.region}.elb.amazonaws.com",
            "zoneId": "Z35SXDOTRQ7X7K",
            "arnSuffix": f"app/{name}/{_digest(name, 16)}",
        },
        "aws:lb/targetGroup:TargetGroup": lambda self, args, name: {
            "arnSuffix": f"targetgroup/{name}/{_digest(name, 16)}",
        },
        "aws:ecs/taskDefinition:TaskDefinition": lambda self, args, name: {
            "arn": f"arn:aws:ecs:{self.region}:{ACCOUNT_ID}:task-definition/{args.inputs.get('family', name)}:1",
            "arnWithoutRevision": f"arn:aws:ecs:{self.region}:{ACCOUNT_ID}:task-definition/{args.inputs.get('family', name)}",
            "revision": 1.0,
        },
        "aws:ec2/launchTemplate:LaunchTemplate": lambda self, args, name: {"latestVersion": 1.0},
        "aws:s3/bucket:Bucket": lambda self, args, name: {"bucket": name, "arn": f"arn:aws:s3:::{name}"},
        "aws:opensearch/domain:Domain": lambda self, args, name: {
            "arn": f"arn:aws:es:{self.region}:{ACCOUNT_ID}:domain/{args.inputs.get('domainName', name)}",
            "domainName": args.inputs.get("domainName", name),
            "endpoint": f"vpc-{args.inputs.get('domainName', name)}-{_digest(name, 26)}.{self.region}.es.amazonaws.com",
            "dashboardEndpoint": f"vpc-{args.inputs.get('domainName', name)}-{_digest(name, 26)}.{self.region}"
                                 ".es.amazonaws.com/_dashboards",
        },
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": lambda self, args, name: {
            "arn": f"arn:aws:firehose:{self.region}:{ACCOUNT_ID}:deliverystream/{name}",
        },
        "aws:autoscaling/group:Group": lambda self, args, name: {
            "arn": f"arn:aws:autoscaling:{self.region}:{ACCOUNT_ID}:autoScalingGroup:"
            f"{_digest(name, 8)}-0000-0000-0000-000000000000:autoScalingGroupName/{name}"
        },
    }

    # -------------------------------------------------------------- invokes

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        answer = self._invokes.get(args.token)
        if answer is None:
            raise NotImplementedError(f"the offline plan cannot answer the lookup {args.token}")
        return answer(self, args.args)

    def _zones(self) -> list[str]:
        return [f"{self.region}{letter}" for letter in "abcdef"]

    def _subnet(self, inputs: dict) -> dict:
        subnet_id = inputs["id"]
        assumed = []
        zone = self.subnet_zones.get(subnet_id)
        if zone is None:
            zones = self._zones()
            zone = zones[len(self.subnet_zones) % len(zones)]
            self.subnet_zones[subnet_id] = zone
            assumed.append(f"in {zone}")
        vpc = self.subnet_vpcs.get(subnet_id)
        if vpc is None:
            vpc = self.existing_vpc_id or "vpc-00000000"
            assumed.append(f"in {vpc}")
        if assumed:
            self.assumptions.append(
                f"existing subnet {subnet_id} assumed to be {' and '.join(assumed)}: offline its real placement is "
                "unknown; a real preview looks it up"
            )
        return {"id": subnet_id, "availabilityZone": zone, "vpcId": vpc}

    _invokes: dict[str, Callable[[MockCloud, dict], dict]] = {
        "aws:index/getAvailabilityZones:getAvailabilityZones": lambda self, a: {
            "names": self._zones(),
            "zoneIds": [f"use1-az{i}" for i in range(1, 7)],
            "id": self.region,
        },
        "aws:ec2/getSubnet:getSubnet": _subnet,
        "aws:index/getCallerIdentity:getCallerIdentity": lambda self, a: {
            "accountId": ACCOUNT_ID,
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline-plan",
            "id": ACCOUNT_ID,
            "userId": "AIDAOFFLINEPLAN",
        },
        "aws:index/getPartition:getPartition": lambda self, a: {
            "partition": "aws", "dnsSuffix": "amazonaws.com", "reversePartition": "com.amazonaws", "id": "aws",
        },
        "aws:index/getRegion:getRegion": lambda self, a: {"region": self.region, "name": self.region, "id": self.region},
    }
