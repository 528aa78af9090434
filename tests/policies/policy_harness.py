"""Run policies two ways: by direct call, and through the analyzer protocol against the real pack process.

Resources are described once (``R``) and turned into what each path needs:
``PolicyResource`` objects for direct calls, or the plan records the offline
gate sends as ``Analyze``/``AnalyzeStack`` requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
)
from pulumi_policy.policy import PolicyCustomTimeouts
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from odyssey.ops.offline.gate import PolicyPackProcess, _Resources, _violations, build_policy_config
from policies.rules.catalog import POLICIES

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's sentinel for a value unknown during preview
BY_NAME = {p.name: p for p in POLICIES}


@dataclass
class R:
    type: str
    name: str
    props: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None
    deps: dict[str, list[str]] = field(default_factory=dict)
    protect: bool = False

    @property
    def urn(self) -> str:
        return f"urn:pulumi:test::odyssey::{self.type}::{self.name}"


def _urns(resources: list[R]) -> dict[str, str]:
    urns = {r.name: r.urn for r in resources}
    assert len(urns) == len(resources), "resource names in a case must be unique"
    return urns


def records(resources: list[R]) -> list[dict[str, Any]]:
    urns = _urns(resources)
    return [
        {
            "urn": r.urn, "type": r.type, "name": r.name, "parent": urns.get(r.parent) if r.parent else None,
            "custom": True, "provider": None, "inputs": r.props,
            "dependencies": sorted({urns[n] for names in r.deps.values() for n in names}),
            "propertyDependencies": {k: [urns[n] for n in names] for k, names in r.deps.items()},
            "protect": r.protect, "ignoreChanges": [], "aliases": [],
        }
        for r in resources
    ]


def _options(resource: R) -> PolicyResourceOptions:
    return PolicyResourceOptions(resource.protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


@dataclass(frozen=True)
class Outcome:
    violations: list[str]
    cannot_check: list[str]


def run_direct(policy_name: str, resources: list[R], config: dict[str, Any] | None = None) -> Outcome:
    """Call the policy's validate the way the SDK does, without the server."""
    policy = BY_NAME[policy_name]
    violations: list[str] = []
    cannot: list[str] = []
    if isinstance(policy, ResourceValidationPolicy):
        for resource in resources:
            args = ResourceValidationArgs(resource.type, unknown_checking_proxy(resource.props), resource.urn,
                                          resource.name, _options(resource), None, config)
            try:
                policy.validate(args, lambda message, urn=None: violations.append(message))
            except UnknownValueError as error:
                cannot.append(error.message)
        return Outcome(violations, cannot)
    _urns(resources)
    objects = {
        r.name: PolicyResource(r.type, unknown_checking_proxy(r.props), r.urn, r.name, _options(r), None, None, [], {})
        for r in resources
    }
    for r in resources:
        objects[r.name].parent = objects[r.parent] if r.parent else None
        objects[r.name].property_dependencies = {k: [objects[n] for n in names] for k, names in r.deps.items()}
    try:
        policy.validate(StackValidationArgs(list(objects.values()), config),
                        lambda message, urn=None: violations.append(message))
    except UnknownValueError as error:
        cannot.append(error.message)
    return Outcome(violations, cannot)


class Protocol:
    """The real pack process, driven over gRPC like the CLI (and the offline gate) drives it."""

    def __init__(self, pack_dir):
        self.pack = PolicyPackProcess(pack_dir, "odyssey", "test", "organization")
        self.info = self.pack.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def run(self, policy_name: str, resources: list[R], config: dict[str, Any] | None = None) -> Outcome:
        document: dict[str, Any] = {"all": "disabled", policy_name: {"enforcementLevel": "mandatory", **(config or {})}}
        self.pack.stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig=build_policy_config(self.info, document, "test")))
        plan = _Resources(records(resources))
        found = []
        for request in plan.analyze_requests():
            found += _violations(self.info.name, self.pack.stub.Analyze(request), request.urn)
        found += _violations(self.info.name, self.pack.stub.AnalyzeStack(plan.stack_request()))
        mine = [v for v in found if v.policy == policy_name]
        assert all(v.pack == "odyssey-machine-layer" for v in mine)
        return Outcome(
            [v.message.split("\n", 1)[1] for v in mine if v.enforcementLevel == "mandatory"],
            [v.message for v in mine if v.enforcementLevel == "advisory"],
        )

    def close(self) -> None:
        self.pack.close()
