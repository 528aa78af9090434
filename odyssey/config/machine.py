"""The machine layer's configuration: tags, network, cluster and load balancer models.

Keys: ``odyssey:tags``, ``odyssey:network``, ``odyssey:cluster`` and
``odyssey:loadBalancer`` of an owning stack. Organisation invariants (the
minimum instances and AZs of ``odyssey.domain.invariants``) are the policy
pack's job; the defaults here already satisfy them.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, field_validator

from odyssey.config.aws_catalog import instance_types, unknown_name_problem
from odyssey.config.base import (
    DNS_NAME,
    Email,
    Model,
    PinnedImage,
    Setting,
    Tmpfs,
    check_env_names,
    check_hosts,
    check_tmpfs,
    checked,
)
from odyssey.domain import log_search, userdata
from odyssey.domain.ami import parse_instance_type
from odyssey.domain.images import EXAMPLE as IMAGE_EXAMPLE
from odyssey.domain.invariants import (
    AWS_LIFETIME_MAX_SECONDS,
    AWS_LIFETIME_MIN_SECONDS,
    AWS_LIFETIME_OFF,
    DAILY_CYCLE_SECONDS,
    MIN_AVAILABILITY_ZONES,
    MIN_INSTANCES,
)
from odyssey.domain.naming import (
    ODYSSEY_TAG_KEYS,
    RESOURCE_OWN_TAGS_MAX,
    ecs_service_prefix,
    registry_conflicts,
    slug,
)
from odyssey.domain.quotas import (
    ALB_RULE_PRIORITY_MAX,
    ALB_RULES_PER_LOAD_BALANCER,
    ALB_TARGET_GROUPS_PER_LOAD_BALANCER,
)
from odyssey.domain.routing import BAND_SIZE
from odyssey.domain.tags import RESERVED_PREFIX, TAGS_PER_RESOURCE_MAX, tag_value_problem
from odyssey.domain.waf import DEFAULT_RATE_WINDOW_SECONDS, RATE_LIMIT_MAX, RATE_LIMIT_MIN
from policies.rules.tls import MODERN_TLS_POLICIES, RECOMMENDED_TLS_POLICY

# An ALB needs subnets in at least two availability zones (ELB user guide, "Application Load Balancers": subnets).
ALB_MIN_SUBNETS = 2

AVAILABILITY_ZONE = re.compile(r"^(?P<region>[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d)[a-z]$")
ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate/[0-9a-f-]{36}$")
VPC_ID = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
PLAIN_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
LISTENER_SLOTS = 10
# Route 53 hosted zone ids: Z and up to 32 upper-case letters and digits.
HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,32}$")
# A stack registered with its slot alone may route this many public services: five such stacks share one ALB.
DEFAULT_ROUTING_BUDGET = 20
# Requests per client address per 5 minutes before WAF blocks it: ~6.7 a second, above any one person's browsing.
DEFAULT_WAF_RATE_LIMIT = 2_000
DAEMON_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")

IAM_PRINCIPAL_ARN = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
# Firehose buffers records for 0-900 seconds before it delivers them (its buffering hints).
FIREHOSE_BUFFER_MAX_SECONDS = 900

TAG_KEY = re.compile(r"^[A-Za-z0-9+\-=._:@]{1,128}$")


def check_ipv4_cidrs(value: list[str]) -> list[str]:
    for cidr in value:
        try:
            ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            raise ValueError(f"{cidr!r} is not an IPv4 CIDR block") from None
    duplicates = sorted({c for c in value if value.count(c) > 1})
    if duplicates:
        raise ValueError(f"lists {', '.join(duplicates)} more than once")
    return value


class Tags(Model):
    """Billing tags put on every resource through the provider's default tags (002's X-Dept and X-Contact)."""

    department: str = Field(
        min_length=1, max_length=256, examples=["platform"],
        description="Value of the `BillingDepartment` tag the AWS provider's default tags put on every resource, "
        "with `BillingContact`, `Project`, `Stack` and `ManagedBy`, so Cost Explorer splits the bill by "
        "department. An AWS tag value: at most 256 letters, digits, spaces and `_ . : / = + - @` (`R&D` is "
        "refused by IAM and ELB).",
    )
    contact: Email = Field(
        examples=["platform-team@example.com"],
        description="Value of the `BillingContact` tag on every resource: the email address to ask about a "
        "resource's cost or owner.",
    )
    extra: dict[str, Setting] = Field(
        default_factory=dict, examples=[{"CostCenter": "cc-1234"}],
        description="More tags for every resource, key to value, at most 43 (AWS allows 50 per resource; Odyssey "
        "sets 5 and a resource up to 2 of its own). Keys are 1-128 letters, digits and `+ - = . _ : @` (instances "
        "expose their tags in instance metadata, which allows no spaces or `/`), not `aws:`-prefixed nor one of "
        "Odyssey's own; values are at most 256 letters, digits, spaces and `_ . : / = + - @` (what IAM and ELB "
        "accept).",
    )

    @field_validator("department", "contact")
    @classmethod
    def _tag_value(cls, value: str) -> str:
        return checked(value, tag_value_problem(value))

    @field_validator("extra")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        problems = []
        # Tags reach instances, whose metadata exposes them: no spaces or '/' in keys there.
        bad = [k for k in value if not TAG_KEY.match(k) or k.lower().startswith(RESERVED_PREFIX)]
        if bad:
            problems.append(f"{', '.join(map(repr, bad))} not usable tag keys: 1-128 letters, digits and "
                            "+ - = . _ : @, not starting with 'aws:'")
        own = [k for k in value if k in ODYSSEY_TAG_KEYS]
        if own:
            problems.append(f"{', '.join(own)} {'is a tag' if len(own) == 1 else 'are tags'} Odyssey sets itself "
                            f"({', '.join(ODYSSEY_TAG_KEYS)}); use department and contact, or another key")
        problems += [f"{k}: {problem}" for k, v in value.items() if (problem := tag_value_problem(v))]
        room = TAGS_PER_RESOURCE_MAX - len(ODYSSEY_TAG_KEYS) - RESOURCE_OWN_TAGS_MAX
        if len(value) > room:
            problems.append(f"has {len(value)} tags; AWS allows {TAGS_PER_RESOURCE_MAX} per resource, of which "
                            f"Odyssey's {len(ODYSSEY_TAG_KEYS)} and a resource's own (up to {RESOURCE_OWN_TAGS_MAX}) "
                            f"leave {room}")
        if problems:
            raise ValueError("; ".join(problems))
        return value


class ExistingVpc(Model):
    """A VPC made elsewhere. Its subnets' AZs are looked up and must span at least 3."""

    vpc_id: str = Field(
        examples=["vpc-0a1b2c3d4e5f67890"],
        description="ID of the VPC to run in. Every listed subnet is looked up before anything registers and must "
        "belong to it.",
    )
    private_subnet_ids: list[str] = Field(
        min_length=MIN_AVAILABILITY_ZONES, examples=[["subnet-0a1b2c3d", "subnet-1a2b3c4d", "subnet-2a3b4c5d"]],
        description="Subnets the container instances launch in (the Auto Scaling group's VPC zone identifiers), "
        "in at least 3 availability zones. They need a route to a NAT gateway: the ECS agent, ECR and SSM are "
        "reached through it, since instances get no public IP.",
    )
    public_subnet_ids: list[str] = Field(
        min_length=ALB_MIN_SUBNETS, examples=[["subnet-3a4b5c6d", "subnet-4a5b6c7d", "subnet-5a6b7c8d"]],
        description="Subnets the internet-facing ALB is placed in, with a route to an internet gateway, in at "
        "least 2 availability zones (an Application Load Balancer needs two).",
    )

    @field_validator("vpc_id")
    @classmethod
    def _vpc_id(cls, value: str) -> str:
        if not VPC_ID.match(value):
            raise ValueError(f"{value!r} is not a VPC id")
        return value

    @field_validator("private_subnet_ids", "public_subnet_ids")
    @classmethod
    def _subnet_ids(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if not SUBNET_ID.match(s)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} {'is not a subnet id' if len(bad) == 1 else 'are not subnet ids'}")
        if len(set(value)) != len(value):
            raise ValueError("lists the same subnet more than once")
        return value


class NetworkConfig(Model):
    """The VPC the cluster runs in: a new awsx VPC, or an existing one."""

    cidr_block: str = Field(
        "10.0.0.0/16", examples=["10.20.0.0/16"],
        description="IPv4 CIDR block of the new VPC, /16 to /24, so a public and a private subnet fit in every "
        "zone. Default: a /16, room for 65,536 addresses. Only for a new VPC (not with `existing`).",
    )
    availability_zones: list[str] | None = Field(
        None, examples=[["us-east-1a", "us-east-1b", "us-east-1c"]],
        description="Availability zones of the new VPC's subnets: at least 3 distinct zones of the region, the "
        "organisation's minimum for the cluster. Unset: the region's first 3 available zones. Only for a new VPC.",
    )
    # No "None": nodes live in private subnets and reach ECS, ECR and SSM through NAT.
    nat_gateways: Literal["OnePerAz", "Single"] = Field(
        "OnePerAz", examples=["OnePerAz"],
        description="NAT gateways of the new VPC: `OnePerAz` (each zone keeps its outbound path when another zone "
        "fails) or `Single` (cheaper, one zone's outage cuts every node off). Not `None`: nodes live in private "
        "subnets and reach ECS, ECR and SSM through NAT. Only for a new VPC.",
    )
    existing: ExistingVpc | None = Field(
        None,
        examples=[{"vpcId": "vpc-0a1b2c3d4e5f67890",
                   "privateSubnetIds": ["subnet-0a1b2c3d", "subnet-1a2b3c4d", "subnet-2a3b4c5d"],
                   "publicSubnetIds": ["subnet-3a4b5c6d", "subnet-4a5b6c7d", "subnet-5a6b7c8d"]}],
        description="A VPC made elsewhere, to run in instead of creating one; its subnets are looked up: all "
        "must be in that VPC, the private ones in at least 3 zones, the public ones in at least 2. Unset: Odyssey "
        "creates an awsx VPC.",
    )

    @field_validator("cidr_block")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as error:
            raise ValueError(f"{value!r} is not an IPv4 CIDR block ({error})") from None
        if not 16 <= network.prefixlen <= 24:
            raise ValueError(f"{value!r} has a /{network.prefixlen} prefix; use /16 to /24 to fit subnets in every AZ")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _azs(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        bad = [az for az in value if not AVAILABILITY_ZONE.match(az)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} {'is not an availability zone name' if len(bad) == 1 else 'are not availability zone names'}")
        duplicates = sorted({az for az in value if value.count(az) > 1})
        if duplicates:
            raise ValueError(f"names {', '.join(duplicates)} more than once")
        if len(value) < MIN_AVAILABILITY_ZONES:
            raise ValueError(f"names {len(value)} availability zone(s); the machine layer needs at least "
                             f"{MIN_AVAILABILITY_ZONES}")
        return value


class HostDaemon(Model):
    """One container on every instance, run as an ECS service with the DAEMON strategy."""

    image: PinnedImage = Field(
        examples=[IMAGE_EXAMPLE],
        description="Container image, pinned by tag (`repo:tag`, never `latest`) or digest (`repo@sha256:...`), "
        "so every instance runs the same version.",
    )
    cpu: int = Field(
        0, ge=0, le=10240, examples=[128],
        description="CPU units reserved for the container on each instance (1,024 is one vCPU). Default 0: no "
        "reservation; the container shares the CPU left over.",
    )
    memory: int = Field(
        ge=6, le=1_048_576, examples=[256],
        description="Hard memory limit of the container in MiB; Docker kills it above this. ECS reserves it on "
        "every instance, so it counts against what services can use. Docker needs at least 6.",
    )
    command: list[str] = Field(
        default_factory=list, examples=[["--config", "/etc/agent.yaml"]],
        description="Command passed to the container, overriding the image's `CMD`. Empty: the image's own.",
    )
    environment: dict[str, Setting] = Field(
        default_factory=dict, examples=[{"LOG_LEVEL": "info"}],
        description="Environment variables of the container, name to value, in plain text in the task "
        "definition (no secrets here).",
    )
    readonly_root_filesystem: bool = Field(
        True, examples=[True],
        description="Mount the container's root filesystem read-only (Security Hub ECS.5); give the paths the "
        "daemon writes to (buffers, state) as `tmpfs`, or turn this off for an image that cannot run so.",
    )
    tmpfs: list[Tmpfs] = Field(
        default_factory=list, examples=[[{"containerPath": "/tmp", "sizeMib": 64}]],
        description="Writable memory-backed mounts (ECS `linuxParameters.tmpfs`), as for a service's `tmpfs`: "
        "each `containerPath`, `sizeMib` and `mountOptions`. Empty: none.",
    )

    _env_names = field_validator("environment")(check_env_names)
    _tmpfs = field_validator("tmpfs")(check_tmpfs)


class TenancyConfig(Model):
    """What the owner allots one application stack on its cluster: priorities, hosts, routing budget, capacity."""

    slot: int = Field(
        ge=1, le=LISTENER_SLOTS, examples=[2],
        description="The stack's slot (1-10) of 5,000 listener-rule priorities on the shared listener, so two "
        "stacks' rules cannot collide. Never reuse or renumber a slot in use.",
    )
    hosts: list[str] = Field(
        default_factory=list, examples=[["stage.example.com", "*.stage.example.com"]],
        description="Host names the stack may route (ALB host-header values: exact names or `*.` wildcards). "
        "Allotments of different stacks may not overlap, so no stack catches another's traffic. Empty: the "
        "stack may route any host no other stack is allotted.",
    )
    target_groups: int = Field(
        DEFAULT_ROUTING_BUDGET, ge=0, examples=[20],
        description="Routing budget: target groups the stack may create on its load balancer (one per public "
        "service). An ALB holds at most 100 (an AWS quota that cannot be raised); the budgets of the stacks on "
        "one ALB must fit it, or the owner runs another ALB.",
    )
    rules: int = Field(
        DEFAULT_ROUTING_BUDGET, ge=0, examples=[20],
        description="Routing budget: listener rules the stack may add to its load balancer's listener (one per "
        "public service). The budgets on one ALB must fit `odyssey:loadBalancer.rulesQuota`; at most 2,500, the "
        "rules one slot of priorities can order.",
    )
    cpu: int | None = Field(
        None, ge=0, examples=[4096],
        description="Capacity quota: CPU units (1,024 per vCPU) the stack's tasks may reserve, at desired counts "
        "and while its largest service deploys (up to twice its tasks). Unset: an equal share of what the "
        "cluster guarantees at its minimum size after losing a zone, less the explicit quotas.",
    )
    memory: int | None = Field(
        None, ge=0, examples=[8192],
        description="Capacity quota: MiB of memory the stack's tasks may reserve (each task's `memoryReservation`, "
        "else its `memory`), counted as for `cpu`. Unset: an equal share, as for `cpu`.",
    )
    load_balancer: int | None = Field(
        None, ge=1, examples=[2],
        description="Pins the stack to this ALB of the owner's ingress pool (1 is the first). Unset: the first "
        "ALB with room for its budget, taking stacks in slot order. Pin every stack once the pool has more than "
        "one ALB: moving a stack to another ALB changes the DNS name its hosts must point at.",
    )
    namespace: str | None = Field(
        None, examples=["stage.odyssey.internal"],
        description="The stack's Cloud Map namespace. No two stacks on the cluster may use the same one (Route 53 "
        "refuses a second private zone of a name in one VPC). Unset: the stack's default namespace "
        "(`<stack>.<project>.internal`).",
    )

    _hosts = field_validator("hosts")(check_hosts)

    @field_validator("target_groups")
    @classmethod
    def _target_groups(cls, value: int) -> int:
        if value > ALB_TARGET_GROUPS_PER_LOAD_BALANCER:
            raise ValueError(f"is {value}; one ALB holds at most {ALB_TARGET_GROUPS_PER_LOAD_BALANCER} target groups "
                             "(an AWS quota that cannot be raised) and a stack lives on one ALB of the pool")
        return value

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: int) -> int:
        # Rules with and without paths each take a band of the slot; either band may hold all of a stack's rules.
        if value > BAND_SIZE:
            raise ValueError(f"is {value}; one slot of listener priorities orders at most {BAND_SIZE:,} rules of a "
                             "stack")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value is not None and not DNS_NAME.match(value):
            raise ValueError(f"{value!r} is not a DNS name such as 'stage.odyssey.internal'")
        return value


class ClusterConfig(Model):
    """The shared ECS cluster: one homogeneous Auto Scaling group on the ECS-optimized AMI."""

    instance_type: str = Field(
        "m7i.large", examples=["m7i.large"],
        description="EC2 instance type of every container instance. One type, so every node is the same size "
        "(the policy pack's `homogeneous-nodes`); Graviton types get the arm64 ECS-optimized AMI. Default: a "
        "general-purpose type with 2 vCPUs and 8 GiB.",
    )
    min_size: int = Field(
        MIN_INSTANCES, ge=0, examples=[MIN_INSTANCES],
        description="Minimum size of the Auto Scaling group. Default 4: the organisation's minimum, which the "
        "policy pack's `min-instances` enforces.",
    )
    max_size: int = Field(
        12, ge=1, examples=[12],
        description="Maximum size of the Auto Scaling group, at least `minSize`; the capacity provider's managed "
        "scaling moves the desired count between the two. Default: three times the minimum.",
    )
    max_instance_lifetime_seconds: int = Field(
        DAILY_CYCLE_SECONDS, examples=[DAILY_CYCLE_SECONDS],
        description="Maximum instance lifetime of the Auto Scaling group: older instances are replaced, launch "
        "before terminate, each new one booting the latest ECS-optimized AMI. AWS accepts 0 (never) or "
        "86,400-31,536,000 seconds; default one day, the organisation's daily cycling (policy `daily-cycling`).",
    )
    root_volume_gib: int = Field(
        30, ge=30, le=16384, examples=[30],
        description="Size in GiB of each instance's root EBS volume: encrypted gp3, deleted on termination (nodes "
        "keep no state). At least 30, the ECS-optimized AMI's own root volume; at most 16,384, the gp3 maximum.",
    )
    target_capacity_percent: int = Field(
        90, ge=1, le=100, examples=[90],
        description="Target capacity of the ECS capacity provider's managed scaling: the share of instances "
        "ECS keeps running tasks (1-100). Below 100 keeps spare instances, so a deploy's new tasks place without "
        "waiting for an instance to launch.",
    )
    container_stop_timeout_seconds: int = Field(
        30, ge=1, le=600, examples=[30],
        description="The ECS agent's `ECS_CONTAINER_STOP_TIMEOUT`: how long a container gets after SIGTERM "
        "before it is killed when its task stops. Default: the agent's own, 30 s.",
    )
    task_cleanup_wait_minutes: int = Field(
        60, ge=1, examples=[60],
        description="The ECS agent's `ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION`: how long a stopped task's "
        "containers stay on the instance before the agent removes them. Default: an hour (the agent's is 3 h), "
        "to free disk sooner on nodes that live a day.",
    )
    image_cleanup_interval_minutes: int = Field(
        30, ge=10, examples=[30],
        description="The ECS agent's `ECS_IMAGE_CLEANUP_INTERVAL`: how often the agent removes unused images. At "
        "least 10 minutes, the agent's minimum; default the agent's own, 30.",
    )
    image_minimum_cleanup_age_minutes: int = Field(
        60, ge=1, examples=[60],
        description="The ECS agent's `ECS_IMAGE_MINIMUM_CLEANUP_AGE`: how long after it was pulled an image "
        "may be removed. Default: the agent's own, an hour.",
    )
    ecs_config: dict[str, Setting] = Field(
        default_factory=dict, examples=[{"ECS_RESERVED_MEMORY": "256"}],
        description="More ECS agent settings for `/etc/ecs/ecs.config`, written by the instances' user data, "
        "`ECS_*` name to value; not `ECS_CLUSTER` nor the settings above, which Odyssey sets.",
    )
    sysctls: dict[str, Setting] = Field(
        default_factory=dict, examples=[{"vm.max_map_count": "262144"}],
        description="Kernel parameters every instance sets at boot from its user data, name to value (such as "
        "`vm.max_map_count` for search engines). Nodes are replaced daily, so this is their only lasting tuning.",
    )
    daemons: dict[str, HostDaemon] = Field(
        default_factory=dict, examples=[{"log-shipper": {"image": "fluent/fluent-bit:3.1.9", "memory": 128}}],
        description="Host daemons by name (lowercase letters, digits and hyphens, at most 31): one container on "
        "every instance, each an ECS service with the DAEMON scheduling strategy, such as log shippers and "
        "monitoring agents. They log to the hosts' log group.",
    )
    application_stacks: dict[str, TenancyConfig] = Field(
        default_factory=dict, examples=[{"prod": {"slot": 1, "hosts": ["www.example.com"]}, "stage": 2}],
        description="On the owning stack: the application stacks allowed on this cluster (its tenants, itself "
        "included) and what each may use (see `<stack>.*`). The short form `stage: 2` gives the slot alone, with "
        "the default budget and quota and no allotted hosts. Names may not prefix one another (`prod`, `prod-eu`): `<stack>-` "
        "prefixes the ECS service names the event stream matches; nor may two become the same in AWS names "
        "(`Stage.EU`, `stage-eu`): both are compared as AWS names spell them. Empty: this stack alone, in slot 1.",
    )
    alarm_email: Email | None = Field(
        None, examples=["platform-team@example.com"],
        description="Email address subscribed to the cluster's alarm topic: CPU or memory reservation above 85% "
        "for 15 minutes, when the next deploy (which runs a service twice for a while) may not fit. Unset: the "
        "topic has no subscriber.",
    )

    @field_validator("application_stacks", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        # `stage: 2` is the slot alone.
        if isinstance(value, dict):
            return {name: {"slot": entry} if isinstance(entry, int) and not isinstance(entry, bool) else entry
                    for name, entry in value.items()}
        return value

    @field_validator("application_stacks")
    @classmethod
    def _registry(cls, value: dict[str, TenancyConfig]) -> dict[str, TenancyConfig]:
        problems = []
        bad_names = [n for n in value if not PLAIN_STACK_NAME.match(n)]
        if bad_names:
            problems.append(f"{', '.join(map(repr, bad_names))} not stack names such as 'stage'")
        slots = [tenancy.slot for tenancy in value.values()]
        shared = sorted({s for s in slots if slots.count(s) > 1})
        if shared:
            problems.append(f"slot(s) {', '.join(map(str, shared))} given to more than one stack; each stack needs "
                            "its own slot of listener-rule priorities")
        same, overlapping = registry_conflicts(value)
        for group in same:
            every = "both" if len(group) == 2 else "all"
            problems.append(f"stack names {' and '.join(group)} {every} become {slug(group[0])!r} in AWS names (ECS "
                            f"services {ecs_service_prefix(group[0])}<service>), so their services would collide; "
                            "rename one of the stacks")
        for a, b in overlapping:
            problems.append(f"stack names {a} and {b} overlap: {b}'s ECS services ({ecs_service_prefix(b)}<service>) "
                            f"start with {ecs_service_prefix(a)!r}, the prefix {a}'s event rules match on")
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        checked(value, unknown_name_problem(value, instance_types(), "an EC2 instance type"))
        parse_instance_type(value).architecture  # raises ValueError with the reason
        return value

    @field_validator("max_size")
    @classmethod
    def _max_at_least_min(cls, value: int, info) -> int:
        minimum = info.data.get("min_size")
        if minimum is not None and value < minimum:
            raise ValueError(f"is {value}, below minSize ({minimum})")
        return value

    @field_validator("max_instance_lifetime_seconds")
    @classmethod
    def _lifetime(cls, value: int) -> int:
        if value != AWS_LIFETIME_OFF and not AWS_LIFETIME_MIN_SECONDS <= value <= AWS_LIFETIME_MAX_SECONDS:
            raise ValueError(
                f"is {value}; AWS accepts {AWS_LIFETIME_OFF} (never replace) or {AWS_LIFETIME_MIN_SECONDS:,} to "
                f"{AWS_LIFETIME_MAX_SECONDS:,} seconds"
            )
        return value

    @field_validator("ecs_config")
    @classmethod
    def _ecs_config(cls, value: dict[str, str]) -> dict[str, str]:
        userdata.ecs_config_lines("validation", userdata.AgentSettings(extra=value))
        return value

    @field_validator("sysctls")
    @classmethod
    def _sysctls(cls, value: dict[str, str]) -> dict[str, str]:
        userdata.sysctl_lines(value)
        return value

    @field_validator("daemons")
    @classmethod
    def _daemon_names(cls, value: dict[str, HostDaemon]) -> dict[str, HostDaemon]:
        bad = [name for name in value if not DAEMON_NAME.match(name)]
        if bad:
            raise ValueError(f"daemon name(s) {', '.join(map(repr, bad))} must be lowercase letters, digits and hyphens, at most 31")
        return value

    def agent_settings(self) -> userdata.AgentSettings:
        return userdata.AgentSettings(
            container_stop_timeout_seconds=self.container_stop_timeout_seconds,
            task_cleanup_wait_minutes=self.task_cleanup_wait_minutes,
            image_cleanup_interval_minutes=self.image_cleanup_interval_minutes,
            image_minimum_cleanup_age_minutes=self.image_minimum_cleanup_age_minutes,
            extra=self.ecs_config,
        )


class WafConfig(Model):
    """The WAF web ACL in front of each ALB of the ingress pool."""

    enabled: bool = Field(
        True, examples=[True],
        description="Put a WAFv2 web ACL in front of every ALB of the pool: the AWS managed rule groups (core "
        "rule set, known bad inputs, Amazon IP reputation list) and a per-address rate limit, logged to "
        "`aws-waf-logs-<alb name>`. Turn off only where the cost is not worth it (a throwaway stack); the policy "
        "pack's `waf-on-load-balancers` then reports it.",
    )
    rate_limit: int = Field(
        DEFAULT_WAF_RATE_LIMIT, ge=RATE_LIMIT_MIN, le=RATE_LIMIT_MAX, examples=[DEFAULT_WAF_RATE_LIMIT],
        description=f"Requests one client address may send in {DEFAULT_RATE_WINDOW_SECONDS // 60} minutes "
        f"before WAF blocks it ({RATE_LIMIT_MIN}-{RATE_LIMIT_MAX:,}, AWS WAF's range). Default: "
        f"{DEFAULT_WAF_RATE_LIMIT:,}, about {DEFAULT_WAF_RATE_LIMIT // 300} requests a second, far above one "
        "browser and well below a flood.",
    )


class LoadBalancerConfig(Model):
    """The one Application Load Balancer every service on the cluster shares."""

    certificate_arn: str | None = Field(
        None, examples=["arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"],
        description="ARN of the ACM certificate (a wildcard one covers every service's host) of the HTTPS "
        "listener on 443, in the stack's region; HTTP on 80 then only redirects to HTTPS. Unset: plain HTTP only, "
        "with a warning.",
    )
    ssl_policy: str = Field(
        RECOMMENDED_TLS_POLICY, examples=[RECOMMENDED_TLS_POLICY],
        description="Security policy of the HTTPS listener: the TLS versions and ciphers it negotiates. One of the "
        "TLS 1.2/1.3 policies in `policies/rules/tls.py` (the policy pack checks the same list); default: the "
        "one AWS recommends.",
    )
    deletion_protection: bool = Field(
        True, examples=[True],
        description="Deletion protection of the ALB: AWS refuses to delete it until this is turned off, since "
        "every service of every stack is reached through it.",
    )
    idle_timeout_seconds: int = Field(
        60, ge=1, le=4000, examples=[60],
        description="Idle timeout of the ALB: how long a connection may carry no data before the ALB closes it "
        "(1-4,000). Default: the AWS default.",
    )
    access_log_expiration_days: int = Field(
        90, ge=1, examples=[90],
        description="Days after which the ALB's access logs expire from their S3 bucket (a lifecycle rule). "
        "Default: 90, a quarter to look back on.",
    )
    ingress_cidrs: list[str] = Field(
        default_factory=lambda: ["0.0.0.0/0"], min_length=1, examples=[["0.0.0.0/0"]],
        description="IPv4 CIDR blocks the ALB's security group admits on ports 80 and 443. Default: the whole "
        "internet, for public services.",
    )
    rules_quota: int = Field(
        ALB_RULES_PER_LOAD_BALANCER, ge=1, le=ALB_RULE_PRIORITY_MAX, examples=[ALB_RULES_PER_LOAD_BALANCER],
        description="The account's quota of listener rules per ALB (`rules-per-application-load-balancer`; AWS's "
        "default 100, adjustable through Service Quotas). The routing budgets of the stacks on one ALB must fit "
        "it; past it the owner runs another ALB.",
    )
    waf: WafConfig = Field(
        default_factory=WafConfig, examples=[{"enabled": True, "rateLimit": DEFAULT_WAF_RATE_LIMIT}],
        description="The WAF web ACL of each ALB (see `waf.*`). Default: on, with the default rate limit.",
    )
    hosted_zone_id: str | None = Field(
        None, examples=["Z0123456789ABCDEFGHIJ"],
        description="A Route 53 public hosted zone to write alias records in: every stack's allotted hosts "
        "point at the ALB that stack is on. Unset: DNS is managed elsewhere; the outputs name each stack's ALB.",
    )

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not HOSTED_ZONE_ID.match(value):
            raise ValueError(f"{value!r} is not a Route 53 hosted zone id such as 'Z0123456789ABCDEFGHIJ'")
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, value: str | None) -> str | None:
        if value is not None and not ACM_CERTIFICATE_ARN.match(value):
            raise ValueError(f"{value!r} is not an ACM certificate ARN")
        return value

    @field_validator("ssl_policy")
    @classmethod
    def _tls(cls, value: str) -> str:
        if value not in MODERN_TLS_POLICIES:
            raise ValueError(f"{value!r} is not one of the TLS 1.2/1.3 policies Odyssey accepts "
                             f"({', '.join(MODERN_TLS_POLICIES)})")
        return value

    _ingress = field_validator("ingress_cidrs")(check_ipv4_cidrs)


class LogSearchConfig(Model):
    """The cluster's log search: an OpenSearch domain fed by every application stack's log groups.

    Set on the stack that owns the cluster; every stack on the cluster has its
    log groups subscribed. The domain lives in three zones with three dedicated
    master nodes (AWS's recommendation for production domains), sized by the
    data-node count (``odyssey.domain.log_search``).
    """

    engine_version: str = Field(
        "OpenSearch_2.19", examples=["OpenSearch_2.19"],
        description="OpenSearch version of the domain, pinned: an upgrade is a deliberate change. One of the "
        "OpenSearch versions Amazon OpenSearch Service runs (`odyssey/domain/log_search.py` lists them).",
    )
    instance_type: str = Field(
        "r6g.large.search", examples=["r6g.large.search"],
        description="Instance type of the data nodes: an OpenSearch Service type (they end in `.search`) with gp3 "
        "EBS storage, current generation (m5, m6g, m7g, m7i, c5, c6g, c7g, c7i, r5, r6g, r7g, r7i, or1). Default: "
        "memory-optimized Graviton with 2 vCPUs and 16 GiB.",
    )
    data_nodes: int = Field(
        3, examples=[3],
        description="Number of data nodes, spread evenly over three availability zones: a multiple of 3, at most 80 "
        "(the default quota of instances per domain).",
    )
    volume_gib: int = Field(
        100, examples=[100],
        description="Size in GiB of each data node's gp3 EBS volume, within what AWS allows for the instance type "
        "(10 GiB up to 256 GiB-36 TiB by type; the or1 types from 20 GiB).",
    )
    dedicated_master_type: str | None = Field(
        None, examples=["m6g.large.search"],
        description="Instance type of the three dedicated master nodes. Unset: the smallest type AWS recommends for "
        "the number of data nodes (`m6g.large.search` up to 10, then larger).",
    )
    master_user_arn: str | None = Field(
        None, examples=["arn:aws:iam::123456789012:role/search-admin"],
        description="IAM role or user that is the domain's master user under fine-grained access control (no "
        "internal user database). Unset: Odyssey creates a role that principals of this account may assume.",
    )
    operator_cidrs: list[str] = Field(
        default_factory=list, examples=[["10.0.0.0/8"]],
        description="IPv4 CIDR blocks (a VPN, a bastion's subnet) admitted to the domain on 443 besides the "
        "ingestion. The domain has no public endpoint: these must reach the VPC. Empty: only the ingestion.",
    )
    snapshot_hour: int = Field(
        3, ge=0, le=23, examples=[3],
        description="Hour (UTC, 0-23) of the domain's automated snapshot. OpenSearch domains also snapshot hourly "
        "on their own and keep 14 days of them.",
    )
    buffer_seconds: int = Field(
        60, ge=0, le=FIREHOSE_BUFFER_MAX_SECONDS, examples=[60],
        description="How long Firehose buffers log records before it indexes them (0-900 s): the delay before a "
        "log line is searchable.",
    )
    backup_expiration_days: int = Field(
        30, ge=1, examples=[30],
        description="Days after which records the domain refused expire from the backup bucket.",
    )

    @field_validator("engine_version")
    @classmethod
    def _engine_version(cls, value: str) -> str:
        return checked(value, log_search.engine_version_problem(value))

    @field_validator("instance_type", "dedicated_master_type")
    @classmethod
    def _instance_type(cls, value: str | None) -> str | None:
        return checked(value, value and log_search.instance_type_problem(value))

    @field_validator("data_nodes")
    @classmethod
    def _data_nodes(cls, value: int) -> int:
        return checked(value, log_search.data_nodes_problem(value))

    @field_validator("volume_gib")
    @classmethod
    def _volume(cls, value: int, info) -> int:
        return checked(value, log_search.volume_problem(info.data.get("instance_type", ""), value))

    @field_validator("master_user_arn")
    @classmethod
    def _master_user(cls, value: str | None) -> str | None:
        if value is not None and not IAM_PRINCIPAL_ARN.match(value):
            raise ValueError(f"{value!r} is not the ARN of an IAM role or user")
        return value

    _operator_cidrs = field_validator("operator_cidrs")(check_ipv4_cidrs)

    @property
    def master_type(self) -> str:
        return self.dedicated_master_type or log_search.dedicated_master_type(self.data_nodes)
