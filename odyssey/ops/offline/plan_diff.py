"""Compare two offline plans (``odyssey plan --json``) the way the engine would diff them.

A refactor must not replace or delete a single resource. The engine matches a
planned resource to a deployed one by URN, or by one of its ``aliases``; a
resource matched by neither is a delete plus a create, and one matched with
other inputs is an update (or a replacement). This compares two plan files on
exactly those terms, so "the refactor changes nothing" is a command's verdict,
not a claim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class PlanDiff:
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    aliased: dict[str, str] = field(default_factory=dict)  # new URN -> the old URN it takes over
    changed: dict[str, list[str]] = field(default_factory=dict)  # URN -> input keys that differ
    # Local component resources hold no cloud state: adding or dropping one changes nothing in the account.
    components_created: list[str] = field(default_factory=list)
    components_deleted: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.created or self.deleted or self.changed)

    def lines(self) -> list[str]:
        out = [f"+ {urn}" for urn in self.created] + [f"- {urn}" for urn in self.deleted]
        out += [f"~ {urn}: {', '.join(keys)}" for urn, keys in self.changed.items()]
        out += [f"= {new} (alias of {old})" for new, old in self.aliased.items()]
        out += [f"+ {urn} (component, no cloud resource)" for urn in self.components_created]
        out += [f"- {urn} (component, no cloud resource)" for urn in self.components_deleted]
        return out


def alias_urn(alias: str | dict[str, Any], resource: dict[str, Any], stack: str, project: str) -> str | None:
    """The URN an alias names, computed as the engine does.

    The monitor records aliases as the SDK sends them: URN strings, or
    ``{"urn": ...}``, or ``{"spec": {...}}`` whose name, type, stack, project
    and parent default to the resource's own (``noParent`` for a former root
    resource). The engine builds the URN ``urn:pulumi:STACK::PROJECT::TYPES::NAME``
    where TYPES is the parent's type chain, ``$``, the type (the root stack
    adds no type).
    """
    if isinstance(alias, str):
        return alias
    if alias.get("urn"):
        return alias["urn"]
    spec = alias.get("spec")
    if not isinstance(spec, dict):
        return None
    parent = None if spec.get("noParent") else spec.get("parentUrn") or resource.get("parent")
    return engine_urn(spec.get("stack") or stack, spec.get("project") or project, parent,
                      spec.get("type") or resource["type"], spec.get("name") or resource["name"])


def engine_urn(stack: str, project: str, parent: str | None, type_: str, name: str) -> str:
    """``urn:pulumi:STACK::PROJECT::TYPES::NAME``: TYPES is the parent's type chain, ``$``, the type; the root
    stack adds no type."""
    types = type_
    if parent and _qualified_type(parent) != ROOT_STACK_TYPE:
        types = f"{_qualified_type(parent)}${type_}"
    return f"urn:pulumi:{stack}::{project}::{types}::{name}"


def _qualified_type(urn: str) -> str:
    return urn.split("::")[2]


def _local_component(resource: dict[str, Any]) -> bool:
    # A remote component (awsx) stands for cloud resources the mock never sees: it counts as one.
    return not resource.get("custom", True) and not resource.get("remote", False)


def diff_plans(before: dict[str, Any], after: dict[str, Any], compare: tuple[str, ...] = (
        "type", "custom", "inputs", "protect", "retainOnDelete", "ignoreChanges", "provider")) -> PlanDiff:
    """What ``after`` would do to a stack deployed as ``before``."""
    old = {r["urn"]: r for r in before["resources"]}
    diff = PlanDiff()
    matched: set[str] = set()
    for resource in after["resources"]:
        urn = resource["urn"]
        if urn in old:
            previous = old[urn]
        else:
            aliases = (alias_urn(a, resource, after["stack"], after["project"]) for a in resource.get("aliases") or [])
            alias = next((a for a in aliases if a in old), None)
            if alias is None:
                (diff.components_created if _local_component(resource) else diff.created).append(urn)
                continue
            diff.aliased[urn] = alias
            previous = old[alias]
        matched.add(previous["urn"])
        keys = _changed_keys(previous, resource, compare)
        if keys:
            diff.changed[urn] = keys
    for urn in sorted(set(old) - matched):
        (diff.components_deleted if _local_component(old[urn]) else diff.deleted).append(urn)
    diff.created.sort()
    diff.components_created.sort()
    return diff


def _changed_keys(before: dict[str, Any], after: dict[str, Any], compare: tuple[str, ...]) -> list[str]:
    keys = []
    for key in compare:
        if key == "inputs":
            a, b = before.get("inputs") or {}, after.get("inputs") or {}
            keys += [f"inputs.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif key == "provider":
            # A provider reference embeds the provider's URN and id; compare what it points at.
            if _provider_urn(before.get(key)) != _provider_urn(after.get(key)):
                keys.append(key)
        elif before.get(key) != after.get(key):
            keys.append(key)
    return keys


def _provider_urn(reference: Any) -> Any:
    return reference.split("::")[0:-1] if isinstance(reference, str) and "::" in reference else reference
