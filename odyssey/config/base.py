"""The base of every stack-config model, and value types they share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pulumi.errors import RunError
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from odyssey.domain.images import pinned_image_problem
from odyssey.domain.quotas import ALB_CONDITION_VALUE_LENGTH_MAX, ECS_TMPFS_MOUNT_OPTIONS

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# An ALB host-header value: a name, or a `*.` wildcard over a domain.
HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
TMPFS_PATH = re.compile(r"^/[A-Za-z0-9_.@+/-]*$")
DNS_NAME = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class Model(BaseModel):
    """Stack-file keys are camelCase; unknown keys and wrong types are errors, never coerced or ignored."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True, strict=True
    )


def _number_as_text(value: Any) -> Any:
    # YAML writes `vm.max_map_count: 262144` as a number; these settings are text.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


# A setting's value: text, or a number written without quotes.
Setting = Annotated[str, BeforeValidator(_number_as_text)]


def _email(value: str) -> str:
    if not EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


# An email address, such as a billing contact or an alert subscriber.
Email = Annotated[str, AfterValidator(_email)]


T = TypeVar("T")


def checked(value: T, problem: str | None) -> T:
    """``value``, or, when ``problem`` says what is wrong with it, the ValueError pydantic reports against its key."""
    if problem:
        raise ValueError(problem)
    return value


def _pinned(value: str) -> str:
    return checked(value, pinned_image_problem(value))


# A container image that names one version: a deploy is a new version (design doc 000).
PinnedImage = Annotated[str, AfterValidator(_pinned)]


def check_hosts(value: list[str]) -> list[str]:
    bad = [h for h in value if not HOST.match(h)]
    if bad:
        raise ValueError(f"{', '.join(map(repr, bad))} not host names such as 'www.example.com'")
    long = [h for h in value if len(h) > ALB_CONDITION_VALUE_LENGTH_MAX]
    if long:
        raise ValueError(f"{', '.join(map(repr, long))} {'is' if len(long) == 1 else 'are'} longer than the {ALB_CONDITION_VALUE_LENGTH_MAX} characters "
                         "of an ALB host-header value")
    return value


def check_env_names(values: dict[str, Any]) -> dict[str, Any]:
    bad = [k for k in values if not ENV_NAME.match(k)]
    if bad:
        raise ValueError(f"{', '.join(map(repr, bad))} not valid environment variable names (letters, digits, _)")
    return values


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    example: str | None

    def __str__(self) -> str:
        text = f"{self.key}: {self.message}"
        return f"{text}\n    example: {self.example}" if self.example else text


class ConfigError(RunError):
    """The stack configuration is invalid; ``problems`` has one entry per problem.

    A ``RunError``: under the Pulumi CLI the program ends with this message alone, without a traceback.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = len(problems)
        header = f"invalid stack configuration ({count} problem{'s' if count != 1 else ''}):"
        super().__init__("\n".join([header, *(f"  - {p}" for p in problems)]))


class Tmpfs(Model):
    """One memory-backed writable mount of a container (ECS ``linuxParameters.tmpfs``)."""

    container_path: str = Field(
        examples=["/var/cache/nginx"],
        description="Absolute path in the container where the tmpfs is mounted.",
    )
    size_mib: int = Field(
        ge=1, examples=[64],
        description="Largest size of the mount in MiB (ECS `size`); what is written there is memory the "
        "container is charged for.",
    )
    mount_options: list[str] = Field(
        default_factory=list, examples=[["nosuid", "nodev", "noexec"]],
        description="Linux mount options, from the values ECS accepts (`nosuid`, `nodev`, `noexec`, `ro`, ...). "
        "Empty: the defaults.",
    )

    @field_validator("container_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not TMPFS_PATH.match(value) or "/../" in f"{value}/":
            raise ValueError(f"{value!r} is not an absolute container path such as '/var/cache/nginx'")
        return value

    @field_validator("mount_options")
    @classmethod
    def _options(cls, value: list[str]) -> list[str]:
        bad = [option for option in value if option not in ECS_TMPFS_MOUNT_OPTIONS]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} not tmpfs mount options ECS accepts "
                             f"({', '.join(ECS_TMPFS_MOUNT_OPTIONS)})")
        return value


def check_tmpfs(value: list[Tmpfs]) -> list[Tmpfs]:
    """A container mounts each path once."""
    paths = [mount.container_path for mount in value]
    twice = sorted({p for p in paths if paths.count(p) > 1})
    if twice:
        raise ValueError(f"mounts {', '.join(twice)} more than once")
    return value
