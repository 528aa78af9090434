"""The pack's per-request conversion cache (policies/conversions.py) changes no verdict.

Each run is a fresh interpreter: the cache is installed into the policy SDK's
module, so a comparison inside this process could not see the SDK without it.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from odyssey.ops.offline.plan import run_plan
from tests.plans import ROOT

ANALYZE = r"""
import hashlib, json, sys
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/policies"]
if sys.argv[3] == "cached":
    import conversions
    assert conversions.install() is None
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, StackValidationPolicy
from pulumi_policy.policy import _PolicyAnalyzerServicer
from pulumi_policy.proxy import _DictProxy, _ListProxy
from rules.catalog import PACK_NAME, POLICIES
from odyssey.ops.offline.gate import _Resources, build_policy_config

seen = []


def plain(value):  # for json: what the SDK's proxies wrap (unknowns included), objects' fields, protobuf lists
    if isinstance(value, (_DictProxy, _ListProxy)):
        return value["__target"]
    return vars(value) if hasattr(value, "__dict__") else list(value)


def describe(resource):  # what a stack policy can read of a resource, its links by URN
    return [resource.resource_type, resource.urn, resource.name,
            json.dumps(resource.props, default=plain, sort_keys=True),
            json.dumps(resource.opts, default=plain, sort_keys=True),
            resource.provider and resource.provider.urn,
            resource.parent and resource.parent.urn, [d.urn for d in resource.dependencies],
            {k: [d.urn for d in v] for k, v in resource.property_dependencies.items()}]


def record(args, report_violation):
    seen.append([describe(resource) for resource in args.resources])


# Two policies that write down what they were given, one first and one last.
recorders = [StackValidationPolicy(name=f"record-{i}", description="records", validate=record) for i in (1, 2)]
records = json.load(open(sys.argv[2]))
servicer = _PolicyAnalyzerServicer(PACK_NAME, "0.0.1", [recorders[0], *POLICIES, recorders[1]],
                                   EnforcementLevel.ADVISORY)
config = build_policy_config(servicer.GetAnalyzerInfo(empty_pb2.Empty(), None), {"all": "mandatory"}, "test")
servicer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=config), None)
resources = _Resources(records)
answers = [servicer.Analyze(request, None) for request in resources.analyze_requests()]
answers.append(servicer.AnalyzeStack(resources.stack_request(), None))
assert len(seen) == 2 and seen[0] == seen[1]
print(json.dumps({"answers": [json_format.MessageToDict(answer) for answer in answers], "resources": seen[0]},
                 sort_keys=True))
"""


def _broken(records: list[dict]) -> list[dict]:
    """Prod's plan with violations of resource and stack policies: no HTTPS listener, a writable web container,
    an unprotected log group and an unencrypted one."""
    broken = []
    for record in records:
        record = json.loads(json.dumps(record))
        if record["name"] == "ingress-https":
            continue
        if record["type"] == "aws:cloudwatch/logGroup:LogGroup":
            record["protect"] = False
            record["inputs"].pop("kmsKeyId", None)
            record["propertyDependencies"].pop("kmsKeyId", None)
        if record["name"] == "app-web-task" and record["type"] == "aws:ecs/taskDefinition:TaskDefinition":
            containers = json.loads(record["inputs"]["containerDefinitions"])
            for container in containers:
                container["readonlyRootFilesystem"] = False
            record["inputs"]["containerDefinitions"] = json.dumps(containers)
        broken.append(record)
    return broken


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_every_verdict_and_what_stack_policies_are_given_is_the_same_with_the_cache(stack, tmp_path):
    records = run_plan(ROOT, stack).resources
    if stack == "prod":
        records = _broken(records)
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records))
    runs = {mode: subprocess.run([sys.executable, "-c", ANALYZE, str(ROOT), str(path), mode], capture_output=True,
                                 text=True, cwd=ROOT) for mode in ("plain", "cached")}
    for run in runs.values():
        assert run.returncode == 0, run.stderr
    plain, cached = (json.loads(runs[mode].stdout) for mode in ("plain", "cached"))
    diagnostics = [d for answer in plain["answers"] for d in answer.get("diagnostics", [])]
    # The comparison covers real violations, of resource and stack policies.
    assert {d["policyName"] for d in diagnostics} >= ({"stateful-resources-protected"} if stack == "stage" else {
        "load-balancers-serve-https", "containers-read-only-root", "log-groups-encrypted"})
    # What each stack policy is given, every field and link, is the same too; and some links exist to compare.
    assert cached["resources"] == plain["resources"]
    assert any(r[6] for r in plain["resources"]) and any(r[7] for r in plain["resources"])
    assert any(r[8] for r in plain["resources"]) and any(r[5] for r in plain["resources"])
    assert cached == plain


def test_without_the_sdk_layout_it_expects_it_changes_nothing(monkeypatch):
    from pulumi_policy import policy

    import policies.conversions as conversions

    monkeypatch.delattr(policy, "_PolicyAnalyzerServicer")
    before = policy.json_format
    assert "not where pulumi_policy 1.21 has it" in conversions.install()
    assert policy.json_format is before
