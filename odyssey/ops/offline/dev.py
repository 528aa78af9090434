"""``odyssey dev STACK``: the stack's application stack on one Docker machine, from the same stack file.

Reads ``Pulumi.<stack>.yaml`` as the program does, builds every service's
container definition with the program's own builder and lets
``odyssey.domain.compose`` and ``odyssey.domain.local_proxy`` translate them
and the listener rules; this module only reads and writes files and finds a
Compose engine. The machine layer stays out of it: a developer's machine runs
the application stack, whatever cluster it shares in AWS.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from odyssey.config.base import ConfigError, Problem
from odyssey.config.checks import public_routes, task_shapes
from odyssey.config.stack import StackConfig, parse_stack_config, raw_from_pulumi_config
from odyssey.domain.compose import (
    SCHEDULES_PROFILE,
    DevSchedule,
    DevService,
    compose_file,
    schedule_service,
    secret_key,
)
from odyssey.domain.containers import SecretLocations, container_definition
from odyssey.domain.local_proxy import DEFAULT_HOST_SUFFIX, local_hosts, proxy_conf
from odyssey.domain.naming import StackNames, slug
from odyssey.domain.routing import rules_in_order

# The definitions' secret ARNs are dropped (the env file stands in for the stores), so no account is needed.
PLACEHOLDER_ACCOUNT = "000000000000"
DEFAULT_PORT = 8080  # the proxy's port on the loopback address; 80 would need root on most machines
ENGINES = (("docker", "compose"), ("podman", "compose"))
ENGINE_PROBE_SECONDS = 30
ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


class DevError(Exception):
    """Something the developer must fix before the stack can run locally: a missing secret, an unknown schedule."""


def load_config(project_dir: Path, stack: str) -> tuple[StackConfig, StackNames]:
    """The stack's configuration as the program parses it (every problem at once, as ``ConfigError``)."""
    from odyssey.ops.offline.plan import read_stack_files

    files = read_stack_files(project_dir.resolve(), stack)
    config = parse_stack_config(raw_from_pulumi_config(files.config), stack=stack, project=files.project)
    return config, StackNames(files.project, stack)


@dataclass(frozen=True)
class SecretUse:
    """One environment variable of one service read from one secret."""

    service: str
    name: str
    store: str  # "ssm" or "secretsManager"
    ref: str

    def __str__(self) -> str:
        return f"{self.service}'s {self.name} ({self.store} {self.ref})"


def secret_uses(config: StackConfig) -> dict[str, list[SecretUse]]:
    """Every env-file key and what reads it; two different secrets on one key are a ``ConfigError``."""
    uses: dict[str, list[SecretUse]] = {}
    for service_name, service in config.services.items():
        for name, ref in service.secrets.items():
            store, value = ("ssm", ref.ssm) if ref.ssm is not None else ("secretsManager", ref.secrets_manager)
            uses.setdefault(secret_key(ref.ssm, ref.secrets_manager), []).append(
                SecretUse(service_name, name, store, value or ""))
    problems = [
        Problem(f"odyssey:services.{users[0].service}.secrets.{users[0].name}",
                f"its env-file key {key} is also the key of {users[i]}, a different secret; rename one of them",
                None)
        for key, users in sorted(uses.items())
        for i in range(1, len(users)) if (users[i].store, users[i].ref) != (users[0].store, users[0].ref)
    ]
    if problems:
        raise ConfigError(problems)
    return dict(sorted(uses.items()))


def read_env_file(path: Path) -> dict[str, str]:
    """The keys and values of a dotenv file (``KEY=value``, ``#`` comments, quotes around a value dropped)."""
    values = {}
    for line in path.read_text().splitlines():
        match = ENV_LINE.match(line)
        if match and not line.lstrip().startswith("#"):
            key, value = match.groups()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[key] = value
    return values


def missing_secrets(env_file: Path, uses: Mapping[str, list[SecretUse]]) -> list[str]:
    """One line per secret the env file does not set (or sets empty), naming the file, the key and its readers."""
    if not uses:
        return []
    values = read_env_file(env_file) if env_file.exists() else {}
    where = env_file if env_file.exists() else f"{env_file}, which does not exist"
    return [f"{key} is not set in {where}: it is {', '.join(map(str, readers))}"
            for key, readers in uses.items() if not values.get(key)]


def env_template(env_file: Path, uses: Mapping[str, list[SecretUse]], stack: str) -> tuple[str, list[str]]:
    """The env file with a line for every key it lacks, values left to the developer: (text, the keys added)."""
    text = env_file.read_text() if env_file.exists() else (
        f"# Secrets of `odyssey dev {stack}`: one line KEY=value each. Never commit this file (.gitignore has it).\n"
        "# Compose expands $ in a value unless it is in single quotes: KEY='pa$word' is taken as written.\n")
    present = read_env_file(env_file) if env_file.exists() else {}
    added = [key for key in uses if key not in present]
    if added and text and not text.endswith("\n"):
        text += "\n"
    for key in added:
        text += f"# {'; '.join(map(str, uses[key]))}\n{key}=\n"
    return text, added


@dataclass(frozen=True)
class DevFiles:
    compose: dict
    proxy_conf: str
    routes: list[tuple[int, str, list[str], list[str]]]  # (offset, service, local hosts, paths) in listener order


def dev_files(config: StackConfig, names: StackNames, env_file: str, proxy_file: str,
              host_suffix: str = DEFAULT_HOST_SUFFIX, port: int = DEFAULT_PORT) -> DevFiles:
    """The Compose file and the proxy's rules for the stack; ``proxy_file`` is relative to the Compose file."""
    locations = SecretLocations(
        region=config.region, account_id=PLACEHOLDER_ACCOUNT,
        ssm_path=names.secrets_path(config.app.secrets_path),
        secrets_manager_prefix=names.secrets_manager_prefix(config.app.secrets_path))
    namespace = names.namespace(config.app.namespace)
    shapes = task_shapes(config)
    services = [
        DevService(
            name=name,
            definition=container_definition(name, service, names.app_log_group, config.region, locations),
            replicas=shapes[name].count,
            aliases=(f"{name}.{namespace}",) if service.discoverable else (),
            secrets={env: secret_key(ref.ssm, ref.secrets_manager) for env, ref in service.secrets.items()},
        )
        for name, service in config.services.items()
    ]
    schedules = [DevSchedule(name, s.service, tuple(s.command)) for name, s in config.schedules.items()]
    routes = public_routes(config)
    upstreams = {name: f"{name}:{config.services[name].port}" for name in routes}
    compose = compose_file(
        project=f"{slug(names.project)}-{names.stack_slug}", services=services, schedules=schedules,
        env_file=env_file, proxy_config=proxy_file, proxy_port=port,
        metadata={"generatedBy": f"odyssey dev {names.stack}", "stackFile": f"Pulumi.{names.stack}.yaml",
                  "envFile": env_file, "namespace": namespace},
    )
    ordered = [(offset, r.service, local_hosts(r.hosts, host_suffix), list(r.paths))
               for offset, r in rules_in_order(routes.values())]
    return DevFiles(compose, proxy_conf(names.stack, routes.values(), upstreams, host_suffix), ordered)


def proxy_file_for(compose_path: Path) -> Path:
    """The proxy's rules beside the Compose file: ``compose.stage.yaml`` has ``compose.stage.nginx.conf``."""
    return compose_path.with_name(f"{compose_path.stem}.nginx.conf")


def write_dev_files(files: DevFiles, compose_path: Path, stack: str) -> Path:
    """Write both files; the same stack file always gives the same bytes. Returns the proxy's file."""
    header = (f"# Generated by `odyssey dev {stack}` from Pulumi.{stack}.yaml: the stack's application stack on one "
              "Docker machine.\n# Regenerate rather than edit. Run with the commands `odyssey dev` prints.\n")
    compose_path.write_text(header + yaml.safe_dump(files.compose, sort_keys=False, width=120))
    proxy_path = proxy_file_for(compose_path)
    proxy_path.write_text(files.proxy_conf)
    return proxy_path


def run_command(schedules: Sequence[str], schedule: str) -> list[str]:
    """The arguments after ``compose -f ... --env-file ...`` that run ``schedule`` once.

    With its profile named: ``docker compose run`` enables the profile of the service it runs by itself,
    ``podman-compose`` does not.
    """
    if schedule not in schedules:
        known = ", ".join(sorted(schedules)) or "none"
        raise DevError(f"no schedule {schedule!r} in odyssey:schedules; schedules: {known}")
    return ["--profile", SCHEDULES_PROFILE, "run", "--rm", schedule_service(schedule)]


def compose_command(engine: Sequence[str], compose_path: Path, env_file: Path, *args: str) -> list[str]:
    return [*engine, "-f", str(compose_path), "--env-file", str(env_file), *args]


def find_engine() -> tuple[str, ...] | None:
    """``docker compose`` or, failing that, ``podman compose``, when it answers; else None."""
    for engine in ENGINES:
        if shutil.which(engine[0]) is None:
            continue
        try:
            probe = subprocess.run([*engine, "version"], capture_output=True, timeout=ENGINE_PROBE_SECONDS)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return engine
    return None
