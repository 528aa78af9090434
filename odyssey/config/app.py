"""The application stack's configuration: services, scheduled tasks and the stack's own settings.

Keys: ``odyssey:app``, ``odyssey:services`` and ``odyssey:schedules``. Checks
that need the whole stack (duplicate routes, a schedule naming a service, a
service larger than a node) live in ``odyssey.config.stack.StackConfig``.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from odyssey.config.base import Email, Model, Setting, check_env_names
from odyssey.domain.images import EXAMPLE as IMAGE_EXAMPLE
from odyssey.domain.images import pinned_image_problem
from odyssey.domain.schedules import schedule_expression_problem
from policies.rules.secrets import looks_like_secret

# A service's name is its Cloud Map DNS label and part of every AWS name derived from it.
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$")
DNS_LABEL_MAX = 63
HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
PATH = re.compile(r"^/[A-Za-z0-9_.~*?/-]*$")
DNS_NAME = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
SECRET_REF = re.compile(r"^[A-Za-z0-9_./-]+$")
ULIMIT_NAMES = {"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
                "rtprio", "rttime", "sigpending", "stack"}


def check_hosts(value: list[str]) -> list[str]:
    bad = [h for h in value if not HOST.match(h)]
    if bad:
        raise ValueError(f"{', '.join(map(repr, bad))} not host names such as 'www.example.com'")
    return value


def name_problem(name: str, what: str) -> str | None:
    if len(name) > DNS_LABEL_MAX:
        return (f"{what} name {name!r} is {len(name)} characters; it is a DNS label in Cloud Map and AWS names, "
                f"so at most {DNS_LABEL_MAX}")
    if not SERVICE_NAME.match(name):
        return f"{what} name {name!r} must be lowercase letters, digits and hyphens, starting with a letter"
    return None


class TargetHealthCheck(Model):
    """The load balancer's health check of each container (002 uses 10 s and thresholds of 2)."""

    path: str = Field("/health", examples=["/health"])
    interval_seconds: int = Field(10, ge=5, le=300, examples=[10])
    timeout_seconds: int = Field(5, ge=2, le=120, examples=[5])
    healthy_threshold: int = Field(2, ge=2, le=10, examples=[2])
    unhealthy_threshold: int = Field(2, ge=2, le=10, examples=[2])
    matcher: str = Field("200-399", examples=["200-399"])

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or len(value) > 1024:
            raise ValueError(f"{value!r} is not a path such as '/health'")
        return value

    @field_validator("matcher")
    @classmethod
    def _matcher(cls, value: str) -> str:
        if not re.match(r"^[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*$", value):
            raise ValueError(f"{value!r} is not HTTP codes such as '200', '200,204' or '200-399'")
        return value

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> TargetHealthCheck:
        if self.timeout_seconds >= self.interval_seconds:
            raise ValueError(f"timeoutSeconds ({self.timeout_seconds}) must be below intervalSeconds "
                             f"({self.interval_seconds})")
        return self


class PublicRoute(Model):
    """How the shared ALB reaches the service: by host header and/or path."""

    hosts: list[str] = Field(default_factory=list, examples=[["www.example.com"]])
    paths: list[str] = Field(default_factory=list, examples=[["/api/*"]])
    health_check: TargetHealthCheck = Field(default_factory=TargetHealthCheck)
    deregistration_delay_seconds: int = Field(30, ge=0, le=3600, examples=[30])

    _hosts = field_validator("hosts")(check_hosts)

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        bad = [p for p in value if not PATH.match(p) or len(p) > 128]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} not path patterns such as '/api/*'")
        return value


class ContainerHealthCheck(Model):
    command: list[str] = Field(min_length=1, examples=[["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"]])

    @field_validator("command")
    @classmethod
    def _form(cls, value: list[str]) -> list[str]:
        if value[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise ValueError(f"must start with CMD, CMD-SHELL or NONE, not {value[0]!r}")
        return value

    interval_seconds: int = Field(30, ge=5, le=300)
    timeout_seconds: int = Field(5, ge=2, le=60)
    retries: int = Field(3, ge=1, le=10)
    start_period_seconds: int = Field(0, ge=0, le=300)


class SecretRef(Model):
    """A secret from this stack's SSM path or Secrets Manager prefix; the name is relative to it."""

    ssm: str | None = Field(None, examples=["db/password"])
    secrets_manager: str | None = Field(None, examples=["db-credentials"])

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [v for v in (self.ssm, self.secrets_manager) if v is not None]
        if len(given) != 1:
            raise ValueError('give exactly one of ssm or secretsManager, for example {"ssm": "db/password"}')
        if not SECRET_REF.match(given[0]) or given[0].startswith("/") or ".." in given[0]:
            raise ValueError(f"{given[0]!r} must be a name relative to the stack's path, such as 'db/password'")
        return self


class Ulimit(Model):
    soft: int = Field(ge=0)
    hard: int = Field(ge=0)

    @model_validator(mode="after")
    def _soft_within_hard(self) -> Ulimit:
        if self.soft > self.hard:
            raise ValueError(f"soft ({self.soft}) is above hard ({self.hard}); Docker would refuse to start the container")
        return self


class Autoscaling(Model):
    """Target tracking on CPU and/or ALB requests per target, between a minimum and a maximum count."""

    min_count: int = Field(ge=1, examples=[2])
    max_count: int = Field(ge=1, examples=[10])
    cpu_target_percent: int | None = Field(None, ge=10, le=90, examples=[60])
    requests_per_target: int | None = Field(None, ge=1, examples=[1000])

    @model_validator(mode="after")
    def _coherent(self) -> Autoscaling:
        if self.max_count < self.min_count:
            raise ValueError(f"maxCount ({self.max_count}) is below minCount ({self.min_count})")
        if self.cpu_target_percent is None and self.requests_per_target is None:
            raise ValueError("set cpuTargetPercent and/or requestsPerTarget, for example cpuTargetPercent: 60")
        return self


class ServiceConfig(Model):
    """One containerized service, deployed by image version."""

    image: str = Field(examples=[IMAGE_EXAMPLE])
    cpu: int = Field(256, ge=0, le=196_608, examples=[256])
    memory: int = Field(512, ge=6, examples=[512])
    memory_reservation: int | None = Field(None, ge=6, examples=[256])
    port: int | None = Field(None, ge=1, le=65535, examples=[8080])
    public: PublicRoute | None = None
    discovery: bool = Field(True, examples=[True])
    desired_count: int = Field(2, ge=0, examples=[2])
    autoscaling: Autoscaling | None = None
    command: list[str] = Field(default_factory=list, examples=[["./worker", "--queue", "jobs"]])
    environment: dict[str, Setting] = Field(default_factory=dict, examples=[{"LOG_LEVEL": "info"}])
    secrets: dict[str, SecretRef] = Field(default_factory=dict, examples=[{"DB_PASSWORD": {"ssm": "db/password"}}])
    health_check: ContainerHealthCheck | None = None
    ulimits: dict[str, Ulimit] = Field(default_factory=dict, examples=[{"nofile": {"soft": 262144, "hard": 262144}}])
    stop_timeout_seconds: int = Field(30, ge=1, le=120, examples=[30])
    readonly_root_filesystem: bool = Field(False, examples=[True])
    enable_exec: bool = Field(False, examples=[True])
    health_check_grace_period_seconds: int = Field(60, ge=0, le=2_147_483_647, examples=[60])
    task_role_policy_arns: list[str] = Field(default_factory=list, examples=[["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]])

    @field_validator("image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        problem = pinned_image_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    _env_names = field_validator("environment", "secrets")(check_env_names)

    @field_validator("environment")
    @classmethod
    def _no_plain_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        plain = [name for name in value if looks_like_secret(name)]
        if plain:
            raise ValueError(
                f"{', '.join(plain)} {'looks' if len(plain) == 1 else 'look'} like a secret given as a plain value; "
                f'move it to secrets, for example secrets: {{{plain[0]}: {{ssm: "{plain[0].lower().replace("_", "-")}"}}}}'
            )
        return value

    @field_validator("ulimits")
    @classmethod
    def _ulimits(cls, value: dict[str, Ulimit]) -> dict[str, Ulimit]:
        bad = sorted(set(value) - ULIMIT_NAMES)
        if bad:
            raise ValueError(f"{', '.join(bad)} not ulimit names ({', '.join(sorted(ULIMIT_NAMES))})")
        return value

    @field_validator("task_role_policy_arns")
    @classmethod
    def _policy_arns(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not re.match(r"^arn:aws(-[a-z]+)*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$", a)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} not IAM policy ARNs")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> ServiceConfig:
        problems = []
        if self.public is not None and self.port is None:
            problems.append("public needs a port for the load balancer to reach")
        if self.memory_reservation is not None and self.memory_reservation > self.memory:
            problems.append(f"memoryReservation ({self.memory_reservation}) is above memory ({self.memory})")
        if self.autoscaling and self.autoscaling.requests_per_target and self.public is None:
            problems.append("autoscaling.requestsPerTarget needs a public service (it counts ALB requests)")
        if self.enable_exec and self.readonly_root_filesystem:
            problems.append("enableExec needs a writable root filesystem (the ECS Exec agent writes to it); "
                            "turn off readonlyRootFilesystem or enableExec")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def kind(self) -> str:
        if self.public is not None:
            return "public"
        return "internal" if self.port is not None else "worker"

    @property
    def discoverable(self) -> bool:
        return self.port is not None and self.discovery


class ScheduleConfig(Model):
    """A task run on a schedule: a service's task definition, with its own command."""

    service: str = Field(examples=["worker"])
    expression: str = Field(examples=["cron(0 3 * * ? *)"])
    timezone: str = Field("UTC", examples=["Europe/Berlin"])
    command: list[str] = Field(default_factory=list, examples=[["./report", "--nightly"]])
    retries: int = Field(2, ge=0, le=185, examples=[2])
    max_event_age_seconds: int = Field(3600, ge=60, le=86400, examples=[3600])
    enabled: bool = Field(True, examples=[True])

    @field_validator("expression")
    @classmethod
    def _expression(cls, value: str) -> str:
        problem = schedule_expression_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as 'UTC' or 'Europe/Berlin'") from None
        return value


class Notifications(Model):
    email: Email | None = Field(None, examples=["ops@example.com"])
    https: str | None = Field(None, examples=["https://hooks.example.com/odyssey"])

    @field_validator("https")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^\s/$.?#].[^\s]*$", value):
            raise ValueError(f"{value!r} is not an https:// URL")
        return value


class AppConfig(Model):
    """Settings of the application stack as a whole."""

    namespace: str | None = Field(None, examples=["prod.odyssey.internal"])
    default_hosts: list[str] = Field(default_factory=list, examples=[["www.example.com"]])
    notifications: Notifications = Field(default_factory=Notifications)
    secrets_path: str | None = Field(None, examples=["/odyssey/prod/"])

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value is not None and not DNS_NAME.match(value):
            raise ValueError(f"{value!r} is not a DNS name such as 'prod.odyssey.internal'")
        return value

    _hosts = field_validator("default_hosts")(check_hosts)

    @field_validator("secrets_path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^/[A-Za-z0-9_./-]*/$", value):
            raise ValueError(f"{value!r} must start and end with '/', such as '/odyssey/prod/'")
        return value
