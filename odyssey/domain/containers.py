"""Container definitions for services' and host daemons' tasks: what ECS runs, decided from their config.

Bridge network mode with host port 0, so ECS picks a dynamic host port from
the node's ephemeral range and many copies share one node behind the ALB
(seed 001). Every container logs through awslogs, is never privileged, and
takes its secrets from SSM Parameter Store or Secrets Manager.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast


@dataclass(frozen=True)
class SecretLocations:
    """Where this stack's secrets live: an SSM parameter path and a Secrets Manager name prefix."""

    region: str
    account_id: str
    ssm_path: str  # "/odyssey/prod/"
    secrets_manager_prefix: str  # "odyssey/prod/"
    partition: str = "aws"

    def arn(self, ssm: str | None, secrets_manager: str | None) -> str:
        if ssm is not None:
            return f"arn:{self.partition}:ssm:{self.region}:{self.account_id}:parameter{self.ssm_path}{ssm}"
        # A partial ARN (no random suffix) is accepted by ECS for secrets in the same region.
        return (f"arn:{self.partition}:secretsmanager:{self.region}:{self.account_id}:secret:"
                f"{self.secrets_manager_prefix}{secrets_manager}")

    @property
    def ssm_resource(self) -> str:
        return f"arn:{self.partition}:ssm:{self.region}:{self.account_id}:parameter{self.ssm_path}*"

    @property
    def secrets_manager_resource(self) -> str:
        return (f"arn:{self.partition}:secretsmanager:{self.region}:{self.account_id}:secret:"
                f"{self.secrets_manager_prefix}*")


class ContainerSettings(Protocol):
    """What every container's settings have: a host daemon's (``odyssey.config.machine.HostDaemon``) and a service's."""

    image: str
    cpu: int
    memory: int
    command: Sequence[str]
    environment: Mapping[str, str]
    readonly_root_filesystem: bool
    tmpfs: Sequence[Any]  # container_path, size_mib, mount_options: writable scratch space on a read-only root


class ServiceContainerSettings(ContainerSettings, Protocol):
    """What a service's settings add (``odyssey.config.app.ServiceConfig`` has them all)."""

    stop_timeout_seconds: int
    memory_reservation: int | None
    port: int | None
    secrets: Mapping[str, Any]  # name -> a reference with ``ssm`` or ``secrets_manager``
    health_check: Any | None  # command, interval/timeout/start_period seconds, retries
    ulimits: Mapping[str, Any]  # name -> soft and hard


# RegisterTaskDefinition accepts the keys in any order, but the JSON text is the
# task definition's input: this is the order every container was always written
# in, so building it differently would register new revisions for nothing.
KEY_ORDER = (
    "name", "image", "essential", "cpu", "memory", "privileged", "readonlyRootFilesystem", "stopTimeout",
    "environment", "secrets", "linuxParameters", "logConfiguration", "memoryReservation", "portMappings",
    "command", "healthCheck", "ulimits",
)


def container_definition(
    name: str,
    settings: ContainerSettings,
    log_group: str,
    region: str,
    secrets: SecretLocations | None = None,
) -> dict[str, Any]:
    """One container, in the shape of RegisterTaskDefinition's containerDefinitions.

    Every container runs its image unprivileged with its cpu, memory,
    environment and command, its root filesystem read-only unless its settings
    say otherwise (with tmpfs mounts where it writes), logging through awslogs
    to ``log_group``. An
    application service's container (``settings`` are ServiceContainerSettings,
    ``secrets`` the stack's SecretLocations) adds its secrets, an init process,
    non-blocking logging and its port, health check and limits. A host daemon's
    container (no ``secrets``) is the common part alone. This layer reads the
    settings' values and never imports the config.
    """
    container: dict[str, Any] = {
        "name": name,
        "image": settings.image,
        "essential": True,
        "cpu": settings.cpu,
        "memory": settings.memory,
        "privileged": False,
        "readonlyRootFilesystem": settings.readonly_root_filesystem,
        "environment": [{"name": k, "value": v} for k, v in sorted(settings.environment.items())],
        "logConfiguration": _awslogs(name, log_group, region, non_blocking=secrets is not None),
    }
    # A service's init process reaps zombies and is what ECS Exec needs; daemons always ran without one.
    linux = {**({"initProcessEnabled": True} if secrets is not None else {}), **_tmpfs(settings.tmpfs)}
    if linux:
        container["linuxParameters"] = linux
    if settings.command:
        container["command"] = list(settings.command)
    if secrets is not None:
        container.update(_service_parts(cast(ServiceContainerSettings, settings), secrets))
    # An unknown key raises here rather than vanishing from the definition.
    return dict(sorted(container.items(), key=lambda item: KEY_ORDER.index(item[0])))


def _awslogs(name: str, log_group: str, region: str, non_blocking: bool) -> dict[str, Any]:
    options = {"awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": name}
    if non_blocking:
        # A slow log stream must not stall the application.
        options.update({"mode": "non-blocking", "max-buffer-size": "25m"})
    return {"logDriver": "awslogs", "options": options}


def _service_parts(service: ServiceContainerSettings, secrets: SecretLocations) -> dict[str, Any]:
    parts: dict[str, Any] = {
        "stopTimeout": service.stop_timeout_seconds,
        "secrets": [
            {"name": k, "valueFrom": secrets.arn(ref.ssm, ref.secrets_manager)}
            for k, ref in sorted(service.secrets.items())
        ],
    }
    if service.memory_reservation is not None:
        parts["memoryReservation"] = service.memory_reservation
    if service.port is not None:
        parts["portMappings"] = [{"containerPort": service.port, "hostPort": 0, "protocol": "tcp"}]
    if service.health_check is not None:
        check = service.health_check
        parts["healthCheck"] = {
            "command": list(check.command),
            "interval": check.interval_seconds,
            "timeout": check.timeout_seconds,
            "retries": check.retries,
            "startPeriod": check.start_period_seconds,
        }
    if service.ulimits:
        parts["ulimits"] = [
            {"name": k, "softLimit": v.soft, "hardLimit": v.hard} for k, v in sorted(service.ulimits.items())
        ]
    return parts


def _tmpfs(mounts: Sequence[Any]) -> dict[str, Any]:
    """Memory-backed mounts (counted in the container's memory) where a read-only root needs scratch space."""
    if not mounts:
        return {}
    return {"tmpfs": [{"containerPath": m.container_path, "size": m.size_mib, "mountOptions": list(m.mount_options)}
                      for m in mounts]}


def command_override(container: str, command: list[str]) -> Mapping[str, Any]:
    """The RunTask overrides a scheduled task sends: the same task definition with another command."""
    if not command:
        return {}
    return {"containerOverrides": [{"name": container, "command": list(command)}]}
