"""The machine layer's configuration: tags, network, cluster and load balancer models.

Keys: ``odyssey:tags``, ``odyssey:network``, ``odyssey:cluster`` and
``odyssey:loadBalancer`` of an owning stack. Organisation invariants (at least
4 instances, at least 3 AZs) are the policy pack's job; the defaults here
already satisfy them.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator

from odyssey.config.base import Email, Model, Setting, check_env_names
from odyssey.domain import userdata
from odyssey.domain.ami import parse_instance_type
from odyssey.domain.images import EXAMPLE as IMAGE_EXAMPLE
from odyssey.domain.images import pinned_image_problem
from odyssey.domain.naming import ecs_service_prefix, registry_conflicts, slug
from policies.rules.tls import MODERN_TLS_POLICIES, RECOMMENDED_TLS_POLICY

# AWS: max instance lifetime is 0 (off) or 86,400 to 31,536,000 seconds.
LIFETIME_MIN_SECONDS = 86_400
LIFETIME_MAX_SECONDS = 31_536_000

AVAILABILITY_ZONE = re.compile(r"^(?P<region>[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d)[a-z]$")
ACM_CERTIFICATE_ARN = re.compile(r"^arn:aws(-[a-z]+)*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate/[0-9a-f-]{36}$")
VPC_ID = re.compile(r"^vpc-[0-9a-f]{8}([0-9a-f]{9})?$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8}([0-9a-f]{9})?$")
PLAIN_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
LISTENER_SLOTS = 10
DAEMON_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")

TAG_KEY = re.compile(r"^[A-Za-z0-9+\-=._:@]{1,128}$")


class Tags(Model):
    """Billing tags put on every resource through the provider's default tags (002's X-Dept and X-Contact)."""

    department: str = Field(min_length=1, max_length=256, examples=["platform"])
    contact: Email = Field(examples=["platform-team@example.com"])
    extra: dict[str, Setting] = Field(default_factory=dict, examples=[{"CostCenter": "cc-1234"}])

    @field_validator("extra")
    @classmethod
    def _tag_keys(cls, value: dict[str, str]) -> dict[str, str]:
        # Tags reach instances, whose metadata exposes them: no spaces or '/' in keys there.
        bad = [k for k in value if not TAG_KEY.match(k) or k.lower().startswith("aws:")]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} not usable tag keys: 1-128 letters, digits and "
                             "+ - = . _ : @, not starting with 'aws:'")
        long_values = [k for k, v in value.items() if len(v) > 256]
        if long_values:
            raise ValueError(f"the values of {', '.join(long_values)} are longer than 256 characters")
        return value


class ExistingVpc(Model):
    """A VPC made elsewhere. Its subnets' AZs are looked up and must span at least 3."""

    vpc_id: str = Field(examples=["vpc-0a1b2c3d4e5f67890"])
    private_subnet_ids: list[str] = Field(min_length=3, examples=[["subnet-0a1b2c3d", "subnet-1a2b3c4d", "subnet-2a3b4c5d"]])
    public_subnet_ids: list[str] = Field(min_length=2, examples=[["subnet-3a4b5c6d", "subnet-4a5b6c7d", "subnet-5a6b7c8d"]])

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

    cidr_block: str = Field("10.0.0.0/16", examples=["10.20.0.0/16"])
    availability_zones: list[str] | None = Field(None, examples=[["us-east-1a", "us-east-1b", "us-east-1c"]])
    # No "None": nodes live in private subnets and reach ECS, ECR and SSM through NAT.
    nat_gateways: Literal["OnePerAz", "Single"] = Field("OnePerAz", examples=["OnePerAz"])
    existing: ExistingVpc | None = None

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
        if len(value) < 3:
            raise ValueError(f"names {len(value)} availability zone(s); the machine layer needs at least 3")
        return value


class HostDaemon(Model):
    """One container on every instance, run as an ECS service with the DAEMON strategy."""

    image: str = Field(examples=[IMAGE_EXAMPLE])
    cpu: int = Field(0, ge=0, le=10240, examples=[128])
    memory: int = Field(ge=6, le=1_048_576, examples=[256])
    command: list[str] = Field(default_factory=list, examples=[["--config", "/etc/agent.yaml"]])
    environment: dict[str, Setting] = Field(default_factory=dict, examples=[{"LOG_LEVEL": "info"}])

    @field_validator("image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        problem = pinned_image_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    _env_names = field_validator("environment")(check_env_names)


class ClusterConfig(Model):
    """The shared ECS cluster: one homogeneous Auto Scaling group on the ECS-optimized AMI."""

    instance_type: str = Field("m7i.large", examples=["m7i.large"])
    min_size: int = Field(4, ge=0, examples=[4])
    max_size: int = Field(12, ge=1, examples=[12])
    max_instance_lifetime_seconds: int = Field(LIFETIME_MIN_SECONDS, examples=[LIFETIME_MIN_SECONDS])
    root_volume_gib: int = Field(30, ge=30, le=16384, examples=[30])
    target_capacity_percent: int = Field(90, ge=1, le=100, examples=[90])
    container_stop_timeout_seconds: int = Field(30, ge=1, le=600, examples=[30])
    task_cleanup_wait_minutes: int = Field(60, ge=1, examples=[60])
    image_cleanup_interval_minutes: int = Field(30, ge=10, examples=[30])
    image_minimum_cleanup_age_minutes: int = Field(60, ge=1, examples=[60])
    ecs_config: dict[str, Setting] = Field(default_factory=dict, examples=[{"ECS_RESERVED_MEMORY": "256"}])
    sysctls: dict[str, Setting] = Field(default_factory=dict, examples=[{"vm.max_map_count": "262144"}])
    daemons: dict[str, HostDaemon] = Field(default_factory=dict)
    application_stacks: dict[str, int] = Field(default_factory=dict, examples=[{"prod": 1, "stage": 2}])
    alarm_email: Email | None = Field(None, examples=["platform-team@example.com"])

    @field_validator("application_stacks")
    @classmethod
    def _registry(cls, value: dict[str, int]) -> dict[str, int]:
        problems = []
        bad_names = [n for n in value if not PLAIN_STACK_NAME.match(n)]
        if bad_names:
            problems.append(f"{', '.join(map(repr, bad_names))} not stack names such as 'stage'")
        bad_slots = [f"{n}: {s}" for n, s in value.items() if not 1 <= s <= LISTENER_SLOTS]
        if bad_slots:
            problems.append(f"slots must be 1-{LISTENER_SLOTS} ({', '.join(bad_slots)})")
        slots = list(value.values())
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
        if value != 0 and not LIFETIME_MIN_SECONDS <= value <= LIFETIME_MAX_SECONDS:
            raise ValueError(
                f"is {value}; AWS accepts 0 (never replace) or {LIFETIME_MIN_SECONDS:,} to {LIFETIME_MAX_SECONDS:,} seconds"
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


class LoadBalancerConfig(Model):
    """The one Application Load Balancer every service on the cluster shares."""

    certificate_arn: str | None = Field(
        None, examples=["arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"]
    )
    ssl_policy: str = Field(RECOMMENDED_TLS_POLICY, examples=[RECOMMENDED_TLS_POLICY])
    deletion_protection: bool = Field(True, examples=[True])
    idle_timeout_seconds: int = Field(60, ge=1, le=4000, examples=[60])
    access_log_expiration_days: int = Field(90, ge=1, examples=[90])
    ingress_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1, examples=[["0.0.0.0/0"]])

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

    @field_validator("ingress_cidrs")
    @classmethod
    def _ingress(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.IPv4Network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"{cidr!r} is not an IPv4 CIDR block") from None
        duplicates = sorted({c for c in value if value.count(c) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once")
        return value
