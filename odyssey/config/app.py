"""The application stack's configuration: services, scheduled tasks and the stack's own settings.

Keys: ``odyssey:app``, ``odyssey:services`` and ``odyssey:schedules``. Checks
that need the whole stack (duplicate routes, a schedule naming a service, a
service larger than a node) live in ``odyssey.config.stack.StackConfig``.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

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
from odyssey.domain.images import EXAMPLE as IMAGE_EXAMPLE
from odyssey.domain.quotas import ECS_TASKS_PER_SERVICE
from odyssey.domain.routing import matcher_problem
from odyssey.domain.schedules import schedule_expression_problem
from policies.rules.secrets import looks_like_secret

# A service's name is its Cloud Map DNS label and part of every AWS name derived from it.
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$|^[a-z]$")
DNS_LABEL_MAX = 63
PATH = re.compile(r"^/[A-Za-z0-9_.~*?/-]*$")
SECRET_REF = re.compile(r"^[A-Za-z0-9_./-]+$")
ULIMIT_NAMES = {"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc", "rss",
                "rtprio", "rttime", "sigpending", "stack"}



def name_problem(name: str, what: str) -> str | None:
    if len(name) > DNS_LABEL_MAX:
        return (f"{what} name {name!r} is {len(name)} characters; it is a DNS label in Cloud Map and AWS names, "
                f"so at most {DNS_LABEL_MAX}")
    if not SERVICE_NAME.match(name):
        return f"{what} name {name!r} must be lowercase letters, digits and hyphens, starting with a letter"
    return None


class TargetHealthCheck(Model):
    """The load balancer's health check of each container (002 uses 10 s and thresholds of 2)."""

    path: str = Field(
        "/health", examples=["/health"],
        description="Path the ALB requests on each target (an instance and the task's host port) to check its "
        "health, at most 1,024 characters.",
    )
    interval_seconds: int = Field(
        10, ge=5, le=300, examples=[10],
        description="Seconds between the ALB's health checks of each target (5-300). Default 10, so a failing "
        "container leaves the rotation within about 20 s (002).",
    )
    timeout_seconds: int = Field(
        5, ge=2, le=120, examples=[5],
        description="Seconds without a response after which a health check fails (2-120), below "
        "`intervalSeconds`. Default: the AWS default for HTTP targets.",
    )
    healthy_threshold: int = Field(
        2, ge=2, le=10, examples=[2],
        description="Consecutive successful checks before an unhealthy target gets traffic again (2-10). "
        "Default 2 (002), so a new task serves after about 20 s.",
    )
    unhealthy_threshold: int = Field(
        2, ge=2, le=10, examples=[2],
        description="Consecutive failed checks before the ALB stops routing to a target (2-10). Default 2 (002).",
    )
    matcher: str = Field(
        "200-399", examples=["200-399"],
        description="HTTP codes that count as healthy: one (`200`), a list (`200,204`) or a range (`200-399`), "
        "within 200-499 (what an ALB accepts). Default: any success or redirect.",
    )

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or len(value) > 1024:
            raise ValueError(f"{value!r} is not a path such as '/health'")
        return value

    @field_validator("matcher")
    @classmethod
    def _matcher(cls, value: str) -> str:
        return checked(value, matcher_problem(value))

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> TargetHealthCheck:
        if self.timeout_seconds >= self.interval_seconds:
            raise ValueError(f"timeoutSeconds ({self.timeout_seconds}) must be below intervalSeconds "
                             f"({self.interval_seconds})")
        return self


class PublicRoute(Model):
    """How the shared ALB reaches the service: by host header and/or path."""

    hosts: list[str] = Field(
        default_factory=list, examples=[["www.example.com"]],
        description="Host names the service's rule on the shared listener matches (a host-header condition; "
        "`*.example.com` wildcards allowed). Empty: `odyssey:app.defaultHosts`; every rule has a host, so no "
        "stack catches another's traffic.",
    )
    paths: list[str] = Field(
        default_factory=list, examples=[["/api/*"]],
        description="Path patterns the rule matches too (a path-pattern condition; `*` and `?` wildcards), such "
        "as `/api/*`. Empty: every path of the hosts. Rules with paths take priority over host-only rules.",
    )
    health_check: TargetHealthCheck = Field(
        default_factory=TargetHealthCheck, examples=[{"path": "/healthz", "intervalSeconds": 15}],
        description="The target group's health check: the ALB routes only to targets that pass it, and a "
        "deployment whose new tasks fail it is rolled back by the circuit breaker.",
    )
    deregistration_delay_seconds: int = Field(
        30, ge=0, le=3600, examples=[30],
        description="Deregistration delay of the target group: how long the ALB lets in-flight requests finish on "
        "a target being removed (deploys, scale-in) before dropping it (0-3,600). Default 30 s (002), not AWS's "
        "300, so deploys do not wait five minutes per task.",
    )

    _hosts = field_validator("hosts")(check_hosts)

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: list[str]) -> list[str]:
        bad = [p for p in value if not PATH.match(p) or len(p) > 128]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} not path patterns such as '/api/*'")
        return value


class ContainerHealthCheck(Model):
    """The container's own health check, which Docker runs inside it (the task definition's ``healthCheck``)."""

    command: list[str] = Field(
        min_length=1, examples=[["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"]],
        description="Command Docker runs in the container: `CMD` and its arguments, `CMD-SHELL` and a shell "
        "command, or `NONE`; exit code 0 is healthy. ECS replaces a task whose essential container turns "
        "unhealthy.",
    )

    @field_validator("command")
    @classmethod
    def _form(cls, value: list[str]) -> list[str]:
        if value[0] not in ("CMD", "CMD-SHELL", "NONE"):
            raise ValueError(f"must start with CMD, CMD-SHELL or NONE, not {value[0]!r}")
        return value

    interval_seconds: int = Field(
        30, ge=5, le=300, examples=[30],
        description="Seconds between checks (5-300). Default: the ECS default.",
    )
    timeout_seconds: int = Field(
        5, ge=2, le=60, examples=[5],
        description="Seconds a check may take before it counts as failed (2-60). Default: the ECS default.",
    )
    retries: int = Field(
        3, ge=1, le=10, examples=[3],
        description="Consecutive failed checks before the container is unhealthy (1-10). Default: the ECS default.",
    )
    start_period_seconds: int = Field(
        0, ge=0, le=300, examples=[60],
        description="Seconds after the container starts during which failed checks do not count (0-300), for "
        "slow starters. Default 0: counted from the start.",
    )


class SecretRef(Model):
    """A secret from this stack's SSM path or Secrets Manager prefix; the name is relative to it."""

    ssm: str | None = Field(
        None, examples=["db/password"],
        description="Name of an SSM Parameter Store parameter under the stack's `secretsPath`, relative to it; "
        "ECS reads it at task start through the execution role. Give this or `secretsManager`.",
    )
    secrets_manager: str | None = Field(
        None, examples=["db-credentials"],
        description="Name of a Secrets Manager secret under the stack's prefix (`secretsPath` without the "
        "leading `/`), relative to it. Give this or `ssm`.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [v for v in (self.ssm, self.secrets_manager) if v is not None]
        if len(given) != 1:
            raise ValueError('give exactly one of ssm or secretsManager, for example {"ssm": "db/password"}')
        if not SECRET_REF.match(given[0]) or given[0].startswith("/") or ".." in given[0]:
            raise ValueError(f"{given[0]!r} must be a name relative to the stack's path, such as 'db/password'")
        return self


class Ulimit(Model):
    """One Linux resource limit of the container (the task definition's ``ulimits``)."""

    soft: int = Field(
        ge=0, examples=[262144],
        description="Soft limit: the value the container's processes start with; they may raise it up to `hard`.",
    )
    hard: int = Field(
        ge=0, examples=[262144],
        description="Hard limit: the ceiling the soft limit may be raised to, at least `soft`.",
    )

    @model_validator(mode="after")
    def _soft_within_hard(self) -> Ulimit:
        if self.soft > self.hard:
            raise ValueError(f"soft ({self.soft}) is above hard ({self.hard}); Docker would refuse to start the container")
        return self


class Autoscaling(Model):
    """Target tracking on CPU and/or ALB requests per target, between a minimum and a maximum count."""

    min_count: int = Field(
        ge=1, le=ECS_TASKS_PER_SERVICE, examples=[2],
        description="Minimum task count of the Application Auto Scaling target; the service starts with this many.",
    )
    max_count: int = Field(
        ge=1, le=ECS_TASKS_PER_SERVICE, examples=[10],
        description="Maximum task count of the Application Auto Scaling target, at least `minCount` and at most "
        "5,000 (ECS's tasks per service, not adjustable).",
    )
    cpu_target_percent: int | None = Field(
        None, ge=10, le=90, examples=[60],
        description="Target of a target-tracking policy on the service's average CPU utilization "
        "(`ECSServiceAverageCPUUtilization`), 10-90. Unset: no CPU policy.",
    )
    requests_per_target: int | None = Field(
        None, ge=1, examples=[1000],
        description="Target of a target-tracking policy on ALB requests per target per minute "
        "(`ALBRequestCountPerTarget`); public services only. Unset: no request policy.",
    )

    @model_validator(mode="after")
    def _coherent(self) -> Autoscaling:
        if self.max_count < self.min_count:
            raise ValueError(f"maxCount ({self.max_count}) is below minCount ({self.min_count})")
        if self.cpu_target_percent is None and self.requests_per_target is None:
            raise ValueError("set cpuTargetPercent and/or requestsPerTarget, for example cpuTargetPercent: 60")
        return self


class ServiceConfig(Model):
    """One containerized service, deployed by image version."""

    image: PinnedImage = Field(
        examples=[IMAGE_EXAMPLE],
        description="Container image, pinned by tag (`repo:tag`) or digest (`repo@sha256:...`), never `latest`: "
        "a deploy is a change of this value (`odyssey deploy`), and ECS rolls back to the previous one when the "
        "new tasks fail.",
    )
    cpu: int = Field(
        256, ge=0, le=196_608, examples=[256],
        description="CPU units reserved for the container (1,024 is one vCPU); ECS places the task only where "
        "they are free, and checks it fits one node. Default: a quarter vCPU.",
    )
    memory: int = Field(
        512, ge=6, examples=[512],
        description="Hard memory limit of the container in MiB: Docker kills it above this. ECS reserves it on "
        "the node unless `memoryReservation` is set; it must fit one node.",
    )
    memory_reservation: int | None = Field(
        None, ge=6, examples=[256],
        description="Soft memory limit in MiB, what ECS reserves on the node; the container may use up to "
        "`memory` when the node has it free. Unset: `memory` is reserved.",
    )
    port: int | None = Field(
        None, ge=1, le=65535, examples=[8080],
        description="TCP port the container listens on, mapped to a dynamic host port (bridge mode, host port "
        "0), so many tasks share a node behind the ALB. Unset: a worker, which nothing connects to.",
    )
    public: PublicRoute | None = Field(
        None, examples=[{"hosts": ["www.example.com"], "paths": ["/api/*"]}],
        description="Route from the shared ALB: a target group of instance targets and a rule on the shared "
        "listener; needs `port`. Unset: not reachable from the ALB (internal with a port, else a worker).",
    )
    discovery: bool = Field(
        True, examples=[True],
        description="Register the tasks of a service with a port in the stack's Cloud Map namespace as SRV "
        "records (host and dynamic port; an A record would lack the port), so others find it at "
        "`<service>.<namespace>`.",
    )
    desired_count: int = Field(
        2, ge=0, le=ECS_TASKS_PER_SERVICE, examples=[2],
        description="Number of tasks the ECS service keeps running, when it has no `autoscaling`. Default 2: one "
        "serves while the other is replaced or its node cycled.",
    )
    autoscaling: Autoscaling | None = Field(
        None, examples=[{"minCount": 2, "maxCount": 10, "cpuTargetPercent": 60}],
        description="Target-tracking autoscaling of the task count through Application Auto Scaling, which then "
        "owns the desired count. Unset: a fixed `desiredCount`.",
    )
    command: list[str] = Field(
        default_factory=list, examples=[["./worker", "--queue", "jobs"]],
        description="Command passed to the container, overriding the image's `CMD`. Empty: the image's own.",
    )
    environment: dict[str, Setting] = Field(
        default_factory=dict, examples=[{"LOG_LEVEL": "info"}],
        description="Environment variables of the container, name to value, in plain text in the task "
        "definition. Names that look like secrets (`PASSWORD`, `TOKEN`, `API_KEY`, ...) are refused: use "
        "`secrets`.",
    )
    secrets: dict[str, SecretRef] = Field(
        default_factory=dict, examples=[{"DB_PASSWORD": {"ssm": "db/password"}}],
        description="Environment variables whose values ECS reads at task start from SSM Parameter Store or "
        "Secrets Manager, under the stack's `secretsPath` only; the values never enter the task definition.",
    )
    health_check: ContainerHealthCheck | None = Field(
        None, examples=[{"command": ["CMD-SHELL", "curl -fs http://localhost:8080/health || exit 1"]}],
        description="Docker health check of the container, in the task definition. Unset: none (a public "
        "service still has the ALB's).",
    )
    ulimits: dict[str, Ulimit] = Field(
        default_factory=dict, examples=[{"nofile": {"soft": 262144, "hard": 262144}}],
        description="Linux resource limits of the container by ulimit name (`nofile`, `nproc`, `memlock`, ...). "
        "Empty: Docker's defaults on the node.",
    )
    stop_timeout_seconds: int = Field(
        30, ge=1, le=120, examples=[30],
        description="Seconds the container gets after SIGTERM before it is killed when its task stops "
        "(`stopTimeout`, at most 120). Default: the ECS agent's default, 30 s.",
    )
    readonly_root_filesystem: bool = Field(
        True, examples=[True],
        description="Mount the container's root filesystem read-only (Security Hub ECS.5), so a compromised "
        "process cannot change its binaries or plant files; give the paths the image writes to as `tmpfs`. "
        "Unset: read-only, except with `enableExec`, whose agent writes to the root: such a service runs "
        "writable (the policy pack reports it as advisory). `true` with `enableExec` is refused.",
    )
    tmpfs: list[Tmpfs] = Field(
        default_factory=list, examples=[[{"containerPath": "/tmp", "sizeMib": 64}]],
        description="Writable memory-backed mounts for a read-only root (ECS `linuxParameters.tmpfs`), such as "
        "stock nginx's `/var/cache/nginx`, `/var/run` and `/tmp`: each `containerPath` (absolute, once), "
        "`sizeMib` (at least 1; together at most `memory`, which they count against) and `mountOptions` (Linux "
        "options ECS accepts, such as `nosuid`, `nodev`, `noexec`). Empty: none.",
    )
    enable_exec: bool = Field(
        False, examples=[True],
        description="ECS Exec: `odyssey shell STACK SERVICE` opens a shell in a running container through SSM, "
        "encrypted with the cluster's Exec key and logged to the cluster's exec log group; the task role gets "
        "only the SSM channel and decryption with that key. Needs a writable root filesystem. Default off.",
    )
    health_check_grace_period_seconds: int = Field(
        60, ge=0, le=2_147_483_647, examples=[60],
        description="Seconds after a task starts during which ECS ignores failing ALB health checks (public "
        "services only), so slow starters are not replaced while they boot.",
    )
    task_role_policy_arns: list[str] = Field(
        default_factory=list, examples=[["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]],
        description="IAM managed policies attached to the service's task role, the AWS permissions of the "
        "container's own calls. Empty: the role grants nothing (least privilege).",
    )

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

    @model_validator(mode="before")
    @classmethod
    def _writable_root_for_exec(cls, data: Any) -> Any:
        # Read-only is the default; a service with ECS Exec defaults to writable, since the agent writes to the root.
        if isinstance(data, dict) and not {"readonlyRootFilesystem", "readonly_root_filesystem"} & data.keys():
            if data.get("enableExec", data.get("enable_exec")) is True:
                return {**data, "readonlyRootFilesystem": False}
        return data

    _tmpfs = field_validator("tmpfs")(check_tmpfs)

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
                            "leave readonlyRootFilesystem unset (a service with enableExec then runs writable) or "
                            "turn off enableExec")
        scratch = sum(mount.size_mib for mount in self.tmpfs)
        if scratch > self.memory:
            problems.append(f"tmpfs mounts take {scratch} MiB, above memory ({self.memory}); tmpfs is memory the "
                            "container is charged for")
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

    service: str = Field(
        examples=["worker"],
        description="The service of `odyssey:services` whose task definition each run starts (its image, "
        "resources, secrets and task role), on the cluster's capacity provider.",
    )
    expression: str = Field(
        examples=["cron(0 3 * * ? *)"],
        description="EventBridge Scheduler expression: `cron(...)` with 6 fields (one of day-of-month and "
        "day-of-week is `?`), `rate(...)`, or `at(...)` for one run.",
    )
    timezone: str = Field(
        "UTC", examples=["Europe/Berlin"],
        description="IANA time zone the expression is evaluated in. Default UTC, which has no daylight-saving "
        "jumps.",
    )
    command: list[str] = Field(
        default_factory=list, examples=[["./report", "--nightly"]],
        description="Command of the run's container, overriding the service's (a RunTask container override). "
        "Empty: the service's own.",
    )
    retries: int = Field(
        2, ge=0, le=185, examples=[2],
        description="Times EventBridge Scheduler retries a run it failed to start (0-185) before sending it to "
        "the stack's dead-letter queue.",
    )
    max_event_age_seconds: int = Field(
        3600, ge=60, le=86400, examples=[3600],
        description="How long EventBridge Scheduler keeps trying to start a run (60-86,400 s) before sending it "
        "to the dead-letter queue. Default an hour: a nightly job late by more is better skipped.",
    )
    enabled: bool = Field(
        True, examples=[True],
        description="State of the schedule: false keeps it, DISABLED, without runs.",
    )

    @field_validator("expression")
    @classmethod
    def _expression(cls, value: str) -> str:
        return checked(value, schedule_expression_problem(value))

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
    """Subscriptions to the stack's SNS topic of operational events."""

    email: Email | None = Field(
        None, examples=["ops@example.com"],
        description="Email address subscribed to the stack's event topic (alarms, deployments, failed tasks); "
        "the subscription stays pending until the recipient confirms it.",
    )
    https: str | None = Field(
        None, examples=["https://hooks.example.com/odyssey"],
        description="HTTPS endpoint subscribed to the stack's event topic, such as a chat webhook; SNS posts "
        "each event as JSON, after the endpoint confirms the subscription.",
    )

    @field_validator("https")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^\s/$.?#].[^\s]*$", value):
            raise ValueError(f"{value!r} is not an https:// URL")
        return value


class AppConfig(Model):
    """Settings of the application stack as a whole."""

    namespace: str | None = Field(
        None, examples=["prod.odyssey.internal"],
        description="Name of the stack's Cloud Map private DNS namespace (a Route 53 private hosted zone in the "
        "VPC) that services with a port register in. Unset: `<stack>.<project>.internal`, with the stack as a DNS "
        "label (`Stage.EU` gives `stage-eu.odyssey.internal`).",
    )
    default_hosts: list[str] = Field(
        default_factory=list, examples=[["www.example.com"]],
        description="Hosts of the public services that route by path only. Every rule on the shared listener "
        "has a host, so no stack catches another's traffic.",
    )
    notifications: Notifications = Field(
        default_factory=Notifications, examples=[{"email": "ops@example.com"}],
        description="Subscriptions to the stack's encrypted SNS topic of alarms, deployments and failed tasks. "
        "Default: none.",
    )
    secrets_path: str | None = Field(
        None, examples=["/odyssey/prod/"],
        description="SSM parameter path (and, without the leading `/`, Secrets Manager name prefix) the stack's "
        "tasks may read secrets under; the task execution role may read nothing else. Unset: "
        "`/odyssey/<stack>/`.",
    )

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
