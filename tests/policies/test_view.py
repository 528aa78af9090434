"""The stack view's indexed lookups answer exactly what a scan of every resource answers, in the same order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, StackValidationArgs

from policies.rules.view import Stack

TYPES = ("a:b:C", "a:b:D", "a:b:E")


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [])


@st.composite
def stacks(draw) -> list[PolicyResource]:
    """A forest of resources, each with a type, maybe a parent earlier in the list and property dependencies."""
    count = draw(st.integers(1, 30))
    resources: list[PolicyResource] = []
    for i in range(count):
        parent = draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None
        resource = PolicyResource(draw(st.sampled_from(TYPES)), {}, f"urn:{i}", f"r{i}", _options(), None,
                                  resources[parent] if parent is not None else None, [], {})
        for prop in ("bucket", "vpc"):
            targets = draw(st.lists(st.integers(0, count - 1), max_size=3))
            resource.property_dependencies[prop] = [f"urn:{t}" for t in targets]
        resources.append(resource)
    # Property dependencies point at resources (the SDK resolves URNs to objects), some after this one.
    by_urn = {r.urn: r for r in resources}
    for resource in resources:
        for prop, urns in resource.property_dependencies.items():
            resource.property_dependencies[prop] = [by_urn[u] for u in urns]
    return resources


def _scan_descendants(resources, ancestor, types):
    found = []
    for resource in resources:
        parent = resource.parent
        while parent is not None:
            if parent.urn == ancestor.urn:
                if not types or resource.resource_type in types:
                    found.append(resource)
                break
            parent = parent.parent
    return found


def _scan_dependents(resources, target, prop, types):
    return [r for r in resources if r.resource_type in types
            and any(dep.urn == target.urn for dep in r.property_dependencies.get(prop, []))]


@settings(max_examples=200, deadline=None)
@given(stacks(), st.lists(st.sampled_from(TYPES), max_size=3, unique=True))
def test_lookups_match_a_scan_of_every_resource(resources, types):
    stack = Stack(StackValidationArgs(resources, None, {}))
    assert stack.of_type(*types) == [r for r in resources if r.resource_type in types]
    for resource in resources:
        assert list(stack.descendants(resource, *types)) == _scan_descendants(resources, resource, types)
        for prop in ("bucket", "vpc", "none"):
            assert stack.dependents(resource, prop, *types) == _scan_dependents(resources, resource, prop, types)
