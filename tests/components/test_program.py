"""The whole program for each committed stack, planned offline as `make plan` does."""

import base64
import json
import os
import subprocess
import sys

import pytest

from components.machine.cluster_reference import ADDED_LATER, OwnerNotDeployedError, check_owner_outputs
from odyssey.config.base import ConfigError
from odyssey.contract import MachineLayerOutputs
from odyssey.domain.invariants import DAILY_CYCLE_SECONDS, ECS_AMI_IMAGE_PREFIX, MIN_AVAILABILITY_ZONES, MIN_INSTANCES
from odyssey.ops.offline.plan import run_plan
from tests.plans import (
    ALB,
    ASG,
    CAPACITY_PROVIDER,
    ECS_CLUSTER,
    LAUNCH_TEMPLATE,
    LISTENER,
    PROVIDER,
    ROOT,
    STACK_REFERENCE,
    VPC,
    of_type,
    one,
    plan_config,
)

KMS_KEY = "aws:kms/key:Key"


@pytest.fixture(scope="module")
def prod():
    return run_plan(ROOT, "prod")


@pytest.fixture(scope="module")
def stage():
    return run_plan(ROOT, "stage")


def test_prod_owns_the_machine_layer(prod):
    group = one(prod, ASG)["inputs"]
    assert group["minSize"] >= MIN_INSTANCES and group["maxInstanceLifetime"] == DAILY_CYCLE_SECONDS
    assert len(group["vpcZoneIdentifiers"]) == MIN_AVAILABILITY_ZONES
    assert len(one(prod, VPC)["inputs"]["availabilityZoneNames"]) == MIN_AVAILABILITY_ZONES
    template = one(prod, LAUNCH_TEMPLATE)["inputs"]
    assert template["imageId"].startswith(f"{ECS_AMI_IMAGE_PREFIX}amazon-linux-2023/")
    assert template["metadataOptions"]["httpTokens"] == "required"
    provider = one(prod, CAPACITY_PROVIDER)["inputs"]["autoScalingGroupProvider"]
    assert (provider["managedDraining"], provider["managedTerminationProtection"]) == ("ENABLED", "DISABLED")
    alb = one(prod, ALB)["inputs"]
    assert alb["accessLogs"]["enabled"] is True
    assert any(l["inputs"]["defaultActions"][0]["type"] == "redirect" for l in of_type(prod, LISTENER))
    assert "vm.max_map_count = 262144" in base64.b64decode(template["userData"]).decode()


APP_OUTPUTS = ["eventTopicArn", "listenerPriorities", "namespace", "serviceNames"]
DNS_OUTPUTS = ["ingress"]  # exported for the people who point DNS at the cluster, never read back


def test_prod_exports_the_whole_machine_layer_contract(prod):
    assert sorted(prod.outputs) == sorted(MachineLayerOutputs.output_names() + DNS_OUTPUTS + APP_OUTPUTS)
    assert all(value is not None for value in prod.outputs.values())
    assert prod.outputs["clusterStack"] == "organization/odyssey/prod"
    assert prod.outputs["listenerSlots"] == {"prod": 1, "stage": 2}
    assert prod.outputs["instanceType"] == "m7i.large"
    # The settings `odyssey status` and `cycle-audit` check the live cluster against are the stack's own.
    group = one(prod, ASG)["inputs"]
    assert (prod.outputs["minSize"], prod.outputs["maxInstanceLifetimeSeconds"]) == (
        group["minSize"], group["maxInstanceLifetime"])
    assert len(prod.outputs["availabilityZones"]) == len(group["vpcZoneIdentifiers"])


def test_every_aws_resource_uses_the_tagged_provider(prod):
    provider = one(prod, PROVIDER)
    tags = provider["inputs"]["defaultTags"]
    for key in ("Project", "Stack", "BillingDepartment", "BillingContact"):
        assert key in tags
    for record in prod.resources:
        if record["custom"] and record["type"].startswith("aws:"):
            assert record["provider"].startswith(provider["urn"] + "::"), record["urn"]


def test_no_two_keys_share_an_alias(prod):
    """KMS refuses a second alias of the same name in an account and region (AlreadyExistsException)."""
    aliases = [r["inputs"]["name"] for r in prod.resources if r["type"] == "aws:kms/alias:Alias"]
    assert len(aliases) >= 3 and len(set(aliases)) == len(aliases), aliases


def test_prod_protects_its_stateful_resources(prod):
    stateful = [r for r in prod.resources
                if r["type"] in ("aws:cloudwatch/logGroup:LogGroup", "aws:s3/bucket:Bucket", "aws:sqs/queue:Queue",
                                 "aws:opensearch/domain:Domain")]
    assert sorted(r["name"] for r in stateful) == [
        "app-event-stream-audit", "app-logs", "app-schedule-dlq", "cluster-exec", "cluster-hosts",
        "ingress-access-logs", "ingress-waf-logs", "log-search-audit", "log-search-backup", "log-search-domain",
        "log-search-errors", "network-flow-logs"]
    # The keys that encrypt logs and Exec sessions hold the ability to read them: protected like the data.
    keys = [r for r in prod.resources if r["type"] == KMS_KEY and r["name"] in ("logs-key", "cluster-exec-key")]
    assert len(keys) == 2
    assert all(r["protect"] and r["retainOnDelete"] for r in stateful + keys)


def test_stage_encrypts_its_logs_with_prods_key_and_may_decrypt_exec_sessions_with_prods_exec_key(stage, prod):
    groups = [r for r in stage.resources if r["type"] == "aws:cloudwatch/logGroup:LogGroup"]
    assert len(groups) == 2 and all(g["inputs"]["kmsKeyId"] == prod.outputs["logsKeyArn"] for g in groups)
    (exec_policy,) = [r for r in stage.resources if r["name"] == "app-api-task-exec"]
    assert {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": prod.outputs["execKeyArn"]} in json.loads(
        exec_policy["inputs"]["policy"])["Statement"]
    assert not [r for r in stage.resources if r["type"] == KMS_KEY and r["name"] != "app-events-key"]


def test_stage_runs_on_prods_cluster_and_creates_none(stage, prod):
    for typ in (ECS_CLUSTER, ASG, ALB, VPC, LAUNCH_TEMPLATE):
        assert not of_type(stage, typ)
    reference = one(stage, STACK_REFERENCE)
    assert reference["inputs"]["name"] == "organization/odyssey/prod"
    for name in ("clusterName", "clusterArn", "capacityProviderName", "httpsListenerArn", "vpcId", "minSize",
                 "maxInstanceLifetimeSeconds"):
        assert stage.outputs[name] == prod.outputs[name]
    assert stage.outputs["clusterStack"] == "organization/odyssey/prod"


def test_stage_on_its_own_cluster():
    plan = plan_config({"odyssey:cluster": {"minSize": 4}}, stack="stage")
    assert one(plan, ECS_CLUSTER)["inputs"]["name"] == "odyssey-stage"
    assert not of_type(plan, STACK_REFERENCE)


def test_owner_without_outputs_fails_clearly():
    with pytest.raises(OwnerNotDeployedError, match="Deploy it first"):
        plan_config(
            {"odyssey:clusterStack": "acme/odyssey/prod"}, references={"acme/odyssey/prod": {}},
        )


def test_owner_of_another_kind_fails_clearly():
    with pytest.raises(OwnerNotDeployedError, match="does not export"):
        check_owner_outputs("acme/other/prod", {"url": "https://example.com"})
    assert check_owner_outputs("x/y/z", {n: 1 for n in MachineLayerOutputs.output_names() if n != "httpsListenerArn"})


def test_owner_missing_from_this_project_is_a_config_problem_naming_the_stacks_here():
    with pytest.raises(ConfigError) as raised:
        plan_config({"odyssey:clusterStack": "organization/odyssey/prd"}, stack="dev")
    (problem,) = raised.value.problems
    assert problem.key == "odyssey:clusterStack"
    assert "names stack prd, which has no stack file here (stacks here: prod, stage)" in problem.message
    assert "did you mean organization/odyssey/prod?" in problem.message
    assert problem.example == "odyssey:clusterStack: organization/odyssey/prod"


def test_an_owner_of_another_project_is_refused_before_anything_registers():
    recorded = []
    with pytest.raises(ConfigError) as raised:
        plan_config({"odyssey:clusterStack": "organization/platform/prod"}, stack="dev", on_monitor=recorded.append)
    (problem,) = raised.value.problems
    assert problem.key == "odyssey:clusterStack" and "a stack of project platform" in problem.message
    assert problem.example == "odyssey:clusterStack: organization/odyssey/prod"
    assert recorded[0].records == []


def test_a_stack_cannot_own_itself():
    with pytest.raises(ConfigError, match="names this stack \\(dev\\) as its own cluster's owner"):
        plan_config({"odyssey:clusterStack": "organization/odyssey/dev"}, stack="dev")


def test_plans_are_the_same_whatever_the_hash_seed(tmp_path):
    """Two processes with different PYTHONHASHSEED (set iteration order) must write the same plan."""
    documents = []
    for seed in ("1", "2"):
        target = tmp_path / f"plan-{seed}.json"
        subprocess.run([sys.executable, "-m", "odyssey", "plan", "prod", "--skip-policies", "-q", "--json", str(target)],
                       cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed}, check=True, capture_output=True)
        documents.append(json.loads(target.read_text()))
    assert documents[0] == documents[1]


def test_urns_are_engine_shaped_at_every_depth(prod):
    """The engine puts the parent's whole type chain before a resource's type and leaves the root stack out."""
    by_urn = {r["urn"]: r for r in prod.resources}
    for record in prod.resources:
        parent = by_urn.get(record["parent"])
        chain = record["type"] if parent is None else f"{parent['urn'].split('::')[2]}${record['type']}"
        assert record["urn"] == f"urn:pulumi:prod::odyssey::{chain}::{record['name']}"
    service = next(r for r in prod.resources if r["type"] == "aws:ecs/service:Service" and r["name"].endswith("api-service"))
    assert service["urn"].split("::")[2] == "odyssey:app:AppStack$odyssey:service:Service$aws:ecs/service:Service"


def test_an_owner_deployed_before_it_exported_its_cluster_settings_still_serves(prod):
    """Its stacks pass the settings on as null; `odyssey status` and `cycle-audit` then use the invariants."""
    older = {name: value for name, value in prod.outputs.items() if name not in ADDED_LATER}
    plan = plan_config(
        {"odyssey:clusterStack": "acme/odyssey/prod"}, stack="stage", references={"acme/odyssey/prod": older},
    )
    assert (plan.outputs["minSize"], plan.outputs["maxInstanceLifetimeSeconds"]) == (None, None)
    assert plan.outputs["clusterName"] == prod.outputs["clusterName"]
    # Without the owner's keys the tenant's log groups go unencrypted (the pack reports them) until it redeploys.
    assert all("kmsKeyId" not in g["inputs"] for g in plan.resources if g["type"] == "aws:cloudwatch/logGroup:LogGroup")
    assert check_owner_outputs("acme/platform/prod", older) == older

