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


ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def urn(stack: str, project: str, parent: str | None, typ: str, name: str) -> str:
    """A resource's URN in an offline plan: its type qualified by its parent's, unless the parent is the stack.

    The offline recorder names resources with this function, so an alias resolves
    to the URN its target was recorded under. Like Pulumi's MockMonitor it
    qualifies by the parent's own type only, where the engine prefixes the
    parent's whole chain (``A$B$C``); the two agree for children of top-level
    components, and a plan compared with a plan is compared on one rule.
    """
    parent_type = parent.split("::")[2].split("$")[-1] if parent else None
    qualified = typ if parent_type in (None, ROOT_STACK_TYPE) else f"{parent_type}${typ}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def alias_urn(spec: dict[str, Any], resource: dict[str, Any], stack: str, project: str) -> str:
    """The URN an alias spec names, as the engine resolves it: what the spec leaves out is the resource's own."""
    if spec.get("noParent"):
        parent = None
    else:
        parent = spec.get("parentUrn") or resource.get("parent")
    return urn(spec.get("stack") or stack, spec.get("project") or project, parent,
               spec.get("type") or resource["type"], spec.get("name") or resource["name"])


def _aliases(resource: dict[str, Any], stack: str, project: str) -> list[str]:
    # The mock monitor records aliases as the engine receives them: URN strings, or {"urn": ...} / {"spec": ...}.
    found = []
    for alias in resource.get("aliases") or []:
        if isinstance(alias, str):
            found.append(alias)
        elif isinstance(alias, dict) and alias.get("urn"):
            found.append(alias["urn"])
        elif isinstance(alias, dict) and isinstance(alias.get("spec"), dict):
            found.append(alias_urn(alias["spec"], resource, stack, project))
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
            alias = next((a for a in _aliases(resource, after["stack"], after["project"]) if a in old), None)
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
