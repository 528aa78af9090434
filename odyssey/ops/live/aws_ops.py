"""Operating a live cluster with boto3: status, the cycle audit, the rollout watcher, shell targets.

Names come from the stack's outputs. Every list goes through a paginator;
clients use the standard retry mode (throttling is retried with backoff) and
timeouts; AWS errors become an ``OpsError`` with a message an operator can act
on, never a traceback.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from odyssey.domain.invariants import (
    AWS_LIFETIME_OFF,
    CYCLE_AUDIT_GRACE_SECONDS,
    DAILY_CYCLE_SECONDS,
    MIN_AVAILABILITY_ZONES,
    MIN_INSTANCES,
    ZONE_BALANCE_TOLERANCE,
)
from odyssey.domain.naming import tenant_of

CLIENT_CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 8}, connect_timeout=5, read_timeout=30)
HOUR_SECONDS = 3_600
# ECS API reference: DescribeContainerInstances takes up to 100 container instances, DescribeServices up to 10
# services. EC2 DescribeInstances takes the same 100 ids per call, keeping each request small.
CONTAINER_INSTANCES_PER_CALL = 100
SERVICES_PER_CALL = 10
INSTANCES_PER_CALL = 100
# The status shows a service's latest few events; more belongs in the console.
RECENT_EVENTS = 3


class OpsError(Exception):
    """An AWS call failed in a way the operator can fix; the message says how."""


def clients(region: str, session: boto3.Session | None = None, config: Config = CLIENT_CONFIG) -> dict[str, Any]:
    session = session or boto3.Session()
    return {name: session.client(name, region_name=region, config=config) for name in ("ecs", "autoscaling", "ec2")}


def explain(error: Exception, what: str) -> OpsError:
    """Turn a boto error into one sentence that says what failed and what to do."""
    if isinstance(error, NoCredentialsError):
        return OpsError(f"{what}: no AWS credentials found; set AWS_PROFILE or run `aws sso login`")
    if isinstance(error, NoRegionError):
        return OpsError(f"{what}: no AWS region; the stack's outputs name one, or set AWS_REGION")
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation") or status == 403:
            # Some endpoints answer a JSON API with an XML error body; keep only its text.
            text = " ".join(re.sub(r"<[^>]+>", " ", message).split())
            return OpsError(f"{what}: access denied ({text}); the caller needs read access to ECS, Auto Scaling "
                            "and EC2 in this account")
        if code == "ClusterNotFoundException":
            return OpsError(f"{what}: the cluster does not exist; is the stack deployed in this account and region?")
        return OpsError(f"{what}: {code}: {message}")
    return OpsError(f"{what}: {error}")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def camel(name: str) -> str:
    """A Python field name as a JSON key: ``instance_id`` becomes ``instanceId``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camel_keys(value: Any) -> Any:
    """A dataclass dump with camelCase keys throughout, the shape every ``--json`` prints."""
    if isinstance(value, dict):
        return {camel(key): camel_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camel_keys(item) for item in value]
    return value


@dataclass(frozen=True)
class Finding:
    """One thing wrong with the cluster, as a sentence and as data: what kind, which instance, which zones.

    ``kind`` is one of ``overdue``, ``neverCycled``, ``belowMinimum``, ``tooFewZones``,
    ``unbalanced`` and ``agentDisconnected``.
    """

    kind: str
    message: str
    instance_id: str | None = None
    zone: str | None = None
    zones: dict[str, int] | None = None

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict[str, Any]:
        return {camel(key): value for key, value in asdict(self).items() if value is not None}


# Where an instance stands against the stack's maximum lifetime.
PAST_LIFETIME = "past lifetime"  # older than the lifetime: the group replaces it soon
OVERDUE = "overdue"  # older than the lifetime and the grace: cycling is not replacing it


@dataclass
class Node:
    instance_id: str
    availability_zone: str
    lifecycle_state: str
    launched_at: str
    age_hours: float
    agent_connected: bool | None
    cpu_reserved_percent: float | None
    memory_reserved_percent: float | None
    lifetime: str | None = None  # PAST_LIFETIME, OVERDUE or None


@dataclass
class ServiceState:
    name: str
    tenant: str | None
    desired: int
    running: int
    pending: int
    rollout_state: str | None
    rollout_reason: str | None
    task_definition: str | None
    exec_enabled: bool
    events: list[str]


@dataclass
class ClusterStatus:
    cluster: str
    region: str
    nodes: list[Node]
    services: list[ServiceState]
    warnings: list[Finding] = field(default_factory=list)

    @property
    def in_service(self) -> list[Node]:
        return [n for n in self.nodes if n.lifecycle_state == "InService"]

    def nodes_per_zone(self) -> dict[str, int]:
        return dict(sorted(Counter(n.availability_zone for n in self.in_service).items()))

    def of_tenant(self, stack: str) -> ClusterStatus:
        """The same cluster with only ``stack``'s services: the instances are every tenant's."""
        return ClusterStatus(self.cluster, self.region, self.nodes, [s for s in self.services if s.tenant == stack],
                             self.warnings)

    def to_json(self) -> dict[str, Any]:
        return {"cluster": self.cluster, "region": self.region,
                "nodes": camel_keys([asdict(n) for n in self.nodes]), "nodesPerZone": self.nodes_per_zone(),
                "services": camel_keys([asdict(s) for s in self.services]),
                "warnings": [w.to_json() for w in self.warnings]}


def _reserved(resources: dict[str, list[dict]], name: str) -> float | None:
    registered = next((r["integerValue"] for r in resources["registeredResources"] if r["name"] == name), None)
    remaining = next((r["integerValue"] for r in resources["remainingResources"] if r["name"] == name), None)
    if not registered or remaining is None:
        return None
    return round(100 * (registered - remaining) / registered, 1)


def lifetime_of(age_hours: float, max_lifetime_seconds: int, grace_seconds: int) -> str | None:
    """PAST_LIFETIME, OVERDUE or None: an instance's age against the lifetime (AWS_LIFETIME_OFF: the daily cycle)."""
    limit = max_lifetime_seconds if max_lifetime_seconds != AWS_LIFETIME_OFF else DAILY_CYCLE_SECONDS
    age = age_hours * HOUR_SECONDS
    if age > limit + grace_seconds:
        return OVERDUE
    return PAST_LIFETIME if age > limit else None


def cluster_status(aws: dict[str, Any], cluster: str, group: str, region: str, minimum: int = MIN_INSTANCES,
                   now: datetime | None = None, max_lifetime_seconds: int = DAILY_CYCLE_SECONDS,
                   grace_seconds: int = CYCLE_AUDIT_GRACE_SECONDS, tenants: Iterable[str] = ()) -> ClusterStatus:
    """The ops view 003 had: nodes per AZ with their age and reservations, services with their rollouts.

    Each instance's age is held to ``max_lifetime_seconds`` (and the grace);
    each service is given the tenant, among ``tenants``, whose prefix it carries.
    """
    tenants = list(tenants)
    now = now or datetime.now(timezone.utc)
    try:
        found = aws["ecs"].describe_clusters(clusters=[cluster])
        if not [c for c in found["clusters"] if c.get("status") == "ACTIVE"]:
            raise OpsError(f"cluster {cluster} not found in {region}; is the stack deployed in this account and region?")
        groups = [g for page in aws["autoscaling"].get_paginator("describe_auto_scaling_groups")
                  .paginate(AutoScalingGroupNames=[group]) for g in page["AutoScalingGroups"]]
        if not groups:
            raise OpsError(f"Auto Scaling group {group} not found; is the stack deployed in {region}?")
        members = {i["InstanceId"]: i for i in groups[0]["Instances"]}
        launched, zones = {}, {}
        for chunk in _chunks(sorted(members), INSTANCES_PER_CALL):
            for page in aws["ec2"].get_paginator("describe_instances").paginate(InstanceIds=chunk):
                for reservation in page["Reservations"]:
                    for instance in reservation["Instances"]:
                        launched[instance["InstanceId"]] = instance["LaunchTime"]
                        zones[instance["InstanceId"]] = instance.get("Placement", {}).get("AvailabilityZone")
        agents = {}
        arns = [a for page in aws["ecs"].get_paginator("list_container_instances").paginate(cluster=cluster)
                for a in page["containerInstanceArns"]]
        for chunk in _chunks(arns, CONTAINER_INSTANCES_PER_CALL):
            for ci in aws["ecs"].describe_container_instances(cluster=cluster, containerInstances=chunk)["containerInstances"]:
                agents[ci["ec2InstanceId"]] = ci
        service_arns = [a for page in aws["ecs"].get_paginator("list_services").paginate(cluster=cluster)
                        for a in page["serviceArns"]]
        described = [s for chunk in _chunks(service_arns, SERVICES_PER_CALL)
                     for s in aws["ecs"].describe_services(cluster=cluster, services=chunk)["services"]]
    except (ClientError, BotoCoreError) as error:
        raise explain(error, f"reading cluster {cluster}") from None

    nodes = []
    for instance_id, member in sorted(members.items()):
        started = launched.get(instance_id)
        agent = agents.get(instance_id)
        age_hours = round((now - started).total_seconds() / HOUR_SECONDS, 1) if started else 0.0
        nodes.append(Node(
            instance_id=instance_id,
            availability_zone=zones.get(instance_id) or member["AvailabilityZone"],
            lifecycle_state=member["LifecycleState"],
            launched_at=started.isoformat() if started else "",
            age_hours=age_hours,
            agent_connected=agent["agentConnected"] if agent else None,
            cpu_reserved_percent=_reserved(agent, "CPU") if agent else None,
            memory_reserved_percent=_reserved(agent, "MEMORY") if agent else None,
            lifetime=lifetime_of(age_hours, max_lifetime_seconds, grace_seconds),
        ))
    services = []
    for service in sorted(described, key=lambda s: s["serviceName"]):
        primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})
        services.append(ServiceState(
            name=service["serviceName"], tenant=tenant_of(service["serviceName"], tenants),
            desired=service["desiredCount"], running=service["runningCount"],
            pending=service["pendingCount"], rollout_state=primary.get("rolloutState"),
            rollout_reason=primary.get("rolloutStateReason"),
            task_definition=primary.get("taskDefinition") or service.get("taskDefinition"),
            exec_enabled=bool(service.get("enableExecuteCommand")),
            events=[e["message"] for e in service.get("events", [])[:RECENT_EVENTS]],
        ))
    status = ClusterStatus(cluster=cluster, region=region, nodes=nodes, services=services)
    status.warnings = _warnings(status, minimum, max_lifetime_seconds, grace_seconds)
    return status


def _below_minimum(status: ClusterStatus, minimum: int) -> list[Finding]:
    in_service = len(status.in_service)
    if in_service >= minimum:
        return []
    return [Finding("belowMinimum", f"{in_service} instances in service, below the minimum of {minimum}",
                    zones=status.nodes_per_zone())]


def _spread(zones: Mapping[str, int]) -> str:
    return ", ".join(f"{count} in {zone}" for zone, count in zones.items()) or "none"


def _unbalanced(status: ClusterStatus) -> list[Finding]:
    zones = status.nodes_per_zone()
    if zones and max(zones.values()) - min(zones.values()) > ZONE_BALANCE_TOLERANCE:
        return [Finding("unbalanced", f"instances in service are unbalanced across availability zones: "
                                      f"{_spread(zones)}", zones=zones)]
    return []


def _overdue(status: ClusterStatus, max_lifetime_seconds: int, grace_seconds: int) -> list[Finding]:
    shown = max_lifetime_seconds if max_lifetime_seconds != AWS_LIFETIME_OFF else DAILY_CYCLE_SECONDS
    return [Finding("overdue", f"{node.instance_id} in {node.availability_zone} is {node.age_hours:.1f} h old, past "
                               f"the {shown / HOUR_SECONDS:.0f} h maximum lifetime and "
                               f"{grace_seconds / HOUR_SECONDS:.1f} h of grace: cycling is not replacing it "
                               "(scale-in protection? a failing instance refresh?)",
                    instance_id=node.instance_id, zone=node.availability_zone)
            for node in status.in_service
            if lifetime_of(node.age_hours, max_lifetime_seconds, grace_seconds) == OVERDUE]


def _warnings(status: ClusterStatus, minimum: int, max_lifetime_seconds: int, grace_seconds: int) -> list[Finding]:
    warnings = _below_minimum(status, minimum) + _unbalanced(status)
    warnings += _overdue(status, max_lifetime_seconds, grace_seconds)
    for node in status.in_service:
        if node.agent_connected is False:
            warnings.append(Finding("agentDisconnected", f"the ECS agent on {node.instance_id} in "
                                    f"{node.availability_zone} is disconnected: ECS places no task on it",
                                    instance_id=node.instance_id, zone=node.availability_zone))
    return warnings


@dataclass
class Audit:
    findings: list[Finding]

    @property
    def broken(self) -> bool:
        return bool(self.findings)


@dataclass(frozen=True)
class Expected:
    """What the live cluster is checked against, and, in ``notes``, each number that fell back to the invariant."""

    minimum: int
    max_lifetime_seconds: int
    zones: int
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"minimum": self.minimum, "maxLifetimeSeconds": self.max_lifetime_seconds, "zones": self.zones}


def expected_of(outputs: Mapping[str, Any], minimum: int | None = None,
                max_lifetime_seconds: int | None = None) -> Expected:
    """The stack's own values (its outputs), each overridden by an operator's flag when given.

    A stack whose cluster's owner was deployed before it exported ``minSize`` or
    ``maxInstanceLifetimeSeconds`` lacks them (or carries None): that number is
    the invariant's, and a note says so.
    """
    notes: list[str] = []

    def pick(flag: int | None, output: str, read: Callable[[Any], int], invariant: int, meaning: str) -> int:
        if flag is not None:
            return flag
        if outputs.get(output) is not None:
            return read(outputs[output])
        notes.append(f"the stack does not export {output} (its cluster's owner was deployed before it did): "
                     f"checking {meaning} against the invariant, {invariant}")
        return invariant

    return Expected(
        minimum=pick(minimum, "minSize", int, MIN_INSTANCES, "instances in service"),
        max_lifetime_seconds=pick(max_lifetime_seconds, "maxInstanceLifetimeSeconds", int, DAILY_CYCLE_SECONDS,
                                  "instance ages (seconds)"),
        zones=pick(None, "availabilityZones", len, MIN_AVAILABILITY_ZONES, "the zones instances span"),
        notes=tuple(notes),
    )


def cycle_audit(status: ClusterStatus, max_lifetime_seconds: int = DAILY_CYCLE_SECONDS, minimum: int = MIN_INSTANCES,
                minimum_zones: int = MIN_AVAILABILITY_ZONES, grace_seconds: int = CYCLE_AUDIT_GRACE_SECONDS) -> Audit:
    """Is the daily cycle working now? Overdue instances, too few in service, too few or unbalanced zones."""
    findings = []
    if max_lifetime_seconds == AWS_LIFETIME_OFF:
        findings.append(Finding("neverCycled", "the group sets no maximum instance lifetime, so instances are never "
                                f"cycled; ages are checked against the daily cycle ({DAILY_CYCLE_SECONDS} s)"))
    findings += _overdue(status, max_lifetime_seconds, grace_seconds)
    findings += _below_minimum(status, minimum)
    zones = status.nodes_per_zone()
    if len(zones) < minimum_zones:
        findings.append(Finding("tooFewZones", f"instances in service span {len(zones)} availability zone(s), "
                                f"below {minimum_zones}: {_spread(zones)}", zones=zones))
    findings += _unbalanced(status)
    return Audit(findings=findings)


# ------------------------------------------------------------------ rollouts


@dataclass
class Rollout:
    service: str
    outcome: str  # COMPLETED, FAILED or ROLLED_BACK
    reason: str
    events: list[str]


def primary_deployment(ecs: Any, cluster: str, service: str) -> dict[str, Any] | None:
    """The deployment a service runs now (id and task definition), or None when the service is new."""
    try:
        services = ecs.describe_services(cluster=cluster, services=[service])["services"]
    except (ClientError, BotoCoreError) as error:
        raise explain(error, f"reading {service}") from None
    if not services:
        return None
    primary = next((d for d in services[0].get("deployments", []) if d.get("status") == "PRIMARY"), None)
    return {"id": primary["id"], "taskDefinition": primary["taskDefinition"]} if primary else None


def _outcome(primary: dict[str, Any], previous: dict[str, Any] | None, failed: dict[str, Any] | None,
             polls: int) -> tuple[str, str] | None:
    """The rollout's outcome from the deployments ECS shows now, or None while it is still going."""
    reason = primary.get("rolloutStateReason", "")
    if previous is not None and primary.get("id") == previous["id"]:
        # UpdateService starts the new deployment before it returns, so none means nothing changed.
        return ("COMPLETED", "no new deployment: the service already runs this version") if polls == 1 else None
    if previous is not None and primary.get("taskDefinition") == previous["taskDefinition"]:
        # The circuit breaker rolls back by starting a new deployment of the previous revision.
        return "ROLLED_BACK", (failed or {}).get("rolloutStateReason") or reason or "back on the previous revision"
    if primary.get("rolloutState") == "COMPLETED":
        return "COMPLETED", reason
    if primary.get("rolloutState") == "FAILED":
        return ("ROLLED_BACK" if "roll" in reason.lower() and "back" in reason.lower() else "FAILED"), reason
    return None


def watch_rollout(ecs: Any, cluster: str, service: str, previous: dict[str, Any] | None = None,
                  on_progress: Callable[[dict[str, Any]], None] | None = None, poll_seconds: float = 10,
                  timeout_seconds: float = 1800, sleep: Callable[[float], None] = time.sleep) -> Rollout:
    """Follow a service's new deployment until it completes, fails, or the circuit breaker rolls it back.

    ``previous`` is the deployment that ran before the update (``primary_deployment``):
    the rollout followed is the one ECS started after it, by id.
    """
    deadline = time.monotonic() + timeout_seconds
    seen_events: set[str] = set()
    events: list[str] = []
    failed: dict[str, Any] | None = None
    polls = 0
    while True:
        polls += 1
        try:
            described = ecs.describe_services(cluster=cluster, services=[service])
        except (ClientError, BotoCoreError) as error:
            raise explain(error, f"watching {service}") from None
        if not described["services"]:
            raise OpsError(f"service {service} not found in cluster {cluster}")
        state = described["services"][0]
        for event in reversed(state.get("events", [])):
            if event["id"] not in seen_events:
                seen_events.add(event["id"])
                events.append(event["message"])
        deployments = state.get("deployments", [])
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), {})
        failed = failed or next((d for d in deployments if d.get("rolloutState") == "FAILED"
                                 and (previous is None or d.get("id") != previous["id"])), None)
        if on_progress is not None:
            on_progress({
                "service": service,
                "rolloutState": primary.get("rolloutState"),
                "running": primary.get("runningCount", state.get("runningCount")),
                "desired": primary.get("desiredCount", state.get("desiredCount")),
                "pending": primary.get("pendingCount", state.get("pendingCount")),
                "failedTasks": primary.get("failedTasks", 0),
                "events": events[-RECENT_EVENTS:],
            })
        outcome = _outcome(primary, previous, failed, polls)
        if outcome is not None:
            return Rollout(service, outcome[0], outcome[1], events)
        if time.monotonic() > deadline:
            return Rollout(service, "FAILED", f"no outcome after {timeout_seconds:.0f} s", events)
        sleep(poll_seconds)


# ------------------------------------------------------------------ versions: what runs, what ran before


@dataclass(frozen=True)
class Version:
    """A service's version as ECS knows it: the task definition revision and the image of the service's container."""

    task_definition: str
    image: str

    @property
    def revision(self) -> str:
        """``family:revision``, the short form of the task definition's ARN."""
        return self.task_definition.rsplit("/", 1)[-1]


def _image(task_definition: dict[str, Any], container: str) -> str:
    containers = task_definition["containerDefinitions"]
    # The service's container carries its name (components/app/service.py); a lone container is it too.
    found = next((c for c in containers if c["name"] == container), containers[0] if len(containers) == 1 else None)
    if found is None:
        raise OpsError(f"task definition {task_definition['taskDefinitionArn']} has no container named {container}")
    return found["image"]


def running_version(ecs: Any, cluster: str, service: str, container: str) -> Version:
    """What the service's PRIMARY deployment runs: after a circuit-breaker rollback, the previous revision."""
    try:
        described = ecs.describe_services(cluster=cluster, services=[service])["services"]
        if not described:
            raise OpsError(f"service {service} not found in cluster {cluster}")
        primary = next((d for d in described[0].get("deployments", []) if d.get("status") == "PRIMARY"), None)
        arn = primary["taskDefinition"] if primary else described[0]["taskDefinition"]
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    except (ClientError, BotoCoreError) as error:
        raise explain(error, f"reading {service}'s version") from None
    return Version(definition["taskDefinitionArn"], _image(definition, container))


def previous_version(ecs: Any, cluster: str, service: str, container: str) -> tuple[Version, Version]:
    """The version running now and the one before it: the latest earlier revision of the family with another image.

    ECS keeps every revision, ACTIVE or deregistered (INACTIVE: Pulumi deregisters
    the revision it replaces), each with its image: that is the deploy history.
    Revisions that only changed settings keep the image and are passed over.
    """
    running = running_version(ecs, cluster, service, container)
    family, _, number = running.revision.rpartition(":")
    try:
        arns = [arn for status in ("ACTIVE", "INACTIVE")
                for page in ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status=status)
                for arn in page["taskDefinitionArns"]]
        earlier = sorted((int(arn.rsplit(":", 1)[1]), arn) for arn in arns
                         if arn.rsplit("/", 1)[-1].rpartition(":")[0] == family and int(arn.rsplit(":", 1)[1]) < int(number))
        for _, arn in reversed(earlier):
            definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
            image = _image(definition, container)
            if image != running.image:
                return running, Version(arn, image)
    except (ClientError, BotoCoreError) as error:
        raise explain(error, f"reading {family}'s revisions") from None
    raise OpsError(f"{service} runs {running.image} ({running.revision}) and no earlier revision of {family} has "
                   "another image: there is no previous version to return to")


# ------------------------------------------------------------------ shell access


def instances_in_service(aws: dict[str, Any], group: str) -> list[dict[str, str]]:
    """The group's instances in service, each with its id and zone: the shell's choices."""
    try:
        found = [i for page in aws["autoscaling"].get_paginator("describe_auto_scaling_groups").paginate(
            AutoScalingGroupNames=[group]) for g in page["AutoScalingGroups"] for i in g["Instances"]]
    except (ClientError, BotoCoreError) as error:
        raise explain(error, "finding a shell target") from None
    return sorted(({"instanceId": i["InstanceId"], "zone": i["AvailabilityZone"]} for i in found
                   if i["LifecycleState"] == "InService"), key=lambda i: (i["zone"], i["instanceId"]))


def instance_command(region: str, instance_id: str) -> list[str]:
    """SSM Session Manager on one instance: replaces 004's ssh.sh and its jump server."""
    return ["aws", "ssm", "start-session", "--region", region, "--target", instance_id]


def exec_command(aws: dict[str, Any], cluster: str, region: str, service: str, container: str | None = None) -> list[str]:
    """ECS Exec into a running task of ``service``: replaces 004's attach.sh. Refused when the service does not
    enable it (ECS would refuse the session after the plugin started, with a less helpful message)."""
    try:
        described = aws["ecs"].describe_services(cluster=cluster, services=[service])["services"]
        if not described:
            raise OpsError(f"service {service} not found in cluster {cluster}")
        if not described[0].get("enableExecuteCommand"):
            raise OpsError(f"service {service} does not enable ECS Exec (enableExecuteCommand is off); set "
                           "enableExec: true on the service in odyssey:services and run `up`, then retry")
        tasks = [t for page in aws["ecs"].get_paginator("list_tasks").paginate(
            cluster=cluster, serviceName=service, desiredStatus="RUNNING") for t in page["taskArns"]]
        if not tasks:
            raise OpsError(f"service {service} has no running task to attach to")
        found = aws["ecs"].describe_tasks(cluster=cluster, tasks=tasks[:1])["tasks"]
    except (ClientError, BotoCoreError) as error:
        raise explain(error, "finding a shell target") from None
    if not found:
        raise OpsError(f"the task of {service} stopped before it could be attached to; try again")
    described_task = found[0]
    name = container or described_task["containers"][0]["name"]
    return ["aws", "ecs", "execute-command", "--region", region, "--cluster", cluster, "--task",
            described_task["taskArn"], "--container", name, "--interactive", "--command", "/bin/sh"]
