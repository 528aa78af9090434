"""Container definitions for a service's task: what ECS runs, decided from the service's config.

Bridge network mode with host port 0, so ECS picks a dynamic host port from
the node's ephemeral range and many copies share one node behind the ALB
(seed 001). Every container logs through awslogs, is never privileged, and
takes its secrets from SSM Parameter Store or Secrets Manager.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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


def container_definition(
    name: str,
    service: Any,
    log_group: str,
    region: str,
    secrets: SecretLocations,
) -> dict[str, Any]:
    """The service's one container, in the shape of RegisterTaskDefinition's containerDefinitions.

    ``service`` is a service's settings (``odyssey.config.app.ServiceConfig``
    has them); this layer reads their values and never imports the config.
    """
    container: dict[str, Any] = {
        "name": name,
        "image": service.image,
        "essential": True,
        "cpu": service.cpu,
        "memory": service.memory,
        "privileged": False,
        "readonlyRootFilesystem": service.readonly_root_filesystem,
        "stopTimeout": service.stop_timeout_seconds,
        "environment": [{"name": k, "value": v} for k, v in sorted(service.environment.items())],
        "secrets": [
            {"name": k, "valueFrom": secrets.arn(ref.ssm, ref.secrets_manager)}
            for k, ref in sorted(service.secrets.items())
        ],
        # An init process reaps zombies and is what ECS Exec needs.
        "linuxParameters": {"initProcessEnabled": True},
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": name,
                # A slow log stream must not stall the application.
                "mode": "non-blocking",
                "max-buffer-size": "25m",
            },
        },
    }
    if service.memory_reservation is not None:
        container["memoryReservation"] = service.memory_reservation
    if service.port is not None:
        container["portMappings"] = [{"containerPort": service.port, "hostPort": 0, "protocol": "tcp"}]
    if service.command:
        container["command"] = list(service.command)
    if service.health_check is not None:
        check = service.health_check
        container["healthCheck"] = {
            "command": list(check.command),
            "interval": check.interval_seconds,
            "timeout": check.timeout_seconds,
            "retries": check.retries,
            "startPeriod": check.start_period_seconds,
        }
    if service.ulimits:
        container["ulimits"] = [
            {"name": k, "softLimit": v.soft, "hardLimit": v.hard} for k, v in sorted(service.ulimits.items())
        ]
    return container


def command_override(container: str, command: list[str]) -> Mapping[str, Any]:
    """The RunTask overrides a scheduled task sends: the same task definition with another command."""
    if not command:
        return {}
    return {"containerOverrides": [{"name": container, "command": list(command)}]}
