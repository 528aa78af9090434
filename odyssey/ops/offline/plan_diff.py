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


@dataclass(frozen=True)
class PlanDiff:
    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    aliased: dict[str, str] = field(default_factory=dict)  # new URN -> the old URN it takes over
    changed: dict[str, list[str]] = field(default_factory=dict)  # URN -> input keys that differ

    @property
    def empty(self) -> bool:
        return not (self.created or self.deleted or self.changed)

    def lines(self) -> list[str]:
        out = [f"+ {urn}" for urn in self.created] + [f"- {urn}" for urn in self.deleted]
        out += [f"~ {urn}: {', '.join(keys)}" for urn, keys in self.changed.items()]
        out += [f"= {new} (alias of {old})" for new, old in self.aliased.items()]
        return out


STACK_TYPE = "pulumi:pulumi:Stack"


def child_urn(stack: str, project: str, parent_urn: str | None, type_: str, name: str) -> str:
    """The URN the engine gives a resource: its type qualified by its parent's, unless the parent is the stack."""
    qualified = type_
    if parent_urn:
        parent_type = parent_urn.split("::")[2]
        if parent_type != STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def alias_urns(resource: dict[str, Any], stack: str, project: str) -> list[str]:
    """The URNs a resource's aliases stand for, computed as the engine does.

    The SDK sends an alias as a URN or as a spec whose missing parts default to
    the resource's own: its name, type, stack, project and parent (an empty
    ``parentUrn`` without ``noParent`` means "the current parent").
    """
    found = []
    for alias in resource.get("aliases") or []:
        if isinstance(alias, str):
            found.append(alias)
        elif "urn" in alias:
            found.append(alias["urn"])
        else:
            spec = alias.get("spec", {})
            parent = None if spec.get("noParent") else (spec.get("parentUrn") or resource.get("parent"))
            found.append(child_urn(spec.get("stack") or stack, spec.get("project") or project, parent,
                                   spec.get("type") or resource["type"], spec.get("name") or resource["name"]))
    return found


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
            alias = next((a for a in alias_urns(resource, after["stack"], after["project"]) if a in old), None)
            if alias is None:
                diff.created.append(urn)
                continue
            diff.aliased[urn] = alias
            previous = old[alias]
        matched.add(previous["urn"])
        keys = _changed_keys(previous, resource, compare)
        if keys:
            diff.changed[urn] = keys
    diff.deleted.extend(sorted(set(old) - matched))
    diff.created.sort()
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
