"""The stack configuration, parsed once at the edge into typed models.

Stack files (``Pulumi.<stack>.yaml``) hold the keys below under the ``odyssey:``
namespace plus ``aws:region``. ``load_stack_config`` reads them from the Pulumi
runtime; ``parse_stack_config`` turns a plain mapping into a ``StackConfig`` or
raises ``ConfigError`` listing every problem at once, each with the key, what is
wrong and a valid example. Nothing registers before this succeeds, so a bad
stack file never half-applies. The models of each part live beside this
module: ``machine`` (tags, network, cluster, load balancer) and ``app``
(application settings, services, schedules).
"""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Mapping
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError, field_validator

from odyssey.config.app import AppConfig, ScheduleConfig, ServiceConfig
from odyssey.config.base import ConfigError, Model, Problem
from odyssey.config.machine import ClusterConfig, LoadBalancerConfig, NetworkConfig, Tags
from odyssey.domain.quotas import CLOUDWATCH_LOG_RETENTION_DAYS

NAMESPACE = "odyssey"
REGION_KEY = "aws:region"
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class StackConfig(Model):
    """Everything one stack is configured with."""

    region: str = Field(examples=["us-east-1"])
    tags: Tags
    cluster_stack: str | None = Field(None, examples=["acme/odyssey/prod"])
    network: NetworkConfig | None = None
    cluster: ClusterConfig | None = None
    load_balancer: LoadBalancerConfig | None = None
    log_retention_days: int = Field(30, examples=[30])
    protect_stateful_resources: bool = Field(True, examples=[True])
    app: AppConfig = Field(default_factory=AppConfig)
    services: dict[str, ServiceConfig] = Field(default_factory=dict)
    schedules: dict[str, ScheduleConfig] = Field(default_factory=dict)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not REGION.match(value):
            raise ValueError(f"{value!r} is not an AWS region")
        return value

    @field_validator("cluster_stack")
    @classmethod
    def _stack(cls, value: str | None) -> str | None:
        if value is not None and not STACK_NAME.match(value):
            raise ValueError(f"{value!r} is not a fully qualified stack name <org>/<project>/<stack>")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in CLOUDWATCH_LOG_RETENTION_DAYS:
            raise ValueError(f"is {value}; CloudWatch Logs accepts {', '.join(map(str, CLOUDWATCH_LOG_RETENTION_DAYS))}")
        return value

    @property
    def owns_cluster(self) -> bool:
        return self.cluster_stack is None

    @property
    def network_config(self) -> NetworkConfig:
        return self.network or NetworkConfig()

    @property
    def cluster_config(self) -> ClusterConfig:
        return self.cluster or ClusterConfig()

    @property
    def load_balancer_config(self) -> LoadBalancerConfig:
        return self.load_balancer or LoadBalancerConfig()


# ---------------------------------------------------------------- errors


def _config_key(loc: tuple[Any, ...]) -> str:
    head, *rest = loc
    key = REGION_KEY if head == "region" else f"{NAMESPACE}:{head}"
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated so traversal sees the model or container inside."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            annotation = args[0]
        else:
            return annotation


def _field_at(loc: tuple[Any, ...]) -> tuple[Any, Any]:
    """The (model class, field info) a validation error location points at, or (None, None)."""
    model: Any = StackConfig
    info = None
    annotation: Any = StackConfig
    for part in loc:
        annotation = _unwrap(annotation)
        origin = get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
            info = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
            if info is None:
                return model, None
            annotation = info.annotation
        elif origin in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            break
    return model, info


def _example(loc: tuple[Any, ...]) -> str | None:
    _, info = _field_at(loc)
    if info is not None and info.examples:
        return f"{_config_key(loc)}: {json.dumps(info.examples[0])}"
    annotation = _unwrap(info.annotation) if info is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        required = {
            (f.alias or n): f.examples[0] for n, f in annotation.model_fields.items() if f.is_required() and f.examples
        }
        return f"{_config_key(loc)}: {json.dumps(required)}"
    return None


def _problem(error: Mapping[str, Any]) -> Problem:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        parent_info = _field_at(loc[:-1])[1] if len(loc) > 1 else None
        parent = _unwrap(parent_info.annotation) if parent_info is not None else StackConfig
        known = [f.alias or n for n, f in parent.model_fields.items()] if isinstance(parent, type) else []
        suggestion = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if suggestion:
            meant = loc[:-1] + (suggestion[0],)
            return Problem(_config_key(loc), f"unknown key; did you mean {_config_key(meant)}?", _example(meant))
        return Problem(_config_key(loc), f"unknown key; the keys here are {', '.join(known)}", None)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required but not set"
    elif "input" in error and error["type"] not in ("value_error", "assertion_error"):
        message = f"{message} (got {json.dumps(error['input'], default=str)})"
    return Problem(_config_key(loc) if loc else f"{NAMESPACE}", message, _example(loc))


def parse_stack_config(raw: Mapping[str, Any], stack: str | None = None, project: str = NAMESPACE) -> StackConfig:
    """Validate a mapping of config keys (without the ``odyssey:`` prefix; ``region`` for aws:region).

    With ``stack``, the checks across keys run too (routes, names derived from
    the stack name, services against the node size); every problem is reported.
    """
    from odyssey.config.checks import stack_problems

    try:
        config = StackConfig.model_validate(dict(raw))
    except ValidationError as error:
        raise ConfigError([_problem(e) for e in error.errors()]) from None
    problems = stack_problems(config, stack, project)
    if problems:
        raise ConfigError(problems)
    return config


def raw_from_pulumi_config(values: Mapping[str, str]) -> dict[str, Any]:
    """Turn Pulumi's flat ``namespace:key -> string`` config into the mapping ``parse_stack_config`` takes.

    The CLI hands every value over as a string; structured values are JSON.
    Keys of other namespaces (``aws:``, ``pulumi:``) are not ours, except the region.
    """
    raw: dict[str, Any] = {}
    for full_key, value in values.items():
        if full_key == REGION_KEY:
            raw["region"] = value
            continue
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        raw[key] = _decode(value)
    return raw


def _decode(value: Any) -> Any:
    # Objects, lists, numbers and booleans arrive as JSON text; plain strings do not parse.
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def load_stack_config() -> StackConfig:
    """Read and validate this stack's configuration from the running Pulumi program."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_stack_config(raw_from_pulumi_config(values), stack=pulumi.get_stack(), project=pulumi.get_project())
