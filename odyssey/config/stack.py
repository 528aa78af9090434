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
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError, field_validator

from odyssey.config.app import AppConfig, ScheduleConfig, ServiceConfig
from odyssey.config.aws_catalog import regions, unknown_name_problem
from odyssey.config.base import ConfigError, Model, Problem, checked
from odyssey.config.machine import ClusterConfig, LoadBalancerConfig, LogSearchConfig, NetworkConfig, Tags
from odyssey.config.stack_file import namespace_problems, stack_file_name, stack_file_problems
from odyssey.domain.images import EXAMPLE as IMAGE_EXAMPLE
from odyssey.domain.quotas import CLOUDWATCH_LOG_RETENTION_DAYS
from policies.rules.thresholds import SECURITY_LOG_RETENTION_MIN_DAYS

NAMESPACE = "odyssey"
REGION_KEY = "aws:region"
STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class StackConfig(Model):
    """Everything one stack is configured with."""

    region: str = Field(
        examples=["us-east-1"],
        description="AWS region of every resource (the AWS provider's own setting, hence not `odyssey:`).",
    )
    tags: Tags = Field(
        examples=[{"department": "platform", "contact": "platform-team@example.com"}],
        description="Billing tags on every resource, through the AWS provider's default tags.",
    )
    cluster_stack: str | None = Field(
        None, examples=["acme/odyssey/prod"],
        description="Fully qualified name `<org>/<project>/<stack>` of the stack that owns the cluster this stack "
        "runs on; its outputs are read through a StackReference. Unset: this stack owns a cluster. Cannot be "
        "combined with `network`, `cluster` or `loadBalancer`.",
    )
    network: NetworkConfig | None = Field(
        None, examples=[{"cidrBlock": "10.20.0.0/16"}],
        description="The VPC of the cluster this stack owns. Unset: a new VPC with the defaults below.",
    )
    cluster: ClusterConfig | None = Field(
        None, examples=[{"instanceType": "m7i.large", "minSize": 4, "maxSize": 12}],
        description="The ECS cluster this stack owns and its Auto Scaling group of container instances. Unset: "
        "the defaults below.",
    )
    load_balancer: LoadBalancerConfig | None = Field(
        None,
        examples=[{"certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                                     "0a1b2c3d-4e5f-6789-abcd-ef0123456789"}],
        description="The Application Load Balancer every service on the cluster shares. Unset: the defaults "
        "below (plain HTTP without a certificate).",
    )
    log_search: LogSearchConfig | None = Field(
        None, examples=[{"dataNodes": 3, "volumeGib": 100, "operatorCidrs": ["10.0.0.0/8"]}],
        description="Log search on the cluster this stack owns: an OpenSearch domain in the private subnets of "
        "three zones, fed through a Firehose stream by every application stack's log groups (each tenant's too) "
        "and the hosts'. `true` takes the defaults below; unset or `false`: no log search (CloudWatch Logs "
        "only). Only on a stack that owns its cluster.",
    )
    log_retention_days: int = Field(
        30, examples=[30],
        description="Retention of every log group, in days (a CloudWatch Logs retention value: 1, 3, 5, 7, 14, "
        "30, 60, 90, ...). Default: a month.",
    )
    security_log_retention_days: int = Field(
        SECURITY_LOG_RETENTION_MIN_DAYS, examples=[SECURITY_LOG_RETENTION_MIN_DAYS],
        description="Retention of the security and audit log groups, in days (a CloudWatch Logs retention "
        "value): VPC flow logs, ECS Exec sessions, the ECS event audit log and WAF logs; `logRetentionDays` "
        "covers the rest. Default: a year, the least the policy pack's `security-logs-kept-a-year` accepts "
        "(Checkov CKV_AWS_338).",
    )
    protect_stateful_resources: bool = Field(
        True, examples=[True],
        description="Protect and retain log groups, the access-log bucket and the dead-letter queue, so no "
        "destroy or refactor loses logs (turn off for throwaway stacks).",
    )
    app: AppConfig = Field(
        default_factory=AppConfig, examples=[{"defaultHosts": ["www.example.com"]}],
        description="Settings of the application stack as a whole: discovery namespace, default hosts, "
        "notifications, secrets path.",
    )
    services: dict[str, ServiceConfig] = Field(
        default_factory=dict,
        examples=[{"web": {"image": IMAGE_EXAMPLE, "port": 80, "public": {"hosts": ["www.example.com"]}}}],
        description="The stack's services by name (a DNS label: lowercase letters, digits, hyphens). With "
        "`public` a service is routed by the ALB; with only a `port` it is internal (discovery); without a port "
        "it is a worker. Each ECS service is named `<stack>-<name>`.",
    )
    schedules: dict[str, ScheduleConfig] = Field(
        default_factory=dict,
        examples=[{"nightly-report": {"service": "worker", "expression": "cron(0 3 * * ? *)"}}],
        description="Scheduled tasks by name: EventBridge Scheduler schedules that run a service's task "
        "definition with their own command, retries and a dead-letter queue.",
    )

    @field_validator("log_search", mode="before")
    @classmethod
    def _log_search_switch(cls, value: Any) -> Any:
        # `logSearch: true` turns it on with the defaults; `false` is the same as leaving it out.
        if value is True:
            return {}
        return None if value is False else value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return checked(value, unknown_name_problem(value, regions(), "an AWS region"))

    @field_validator("cluster_stack")
    @classmethod
    def _stack(cls, value: str | None) -> str | None:
        if value is not None and not STACK_NAME.match(value):
            raise ValueError(f"{value!r} is not a fully qualified stack name <org>/<project>/<stack>")
        return value

    @field_validator("log_retention_days", "security_log_retention_days")
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


def config_key(loc: tuple[Any, ...]) -> str:
    """The stack-file key of a location in ``StackConfig``: ``("cluster", "minSize")`` is ``odyssey:cluster.minSize``."""
    head, *rest = loc
    key = REGION_KEY if head == "region" else f"{NAMESPACE}:{head}"
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def unwrap(annotation: Any) -> Any:
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
        annotation = unwrap(annotation)
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


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _type_at(loc: tuple[Any, ...]) -> Any:
    """The type of the value at a location: a map entry's model (``("services", "web")`` is ``ServiceConfig``)."""
    annotation: Any = StackConfig
    for part in loc:
        annotation = unwrap(annotation)
        if _is_model(annotation):
            info = next((f for name, f in annotation.model_fields.items() if (f.alias or name) == part), None)
            if info is None:
                return None
            annotation = info.annotation
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            return None
    return unwrap(annotation)


def _example(loc: tuple[Any, ...]) -> str | None:
    _, info = _field_at(loc)
    if info is not None and info.examples:
        return f"{config_key(loc)}: {json.dumps(info.examples[0])}"
    annotation = unwrap(info.annotation) if info is not None else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        required = {
            (f.alias or n): f.examples[0] for n, f in annotation.model_fields.items() if f.is_required() and f.examples
        }
        return f"{config_key(loc)}: {json.dumps(required)}"
    return None


def _problem(error: Mapping[str, Any]) -> Problem:
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        parent = _type_at(loc[:-1])
        known = [f.alias or n for n, f in parent.model_fields.items()] if _is_model(parent) else []
        suggestion = difflib.get_close_matches(str(loc[-1]), known, n=1)
        if suggestion:
            meant = loc[:-1] + (suggestion[0],)
            return Problem(config_key(loc), f"unknown key; did you mean {config_key(meant)}?", _example(meant))
        return Problem(config_key(loc), f"unknown key; the keys here are {', '.join(known)}", None)
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "missing":
        message = "is required but not set"
    elif "input" in error and error["type"] not in ("value_error", "assertion_error"):
        message = f"{message} (got {json.dumps(error['input'], default=str)})"
    return Problem(config_key(loc) if loc else f"{NAMESPACE}", message, _example(loc))


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


def load_stack_config(project_dir: Path | None = None) -> StackConfig:
    """Read and validate this stack's configuration from the running Pulumi program.

    The CLI hands the program the config it read from the stack file; with
    ``project_dir``, that file is checked as text too (keys given twice, keys
    outside ``config:``), which the values alone cannot show.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    stack, project = pulumi.get_stack(), pulumi.get_project()
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    problems = stack_file_problems(project_dir / stack_file_name(stack)) if project_dir is not None else []
    problems += namespace_problems(values, NAMESPACE, project)
    try:
        config = parse_stack_config(raw_from_pulumi_config(values), stack=stack, project=project)
    except ConfigError as error:
        raise ConfigError(problems + error.problems) from None
    if problems:
        raise ConfigError(problems)
    return config
