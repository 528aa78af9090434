"""Instance bootstrap: the user data every cluster node boots with.

This is what the original "ecsextender" did on each host, reduced to data: the
ECS agent's settings in /etc/ecs/ecs.config and host sysctls. Anything that
needs a running process on every host is a host daemon (an ECS DAEMON service),
not a script here, so every node stays identical and disposable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from odyssey.domain.quotas import EC2_USER_DATA_BYTES_MAX

USER_DATA_MAX_BYTES = EC2_USER_DATA_BYTES_MAX

ECS_CONFIG_KEY = re.compile(r"^ECS_[A-Z0-9_]+$")
SYSCTL_KEY = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_-]+)+$")
# Values go into files through quoted heredocs, so nothing is expanded; this
# still keeps them to one line of printable, shell-inert characters.
SAFE_VALUE = re.compile(r"^[A-Za-z0-9 _.:/,=\[\]\"{}+@-]*$")

# Settings Odyssey owns: config may not override them.
MANAGED_ECS_KEYS = frozenset({"ECS_CLUSTER", "ECS_ENABLE_CONTAINER_METADATA"})


@dataclass(frozen=True)
class AgentSettings:
    """The tunable part of ecs.config, with the defaults Odyssey runs."""

    container_stop_timeout_seconds: int = 30
    task_cleanup_wait_minutes: int = 60
    image_cleanup_interval_minutes: int = 30
    image_minimum_cleanup_age_minutes: int = 60
    extra: Mapping[str, str] = field(default_factory=dict)


def ecs_config_lines(cluster_name: str, agent: AgentSettings) -> list[str]:
    """The lines of /etc/ecs/ecs.config, in a stable order."""
    settings = {
        "ECS_CLUSTER": cluster_name,
        "ECS_CONTAINER_STOP_TIMEOUT": f"{agent.container_stop_timeout_seconds}s",
        "ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION": f"{agent.task_cleanup_wait_minutes}m",
        "ECS_IMAGE_CLEANUP_INTERVAL": f"{agent.image_cleanup_interval_minutes}m",
        "ECS_IMAGE_MINIMUM_CLEANUP_AGE": f"{agent.image_minimum_cleanup_age_minutes}m",
        "ECS_ENABLE_CONTAINER_METADATA": "true",
    }
    for key, value in agent.extra.items():
        if key in MANAGED_ECS_KEYS:
            raise ValueError(f"{key} is set by Odyssey and cannot be overridden")
        settings[key] = value
    lines = []
    for key, value in settings.items():
        if not ECS_CONFIG_KEY.match(key):
            raise ValueError(f"{key!r} is not an ECS agent variable such as 'ECS_RESERVED_MEMORY'")
        _check_value(key, value)
        lines.append(f"{key}={value}")
    return lines


def sysctl_lines(sysctls: Mapping[str, str]) -> list[str]:
    lines = []
    for key, value in sorted(sysctls.items()):
        if not SYSCTL_KEY.match(key):
            raise ValueError(f"{key!r} is not a sysctl name such as 'vm.max_map_count'")
        _check_value(key, value)
        lines.append(f"{key} = {value}")
    return lines


def _check_value(key: str, value: str) -> None:
    if not SAFE_VALUE.match(value):
        raise ValueError(f"value {value!r} of {key} has characters that are not allowed in a one-line setting")


def render_user_data(cluster_name: str, agent: AgentSettings, sysctls: Mapping[str, str]) -> str:
    """The bash script the node runs at first boot, before the ECS agent starts.

    It appends to ecs.config rather than overwriting it so that settings the
    AMI ships there survive; for the agent the last occurrence of a key wins.
    """
    parts = [
        "#!/bin/bash",
        "set -euo pipefail",
        "cat >> /etc/ecs/ecs.config <<'ODYSSEY_ECS_CONFIG'",
        *ecs_config_lines(cluster_name, agent),
        "ODYSSEY_ECS_CONFIG",
    ]
    sysctl = sysctl_lines(sysctls)
    if sysctl:
        parts += [
            "cat > /etc/sysctl.d/90-odyssey.conf <<'ODYSSEY_SYSCTL'",
            *sysctl,
            "ODYSSEY_SYSCTL",
            "sysctl --system",
        ]
    script = "\n".join(parts) + "\n"
    size = len(script.encode())
    if size > USER_DATA_MAX_BYTES:
        raise ValueError(f"user data is {size} bytes; EC2 allows at most {USER_DATA_MAX_BYTES}")
    return script
