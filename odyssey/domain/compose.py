"""A stack's application stack on one Docker machine: its containers as a Compose Specification file.

Each service's Compose service is translated from the container definition
the program registers with ECS (``containers.container_definition``), key by
key, so dev runs what the stack deploys and cannot drift: a key of the
definition this module does not know is an error, not a silent omission.

How ECS's behaviour is kept on one machine:

* **CPU and memory.** ECS CPU units become Docker CPUs (1,024 units are one
  CPU) and ``memory`` the hard limit, both under ``deploy.resources.limits``;
  ``memoryReservation`` the reservation. On ECS (no task-level CPU) the units
  are a share of the node that may burst; in dev they are a cap, so a service
  slow in dev uses more than it reserves in prod.
* **Desired count** becomes ``deploy.replicas``, which ``docker compose``
  honours; so no service gets a fixed ``container_name`` or a host port, which
  a second replica could not take (ECS gives bridge-mode tasks dynamic host
  ports and reaches them through the ALB; here the proxy does).
* **Discovery** as Cloud Map: every service with a port and discovery is
  reachable as ``<service>.<namespace>`` through a network alias on the
  stack's own network (A records with the container port, where Cloud Map
  answers SRV records with the dynamic host port).
* **Secrets** come from a local env file: the Compose file names each secret's
  key (``${KEY:?...}``, read when Compose interpolates the file, with
  ``--env-file``), never its value. The key is the secret's name in its store,
  so two services reading one secret share one key, as they share the secret.
* **Logs** stay on the machine (Docker's default driver; ``docker compose
  logs``): the awslogs configuration is dropped.
* **Scheduled tasks** are Compose services under the ``schedules`` profile
  (``up`` does not start them): the service's container with the schedule's
  command, as a RunTask override runs it, for ``docker compose run --rm``.

Values from the stack file are literal in ECS; Compose interpolates ``$``, so
every one is escaped (``$$``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from odyssey.domain.local_proxy import PROXY_PORT

CPU_UNITS_PER_CPU = 1024  # ECS: "1,024 CPU units is the equivalent of 1 vCPU"
NETWORK = "odyssey"
PROXY_SERVICE = "alb_proxy"  # "_" is never in a service name (a DNS label), so it cannot collide with one
PROXY_CONFIG = "alb_rules"
# Pinned like every image Odyssey runs; the official image, whose entrypoint renders the rules' template.
PROXY_IMAGE = "docker.io/library/nginx:1.28.0-alpine"
PROXY_TEMPLATE = "/etc/nginx/templates/odyssey.conf.template"
# What the read-only proxy writes: its pid, its caches, the rendered template (which also hides default.conf).
PROXY_TMPFS = ("/run", "/var/cache/nginx", "/etc/nginx/conf.d")
SCHEDULES_PROFILE = "schedules"
SCHEDULE_PREFIX = "schedule_"  # "_" again: a schedule's Compose service never collides with a service's
ENV_KEY = re.compile(r"[^A-Z0-9]+")


def literal(value: str) -> str:
    """A value Compose must not interpolate."""
    return value.replace("$", "$$")


def secret_key(ssm: str | None, secrets_manager: str | None) -> str:
    """The env-file key of a secret: its name in its store as an environment name (``api/db-password`` is
    ``API_DB_PASSWORD``)."""
    name = ssm if ssm is not None else secrets_manager
    if name is None:
        raise ValueError("a secret is in SSM or Secrets Manager")
    key = ENV_KEY.sub("_", name.upper()).strip("_")
    return key if key and not key[0].isdigit() else f"SECRET_{key}"


def duration(seconds: int) -> str:
    return f"{seconds}s"


def mebibytes(value: int) -> str:
    return f"{value}M"


def cpus(units: int) -> float:
    return units / CPU_UNITS_PER_CPU


@dataclass(frozen=True)
class Secrets:
    """Where a service's secrets come from: environment name -> env-file key, and the env file's name for messages."""

    keys: Mapping[str, str]
    env_file: str

    def reference(self, name: str) -> str:
        key = self.keys[name]
        return f"${{{key}:?{key} is not set in {self.env_file}}}"


def _tmpfs(mounts: Sequence[Mapping[str, Any]]) -> list[str]:
    """ECS's ``linuxParameters.tmpfs`` (size in MiB, mount options) as Docker's ``path:options``."""
    return [
        literal(f"{m['containerPath']}:" + ",".join([f"size={m['size']}m", *m.get("mountOptions", ())]))
        for m in mounts
    ]


def _linux(parameters: Mapping[str, Any]) -> dict[str, Any]:
    known = {"initProcessEnabled", "tmpfs"}
    unknown = sorted(set(parameters) - known)
    if unknown:
        raise ValueError(f"linuxParameters.{', '.join(unknown)} has no Compose mapping here yet")
    out: dict[str, Any] = {}
    if parameters.get("initProcessEnabled"):
        out["init"] = True
    if parameters.get("tmpfs"):
        out["tmpfs"] = _tmpfs(parameters["tmpfs"])
    return out


def _healthcheck(check: Mapping[str, Any]) -> dict[str, Any]:
    # ECS and Compose take the same test forms: ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"].
    return {"test": [literal(part) for part in check["command"]], "interval": duration(check["interval"]),
            "timeout": duration(check["timeout"]), "retries": check["retries"],
            "start_period": duration(check["startPeriod"])}


def _resources(definition: Mapping[str, Any]) -> dict[str, Any]:
    limits: dict[str, Any] = {"memory": mebibytes(definition["memory"])}
    if definition["cpu"]:  # 0 units: ECS reserves nothing and caps nothing
        limits["cpus"] = cpus(definition["cpu"])
    resources: dict[str, Any] = {"limits": limits}
    if "memoryReservation" in definition:
        resources["reservations"] = {"memory": mebibytes(definition["memoryReservation"])}
    return resources


def _environment(definition: Mapping[str, Any], secrets: Secrets) -> dict[str, Any]:
    """Plain values and secrets' references together, as ECS hands both to the container."""
    environment = {e["name"]: literal(e["value"]) for e in definition.get("environment", ())}
    environment.update({s["name"]: secrets.reference(s["name"]) for s in definition.get("secrets", ())})
    return {"environment": dict(sorted(environment.items()))} if environment else {}


# Each key of a container definition: what it becomes in the Compose service (None: nothing, for the reason given).
Translate = Callable[[Any, Mapping[str, Any], Secrets], dict[str, Any]]
TRANSLATIONS: dict[str, Translate | None] = {
    "name": None,  # the Compose service's key
    "image": lambda v, d, s: {"image": literal(v)},
    "essential": None,  # one container per task: it is the task
    "cpu": lambda v, d, s: {"deploy": {"resources": _resources(d)}},
    "memory": lambda v, d, s: {"deploy": {"resources": _resources(d)}},
    "memoryReservation": None,  # with memory, in deploy.resources
    "privileged": lambda v, d, s: {"privileged": v},
    "readonlyRootFilesystem": lambda v, d, s: {"read_only": v},
    "stopTimeout": lambda v, d, s: {"stop_grace_period": duration(v)},
    "environment": lambda v, d, s: _environment(d, s),
    "secrets": lambda v, d, s: _environment(d, s),
    "linuxParameters": lambda v, d, s: _linux(v),
    "logConfiguration": None,  # logs stay on the machine
    "portMappings": lambda v, d, s: {"expose": [str(p["containerPort"]) for p in v]},
    "command": lambda v, d, s: {"command": [literal(part) for part in v]},
    "healthCheck": lambda v, d, s: {"healthcheck": _healthcheck(v)},
    "ulimits": lambda v, d, s: {"ulimits": {u["name"]: {"soft": u["softLimit"], "hard": u["hardLimit"]}
                                            for u in v}},
}


def compose_container(definition: Mapping[str, Any], secrets: Secrets) -> dict[str, Any]:
    """The Compose service of one ECS container definition: image, command, environment and limits."""
    unknown = sorted(set(definition) - set(TRANSLATIONS))
    if unknown:
        raise ValueError(f"container definition key(s) {', '.join(unknown)} have no Compose mapping; add one to "
                         "odyssey.domain.compose.TRANSLATIONS")
    missing = sorted(s["name"] for s in definition.get("secrets", ()) if s["name"] not in secrets.keys)
    if missing:
        raise ValueError(f"no env-file key for secret(s) {', '.join(missing)} of {definition['name']}")
    service: dict[str, Any] = {}
    for key, value in definition.items():
        translate = TRANSLATIONS[key]
        if translate is not None:
            service.update(translate(value, definition, secrets))
    return service


@dataclass(frozen=True)
class DevService:
    """One service of the stack: its ECS container definition and what ECS does with it beside the definition."""

    name: str
    definition: Mapping[str, Any]
    replicas: int
    aliases: tuple[str, ...] = ()  # its names in the stack's namespace; none without discovery
    secrets: Mapping[str, str] = field(default_factory=dict)  # environment name -> env-file key


@dataclass(frozen=True)
class DevSchedule:
    name: str
    service: str
    command: tuple[str, ...]  # empty: the service's own


def schedule_service(schedule: str) -> str:
    return f"{SCHEDULE_PREFIX}{schedule}"


def compose_file(
    project: str,
    services: Sequence[DevService],
    schedules: Sequence[DevSchedule],
    env_file: str,
    proxy_config: str,
    proxy_port: int,
    metadata: Mapping[str, Any],
) -> dict[str, Any]:
    """The whole Compose file: the services, the schedules under their profile, and the ALB's proxy.

    ``proxy_config`` is the proxy's rules file, relative to the Compose file;
    the proxy listens on ``proxy_port`` of the loopback address only, where the
    ``*.localhost`` names lead.
    """
    compose_services: dict[str, Any] = {}
    by_name = {s.name: s for s in services}
    for service in services:
        body = compose_container(service.definition, Secrets(service.secrets, env_file))
        body["deploy"] = {"replicas": service.replicas, **body.get("deploy", {})}
        body["restart"] = "unless-stopped"  # the ECS service scheduler replaces a task that stops
        body["networks"] = {NETWORK: {"aliases": list(service.aliases)} if service.aliases else None}
        compose_services[service.name] = body
    for schedule in schedules:
        owner = by_name[schedule.service]
        body = compose_container(owner.definition, Secrets(owner.secrets, env_file))
        if schedule.command:
            body["command"] = [literal(part) for part in schedule.command]
        # One run on demand: not registered in the namespace, not restarted (a RunTask is neither).
        body["profiles"] = [SCHEDULES_PROFILE]
        body["restart"] = "no"
        body["networks"] = [NETWORK]
        compose_services[schedule_service(schedule.name)] = body
    compose_services[PROXY_SERVICE] = {
        "image": PROXY_IMAGE,
        "environment": {"NGINX_ENTRYPOINT_LOCAL_RESOLVERS": "1"},
        "configs": [{"source": PROXY_CONFIG, "target": PROXY_TEMPLATE}],
        "ports": [f"127.0.0.1:{proxy_port}:{PROXY_PORT}"],
        "read_only": True,
        "tmpfs": list(PROXY_TMPFS),
        "restart": "unless-stopped",
        "networks": [NETWORK],
    }
    return {
        "name": project,
        "x-odyssey": dict(metadata),
        "services": compose_services,
        "networks": {NETWORK: {"driver": "bridge"}},
        "configs": {PROXY_CONFIG: {"file": proxy_config}},
    }
