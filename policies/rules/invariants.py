"""The machine layer's invariants (design doc 000). Mandatory by default.

A minimum of availability zones and of instances in service, also while nodes
are cycled; nodes cycled daily; stateless, identical nodes on the ECS-optimized
AMI; logging everywhere; containers deployed by version. The numbers (and their
sources) are in ``thresholds``, which the program shares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .images import pinned_image_problem
from .thresholds import (
    AWS_LIFETIME_MIN_SECONDS,
    DAILY_CYCLE_SECONDS,
    ECS_AMI_IMAGE_PREFIX,
    ECS_AMI_PARAMETER_X86_64,
    MIN_AVAILABILITY_ZONES,
    MIN_INSTANCES,
    RESOLVE_SSM,
)
from .view import (
    ASG,
    AWSX_VPC,
    CAPACITY_PROVIDER,
    EBS_VOLUME,
    ECS_CLUSTER,
    FLOW_LOG,
    LAUNCH_CONFIGURATION,
    LAUNCH_TEMPLATE,
    LOAD_BALANCERS,
    LOG_GROUP,
    SUBNET,
    TASK_DEFINITION,
    VOLUME_ATTACHMENT,
    VPC,
    Stack,
    Unresolved,
    config_with_defaults,
    container_definitions,
    deps,
    dig,
    truthy,
)

# ------------------------------------------------------------ min-availability-zones

AZ_SCHEMA = PolicyConfigSchema(
    properties={"minimumZones": {"type": "integer", "minimum": 1, "default": MIN_AVAILABILITY_ZONES,
                                 "description": "Fewest availability zones an Auto Scaling group's subnets may span."}},
)


# awsx.ec2.Vpc spans this many zones when given neither zone names nor a count.
AWSX_DEFAULT_ZONE_COUNT = 3


def _zones_of_vpc(stack: Stack, vpc, private_only: bool) -> set[str]:
    """AZs of an awsx VPC: its child subnets in a real preview, its AZ inputs offline."""
    subnets = list(stack.descendants(vpc, SUBNET))
    if subnets:
        if private_only:
            private = [s for s in subnets if dig(s.props, "tags", "SubnetType") == "Private"]
            subnets = private or subnets
        return {s.props["availabilityZone"] for s in subnets}
    names = vpc.props.get("availabilityZoneNames")
    return set(names or [])


def _zones_of_group(stack: Stack, group, unresolved: Unresolved) -> set[str] | None:
    # The subnets decide: availabilityZones is computed from them (unknown in a
    # create preview, stale in an update), so it is read only without subnets.
    sources = deps(group, "vpcZoneIdentifiers")
    if not sources:
        ids = list(group.props.get("vpcZoneIdentifiers") or [])
        if not ids:
            return set(group.props.get("availabilityZones") or [])
        unresolved.add(group, f"its subnets {', '.join(ids) or '(none)'} are not defined in this stack, so their "
                              "availability zones cannot be checked here (the program checks them when it looks them up)")
        return None
    zones: set[str] = set()
    for source in sources:
        if source.resource_type == SUBNET:
            zones.add(source.props["availabilityZone"])
        elif source.resource_type in (AWSX_VPC, VPC):
            found = _zones_of_vpc(stack, source, private_only=True)
            if not found:
                unresolved.add(group, f"the availability zones of {source.urn} are not known")
                return None
            zones |= found
        else:
            unresolved.add(group, f"its subnets come from {source.urn}, whose availability zones cannot be read")
            return None
    return zones


def _validate_zones(args: StackValidationArgs, report: ReportViolation) -> None:
    minimum = config_with_defaults(AZ_SCHEMA, args.get_config())["minimumZones"]
    stack, unresolved = Stack(args), Unresolved()
    for group in stack.of_type(ASG):
        def check(group=group):
            zones = _zones_of_group(stack, group, unresolved)
            if zones is not None and len(zones) < minimum:
                report(f"Auto Scaling group '{group.name}' spans {len(zones)} availability zone(s) "
                       f"({', '.join(sorted(zones)) or 'none'}); at least {minimum} are required.", group.urn)
        unresolved.check(group, check)
    for vpc in stack.of_type(AWSX_VPC):
        def check_vpc(vpc=vpc):
            zones = _zones_of_vpc(stack, vpc, private_only=False)
            count = len(zones) or int(vpc.props.get("numberOfAvailabilityZones") or AWSX_DEFAULT_ZONE_COUNT)
            if count < minimum:
                report(f"VPC '{vpc.name}' spans {count} availability zone(s); at least {minimum} are required.", vpc.urn)
        unresolved.check(vpc, check_vpc)
    unresolved.raise_if_any()


min_availability_zones = StackValidationPolicy(
    name="min-availability-zones",
    description=f"Auto Scaling groups and VPCs must span at least {MIN_AVAILABILITY_ZONES} availability zones, so "
                "losing a zone leaves the cluster running (design doc 000; Security Hub AutoScaling.2).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=AZ_SCHEMA,
    validate=_validate_zones,
)

# ------------------------------------------------------------ min-instances

INSTANCES_SCHEMA = PolicyConfigSchema(
    properties={"minimumInstances": {"type": "integer", "minimum": 1, "default": MIN_INSTANCES,
                                     "description": "Fewest instances an Auto Scaling group may run."}},
)


def _validate_instances(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ASG:
        return
    minimum = config_with_defaults(INSTANCES_SCHEMA, args.get_config())["minimumInstances"]
    props = args.props
    min_size = int(props.get("minSize") or 0)
    max_size = int(props.get("maxSize") or 0)
    if min_size < minimum:
        report(f"minSize is {min_size}; at least {minimum} instances must be in service.")
    desired = props.get("desiredCapacity")
    if desired is not None and int(desired) < min_size:
        report(f"desiredCapacity {int(desired)} is below minSize {min_size}.")
    if max_size < min_size:
        report(f"maxSize {max_size} is below minSize {min_size}.")


min_instances = ResourceValidationPolicy(
    name="min-instances",
    description=f"Auto Scaling groups keep at least {MIN_INSTANCES} instances in service (design doc 000), with "
                "desired and maximum capacity no lower than the minimum.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=INSTANCES_SCHEMA,
    validate=_validate_instances,
)

# ------------------------------------------------------------ capacity-during-cycling

CYCLING_CAPACITY_SCHEMA = PolicyConfigSchema(
    properties={"minimumInService": {"type": "integer", "minimum": 1, "default": MIN_INSTANCES,
                                     "description": "Instances that must stay in service while instances are replaced."}},
)
# AWS's instance-refresh default when no preference is given.
INSTANCE_REFRESH_DEFAULT_MIN_HEALTHY = 90


def _validate_cycling_capacity(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ASG:
        return
    minimum = config_with_defaults(CYCLING_CAPACITY_SCHEMA, args.get_config())["minimumInService"]
    props = args.props
    min_size = int(props.get("minSize") or 0)
    policy = props.get("instanceMaintenancePolicy")
    if not policy:
        report("No instanceMaintenancePolicy: replacing an instance (max instance lifetime, health) terminates it "
               "before its replacement is in service. Set minHealthyPercentage 100 and maxHealthyPercentage above 100.")
    else:
        low = float(policy.get("minHealthyPercentage") or 0)
        high = float(policy.get("maxHealthyPercentage") or 0)
        in_service = math.floor(min_size * low / 100)
        if in_service < minimum:
            report(f"instanceMaintenancePolicy keeps {in_service} of {min_size} instances in service while replacing "
                   f"(minHealthyPercentage {low:g}); at least {minimum} must stay in service.")
        if math.floor(min_size * high / 100) <= min_size:
            report(f"instanceMaintenancePolicy maxHealthyPercentage {high:g} leaves no room to launch a replacement "
                   f"before terminating (group of {min_size}).")
    refresh = props.get("instanceRefresh")
    if refresh:
        low = float(dig(refresh, "preferences", "minHealthyPercentage", default=INSTANCE_REFRESH_DEFAULT_MIN_HEALTHY))
        in_service = math.floor(min_size * low / 100)
        if in_service < minimum:
            report(f"instanceRefresh keeps {in_service} of {min_size} instances in service "
                   f"(minHealthyPercentage {low:g}); at least {minimum} must stay in service.")


capacity_during_cycling = ResourceValidationPolicy(
    name="capacity-during-cycling",
    description=f"While instances are cycled or refreshed, at least {MIN_INSTANCES} stay in service: the group "
                "launches a replacement before it terminates (design doc 000).",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=CYCLING_CAPACITY_SCHEMA,
    validate=_validate_cycling_capacity,
)

# ------------------------------------------------------------ daily-cycling

LIFETIME_SCHEMA = PolicyConfigSchema(
    properties={"maximumLifetimeSeconds": {"type": "integer", "minimum": AWS_LIFETIME_MIN_SECONDS,
                                           "default": DAILY_CYCLE_SECONDS,
                                           "description": "Longest an instance may live before it is replaced."}},
)


def _validate_daily_cycling(args: StackValidationArgs, report: ReportViolation) -> None:
    maximum = config_with_defaults(LIFETIME_SCHEMA, args.get_config())["maximumLifetimeSeconds"]
    stack, unresolved = Stack(args), Unresolved()
    for group in stack.of_type(ASG):
        def check(group=group):
            lifetime = int(group.props.get("maxInstanceLifetime") or 0)
            if lifetime == 0:
                report(f"Auto Scaling group '{group.name}' sets no maxInstanceLifetime, so nodes are never cycled; "
                       f"set it to {maximum}.", group.urn)
            elif lifetime > maximum:
                report(f"Auto Scaling group '{group.name}' replaces instances after {lifetime} s; at most {maximum} s.",
                       group.urn)
            if truthy(group.props.get("protectFromScaleIn")):
                report(f"Auto Scaling group '{group.name}' protects new instances from scale-in, which also keeps "
                       "them from being replaced at their maximum lifetime.", group.urn)
        unresolved.check(group, check)
    for provider in stack.of_type(CAPACITY_PROVIDER):
        def check_provider(provider=provider):
            protection = dig(provider.props, "autoScalingGroupProvider", "managedTerminationProtection")
            if protection == "ENABLED":
                report(f"Capacity provider '{provider.name}' enables managed termination protection: it sets scale-in "
                       "protection on busy instances, so they are never cycled. Use managed draining instead.",
                       provider.urn)
        unresolved.check(provider, check_provider)
    unresolved.raise_if_any()


daily_cycling = StackValidationPolicy(
    name="daily-cycling",
    description="Nodes are replaced at least daily (design doc 000): maxInstanceLifetime is set and at most one day, "
                "and nothing (scale-in protection, managed termination protection) keeps instances from being replaced.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=LIFETIME_SCHEMA,
    validate=_validate_daily_cycling,
)

# ------------------------------------------------------------ stateless-nodes

STATELESS_SCHEMA = PolicyConfigSchema(
    properties={"allowedHostPaths": {"type": "array", "items": {"type": "string"}, "default": [],
                                     "description": "Host paths task definitions may mount (for example a log "
                                                    "router reading /var/log). Empty by default."}},
)


def _launch_template_volumes(resource, report: ReportViolation) -> None:
    for mapping in resource.props.get("blockDeviceMappings") or []:
        ebs = mapping.get("ebs")
        if ebs is not None and not truthy(ebs.get("deleteOnTermination")):
            report(f"Launch template '{resource.name}' keeps volume {mapping.get('deviceName')} after the instance "
                   "terminates; set deleteOnTermination to true.", resource.urn)


def _launch_configuration_volumes(resource, report: ReportViolation) -> None:
    for key in ("rootBlockDevice", "ebsBlockDevices"):
        value = resource.props.get(key)
        for device in ([value] if isinstance(value, Mapping) else value or []):
            if not truthy(device.get("deleteOnTermination", True)):
                report(f"Launch configuration '{resource.name}' keeps a volume after the instance terminates.",
                       resource.urn)


def _task_volumes(resource, allowed: list[str], report: ReportViolation) -> None:
    for volume in resource.props.get("volumes") or []:
        host_path = volume.get("hostPath")
        if host_path and host_path not in allowed:
            report(f"Task definition '{resource.name}' mounts host path {host_path} (volume {volume.get('name')}), "
                   "which ties its data to one node.", resource.urn)
        if dig(volume, "dockerVolumeConfiguration", "scope") == "shared":
            report(f"Task definition '{resource.name}' uses the shared-scope Docker volume {volume.get('name')}, which "
                   "keeps data on the node after the task stops.", resource.urn)


def _validate_stateless(args: StackValidationArgs, report: ReportViolation) -> None:
    allowed = list(config_with_defaults(STATELESS_SCHEMA, args.get_config())["allowedHostPaths"])
    stack, unresolved = Stack(args), Unresolved()
    for resource in stack.resources:
        kind = resource.resource_type
        if kind == LAUNCH_TEMPLATE:
            unresolved.check(resource, lambda r=resource: _launch_template_volumes(r, report))
        elif kind == LAUNCH_CONFIGURATION:
            unresolved.check(resource, lambda r=resource: _launch_configuration_volumes(r, report))
        elif kind == TASK_DEFINITION:
            unresolved.check(resource, lambda r=resource: _task_volumes(r, allowed, report))
        elif kind in (EBS_VOLUME, VOLUME_ATTACHMENT):
            report(f"'{resource.name}' ({kind}) puts a persistent volume on cluster nodes; nodes are stateless and "
                   "keep data in managed services (RDS, S3, EFS) instead.", resource.urn)
    unresolved.raise_if_any()


stateless_nodes = StackValidationPolicy(
    name="stateless-nodes",
    description="Cluster nodes are stateless and disposable (design doc 000): every launch-template volume is deleted "
                "on termination, no EBS volume is attached to nodes, and tasks use no host paths or shared-scope "
                "Docker volumes unless allow-listed.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=STATELESS_SCHEMA,
    validate=_validate_stateless,
)

# ------------------------------------------------------------ homogeneous-nodes


def _validate_homogeneous(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if args.resource_type == LAUNCH_TEMPLATE:
        if props.get("instanceRequirements"):
            report("The launch template selects instance types by attributes (instanceRequirements); name one "
                   "instanceType so every node is identical.")
        return
    if args.resource_type != ASG:
        return
    mixed = props.get("mixedInstancesPolicy")
    if not mixed:
        if not props.get("launchTemplate") and not props.get("launchConfiguration"):
            report("The group names neither a launch template nor a launch configuration.")
        return
    template = dig(mixed, "launchTemplate") or {}
    overrides = list(template.get("overrides") or [])
    types = {o.get("instanceType") for o in overrides if o.get("instanceType")}
    if len(types) > 1:
        report(f"mixedInstancesPolicy runs {len(types)} instance types ({', '.join(sorted(types))}); nodes must be "
               "identical.")
    if any(o.get("instanceRequirements") for o in overrides):
        report("mixedInstancesPolicy selects instance types by attributes; nodes must be identical.")
    if any(o.get("launchTemplateSpecification") for o in overrides):
        report("mixedInstancesPolicy overrides the launch template per instance type; use one launch template.")


homogeneous_nodes = ResourceValidationPolicy(
    name="homogeneous-nodes",
    description="Every cluster node is identical (design doc 000): one launch template and one instance type per "
                "group, no mixed-instances overrides. This deliberately departs from Security Hub AutoScaling.6, "
                "which recommends several instance types.",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_homogeneous,
)

# ------------------------------------------------------------ ecs-optimized-ami

AMI_SCHEMA = PolicyConfigSchema(
    properties={"allowedImagePrefixes": {"type": "array", "items": {"type": "string"},
                                         "default": [ECS_AMI_IMAGE_PREFIX],
                                         "description": "Image ids a node may boot: the ECS-optimized SSM parameters."}},
)


def _validate_ami(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION):
        return
    prefixes = config_with_defaults(AMI_SCHEMA, args.get_config())["allowedImagePrefixes"]
    image = args.props.get("imageId")
    if not image or not any(str(image).startswith(p) for p in prefixes):
        report(f"imageId is {image!r}; nodes boot the ECS-optimized AMI resolved at launch, for example "
               f"'{RESOLVE_SSM}{ECS_AMI_PARAMETER_X86_64}'.")


ecs_optimized_ami = ResourceValidationPolicy(
    name="ecs-optimized-ami",
    description="Nodes run Amazon's ECS-optimized AMI (design doc 000), resolved from its public SSM parameter at each "
                "launch so every daily-cycled node boots the latest patched image.",
    enforcement_level=EnforcementLevel.MANDATORY,
    config_schema=AMI_SCHEMA,
    validate=_validate_ami,
)

# ------------------------------------------------------------ logging-enabled


def _covered_vpcs(stack: Stack) -> set[str]:
    return {dep.urn for flow_log in stack.of_type(FLOW_LOG) for dep in deps(flow_log, "vpcId")}


def _has_flow_logs(stack: Stack, vpc, covered: set[str]) -> bool:
    related = {vpc.urn}
    parent = vpc.parent
    while parent is not None:
        related.add(parent.urn)
        parent = parent.parent
    related |= {child.urn for child in stack.descendants(vpc, VPC)}
    return bool(related & covered)


def _log_checks(stack: Stack, resource, covered: set[str], report: ReportViolation) -> None:
    kind, props = resource.resource_type, resource.props
    if kind == TASK_DEFINITION:
        for container in container_definitions(props):
            if not dig(container, "logConfiguration", "logDriver"):
                report(f"Container '{container.get('name')}' of task definition '{resource.name}' has no "
                       "logConfiguration (Security Hub ECS.9).", resource.urn)
    elif kind == ECS_CLUSTER:
        settings = {s.get("name"): s.get("value") for s in props.get("settings") or []}
        if settings.get("containerInsights") not in ("enabled", "enhanced"):
            report(f"ECS cluster '{resource.name}' does not enable Container Insights (Security Hub ECS.12).",
                   resource.urn)
        exec_config = dig(props, "configuration", "executeCommandConfiguration") or {}
        destination = dig(exec_config, "logConfiguration", "cloudWatchLogGroupName") or dig(
            exec_config, "logConfiguration", "s3BucketName")
        if exec_config.get("logging") != "OVERRIDE" or not destination:
            report(f"ECS cluster '{resource.name}' does not log ECS Exec sessions: set executeCommandConfiguration "
                   "logging OVERRIDE with a log group or bucket.", resource.urn)
    elif kind == LOG_GROUP:
        if not props.get("retentionInDays"):
            report(f"Log group '{resource.name}' keeps logs forever; set retentionInDays (Security Hub CloudWatch.16).",
                   resource.urn)
    elif kind in LOAD_BALANCERS:
        if props.get("loadBalancerType", "application") == "application" and not (
            truthy(dig(props, "accessLogs", "enabled")) and dig(props, "accessLogs", "bucket")
        ):
            report(f"Load balancer '{resource.name}' has no access logs (Security Hub ELB.5).", resource.urn)
    elif kind in (AWSX_VPC, VPC):
        if not _has_flow_logs(stack, resource, covered):
            report(f"VPC '{resource.name}' has no flow logs (Security Hub EC2.6).", resource.urn)


def _validate_logging(args: StackValidationArgs, report: ReportViolation) -> None:
    stack, unresolved = Stack(args), Unresolved()
    covered = _covered_vpcs(stack)
    for resource in stack.resources:
        unresolved.check(resource, lambda r=resource: _log_checks(stack, r, covered, report))
    unresolved.raise_if_any()


logging_enabled = StackValidationPolicy(
    name="logging-enabled",
    description="Everything logs (design doc 000: centralized logging): every container has a logConfiguration, "
                "clusters have Container Insights and ECS Exec logging, log groups have a retention, load balancers "
                "write access logs and VPCs have flow logs (Security Hub ECS.9, ECS.12, CloudWatch.16, ELB.5, EC2.6).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_logging,
)

# ------------------------------------------------------------ versioned-images


def _validate_images(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != TASK_DEFINITION:
        return
    for container in container_definitions(args.props):
        problem = pinned_image_problem(str(container.get("image") or ""))
        if problem:
            report(f"Container '{container.get('name')}': {problem}. Deploy a versioned image such as repo:1.4.2 or "
                   "repo@sha256:<digest>.")


versioned_images = ResourceValidationPolicy(
    name="versioned-images",
    description="Containers run pinned versions, never 'latest' or untagged images: the machine layer tracks "
                "container versions and a deploy is a new version (design doc 000).",
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=_validate_images,
)

INVARIANTS: list[Any] = [
    min_availability_zones,
    min_instances,
    capacity_during_cycling,
    daily_cycling,
    stateless_nodes,
    homogeneous_nodes,
    ecs_optimized_ami,
    logging_enabled,
    versioned_images,
]
