"""The OpenSearch policies on prod's real plan: mandatory there, and each one fails the gate when the planned
domain breaks its control."""

from __future__ import annotations

import copy

import pytest

from odyssey.ops.offline.gate import run_gate
from odyssey.ops.offline.plan import run_plan
from policies.rules.opensearch import OPENSEARCH
from tests.plans import ROOT

PACK = ROOT / "policies"
DOMAIN = "aws:opensearch/domain:Domain"


@pytest.fixture(scope="module")
def prod_plan():
    return run_plan(ROOT, "prod")


def gate(plan, config="prod"):
    return run_gate(plan.resources, [(PACK, PACK / f"{config}.json")], plan.project, plan.stack, plan.organization,
                    plan.config, plan.secret_keys)


def test_every_opensearch_policy_is_mandatory_in_prod_and_the_committed_domain_passes(prod_plan):
    result = gate(prod_plan)
    levels = result.packs[0]["enforcementLevels"]
    assert {p.name: levels[p.name] for p in OPENSEARCH} == {p.name: "mandatory" for p in OPENSEARCH}
    assert result.mandatory == []


BREAKAGES = {
    "opensearch-encrypted-at-rest": lambda r: r["inputs"]["encryptAtRest"].update(enabled=False),
    "opensearch-in-vpc": lambda r: r["inputs"].pop("vpcOptions"),
    "opensearch-node-to-node-encrypted": lambda r: r["inputs"]["nodeToNodeEncryption"].update(enabled=False),
    "opensearch-error-logs-to-cloudwatch": lambda r: r["inputs"].update(logPublishingOptions=[
        o for o in r["inputs"]["logPublishingOptions"] if o["logType"] != "ES_APPLICATION_LOGS"]),
    "opensearch-audit-logs-to-cloudwatch": lambda r: r["inputs"].update(logPublishingOptions=[
        o for o in r["inputs"]["logPublishingOptions"] if o["logType"] != "AUDIT_LOGS"]),
    "opensearch-data-nodes-across-zones": lambda r: r["inputs"]["clusterConfig"]["zoneAwarenessConfig"].update(
        availabilityZoneCount=2.0),
    "opensearch-fine-grained-access-control": lambda r: r["inputs"]["advancedSecurityOptions"].update(enabled=False),
    "opensearch-https-modern-tls": lambda r: r["inputs"]["domainEndpointOptions"].update(
        tlsSecurityPolicy="Policy-Min-TLS-1-2-2019-07"),
    "opensearch-three-dedicated-masters": lambda r: r["inputs"]["clusterConfig"].update(dedicatedMasterCount=1.0),
    "stateful-resources-protected": lambda r: r.update(protect=False),
}


def test_each_broken_domain_fails_the_gate_with_its_own_policy(prod_plan):
    """One gate run over prod's plan plus one copy of its domain per breakage, each copy broken one way."""
    mutated = copy.deepcopy(prod_plan)
    domain = next(r for r in mutated.resources if r["type"] == DOMAIN)
    for policy, breakage in BREAKAGES.items():
        copy_ = copy.deepcopy(domain)
        copy_["name"] = f"broken-{policy}"
        copy_["urn"] = domain["urn"].rsplit("::", 1)[0] + f"::{copy_['name']}"
        breakage(copy_)
        mutated.resources.append(copy_)
    found: dict[str, set[str]] = {}
    for violation in gate(mutated).mandatory:
        found.setdefault(violation.urn.rsplit("::", 1)[1], set()).add(violation.policy)
    assert found == {f"broken-{policy}": {policy} for policy in BREAKAGES}
