"""Reading resources the way both previews present them, and never passing silently.

Policies see two views of the same program:

* a real ``pulumi preview``, where awsx's VPC shows its children (the VPC,
  subnets with their AZs) and values the provider computes are unknown;
* the offline plan, where awsx's VPC is one registration whose inputs carry
  the AZ names, and every value is known.

Reading an unknown value raises ``UnknownValueError``; the SDK reports that as
an advisory "can't run policy during preview". Stack policies check every
resource they can and raise once at the end for the ones they could not, so
one unknown never hides another resource's violation.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, PolicyResource, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

ASG = "aws:autoscaling/group:Group"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
CAPACITY_PROVIDER = "aws:ecs/capacityProvider:CapacityProvider"
ECS_CLUSTER = "aws:ecs/cluster:Cluster"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SUBNET = "aws:ec2/subnet:Subnet"
VPC = "aws:ec2/vpc:Vpc"
AWSX_VPC = "awsx:ec2:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
ALB_ALIAS = "aws:alb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
LISTENER_ALIAS = "aws:alb/listener:Listener"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
TARGET_GROUP_ALIAS = "aws:alb/targetGroup:TargetGroup"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
LISTENER_RULE_ALIAS = "aws:alb/listenerRule:ListenerRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SG_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SG_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EBS_VOLUME = "aws:ebs/volume:Volume"
VOLUME_ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_V2 = "aws:s3/bucketV2:BucketV2"

LOAD_BALANCERS = (LOAD_BALANCER, ALB_ALIAS)
LISTENERS = (LISTENER, LISTENER_ALIAS)
TARGET_GROUPS = (TARGET_GROUP, TARGET_GROUP_ALIAS)
LISTENER_RULES = (LISTENER_RULE, LISTENER_RULE_ALIAS)


def truthy(value: Any) -> bool:
    """Launch templates carry some booleans as the strings "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def dig(props: Mapping[str, Any] | None, *path: Any, default: Any = None) -> Any:
    """``props[a][b]...``, or ``default`` when a step is missing; an unknown step raises."""
    value: Any = props
    for key in path:
        if value is None:
            return default
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return default
    return default if value is None else value


def container_definitions(props: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A task definition's containers; the provider takes them as a JSON string."""
    raw = props.get("containerDefinitions")
    if raw is None:
        return []
    parsed = json.loads(raw) if isinstance(raw, str) else raw
    return list(parsed)


def config_with_defaults(schema: PolicyConfigSchema | None, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The CLI fills schema defaults in; the SDK does not, so every policy applies them itself."""
    properties = (schema.properties if schema else None) or {}
    values = {k: spec["default"] for k, spec in properties.items() if "default" in spec}
    values.update(given or {})
    # Config crosses the analyzer protocol as a protobuf Struct, where every number is a float.
    for key, spec in properties.items():
        if spec.get("type") == "integer" and isinstance(values.get(key), float) and values[key].is_integer():
            values[key] = int(values[key])
    return values


class CannotCheck(UnknownValueError):
    """Raised to have the SDK report an advisory "can't run policy" instead of passing silently."""

    def __init__(self, message: str):
        Exception.__init__(self, message)
        self.unknown_type_sentinel = ""
        self.props = []
        self.message = message


class Unresolved:
    """Collects what a stack policy could not check, to report it once at the end."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def add(self, resource: PolicyResource, reason: str) -> None:
        self.reasons.append(f"{resource.urn}: {reason}")

    def check(self, resource: PolicyResource, check: Callable[[], None]) -> None:
        try:
            check()
        except UnknownValueError as error:
            self.add(resource, error.message)

    def raise_if_any(self) -> None:
        if self.reasons:
            raise CannotCheck("; ".join(self.reasons))


class Stack:
    """Lookups over the resources of a stack validation, indexed once: a policy asks one per service or
    component, so scanning every resource on each would make a large stack's check quadratic."""

    def __init__(self, args: StackValidationArgs):
        self.resources: list[PolicyResource] = list(args.resources)
        self._position = {id(r): i for i, r in enumerate(self.resources)}
        self._by_type: dict[str, list[PolicyResource]] = defaultdict(list)
        self._children: dict[str, list[PolicyResource]] = defaultdict(list)
        for resource in self.resources:
            self._by_type[resource.resource_type].append(resource)
            if resource.parent is not None:
                self._children[resource.parent.urn].append(resource)
        self._dependents: dict[str, dict[str, list[PolicyResource]]] = {}

    def of_type(self, *types: str) -> list[PolicyResource]:
        found = [r for t in dict.fromkeys(types) for r in self._by_type.get(t, ())]
        return sorted(found, key=self._order) if len(types) > 1 else found

    def descendants(self, ancestor: PolicyResource, *types: str) -> Iterator[PolicyResource]:
        found, queue = [], [ancestor.urn]
        while queue:
            for child in self._children.get(queue.pop(), ()):
                found.append(child)
                queue.append(child.urn)
        return iter(sorted((r for r in found if not types or r.resource_type in types), key=self._order))

    def dependents(self, target: PolicyResource, prop: str, *types: str) -> list[PolicyResource]:
        """Resources whose ``prop`` is built from ``target``'s outputs."""
        if prop not in self._dependents:
            index: dict[str, list[PolicyResource]] = defaultdict(list)
            for resource in self.resources:
                for urn in dict.fromkeys(dep.urn for dep in resource.property_dependencies.get(prop, [])):
                    index[urn].append(resource)
            self._dependents[prop] = index
        return [r for r in self._dependents[prop].get(target.urn, ()) if r.resource_type in types]

    def _order(self, resource: PolicyResource) -> int:
        return self._position[id(resource)]


def deps(resource: PolicyResource, prop: str) -> list[PolicyResource]:
    return list(resource.property_dependencies.get(prop, []))

