"""The offline policy gate: the real pack processes, driven over the analyzer protocol, on real plans."""

from __future__ import annotations

import copy
import io
import json
import os
import textwrap

import pytest
from typer.testing import CliRunner

import odyssey.ops.offline.gate as gate_module
from odyssey.ops.cli import EXIT_CONFIG, EXIT_POLICY, app
from odyssey.ops.offline.gate import GateError, GateSession, helper_cpus, run_gate
from odyssey.ops.offline.plan import run_plan
from odyssey.ops.offline.relay import ANSWER, ERROR, read_frames, write_frame
from tests.plans import ROOT, plan_config

PACK = ROOT / "policies"
runner = CliRunner()


def gate(plan, config="prod", packs=None):
    packs = packs or [(PACK, PACK / f"{config}.json")]
    return run_gate(plan.resources, packs, plan.project, plan.stack, plan.organization, plan.config, plan.secret_keys)


def mandatory_policies(result):
    return sorted({v.policy for v in result.mandatory})


@pytest.fixture(scope="module")
def prod_plan():
    return run_plan(ROOT, "prod")


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_committed_stacks_pass_with_no_mandatory_violation(stack):
    plan = run_plan(ROOT, stack)
    result = gate(plan, stack)
    assert result.mandatory == []
    (pack,) = result.packs
    assert pack["name"] == "odyssey-machine-layer" and pack["version"] == "0.1.0"
    assert pack["policies"] == 43


def test_prod_config_makes_the_baseline_mandatory_and_stage_advisory(prod_plan):
    levels = {stack: gate(prod_plan, stack).packs[0]["enforcementLevels"] for stack in ("prod", "stage")}
    # Every policy but the report of the containers ECS Exec keeps writable (advisory by design).
    assert {name for name, level in levels["prod"].items() if level != "mandatory"} == {"ecs-exec-writable-root"}
    assert levels["stage"]["min-instances"] == "mandatory"
    assert levels["stage"]["alb-deletion-protection"] == "advisory"


# Mutations the stack config can express go through the config, like a reviewer's bad change would.
@pytest.mark.parametrize(
    "config, policy",
    [
        ({"odyssey:cluster": {"minSize": 3, "maxSize": 12}}, "min-instances"),
        ({"odyssey:cluster": {"maxInstanceLifetimeSeconds": 0}}, "daily-cycling"),
        ({"odyssey:cluster": {"daemons": {"agent": {"image": "public.ecr.aws/a/agent:1.0", "memory": 64}}},
          "odyssey:loadBalancer": {"deletionProtection": False}}, "alb-deletion-protection"),
    ],
)
def test_mutated_configs_fail_the_gate(config, policy):
    result = gate(plan_config(config, stack="prod"))
    assert policy in mandatory_policies(result)


def _mutate(plan, typ, change):
    mutated = copy.deepcopy(plan)
    target = next(r for r in mutated.resources if r["type"] == typ)
    change(target, mutated)
    return mutated


def _add_task(plan, container=None, **props):
    record = {
        "urn": "urn:pulumi:prod::odyssey::aws:ecs/taskDefinition:TaskDefinition::web", "type":
        "aws:ecs/taskDefinition:TaskDefinition", "name": "web", "parent": None, "custom": True, "provider": None,
        "inputs": {"networkMode": "bridge", "containerDefinitions": json.dumps([container or {
            "name": "web", "image": "nginx:1.27.2", "logConfiguration": {"logDriver": "awslogs"}}]), **props},
        "dependencies": [], "propertyDependencies": {},
    }
    mutated = copy.deepcopy(plan)
    mutated.resources.append(record)
    return mutated


def _open_ssh(plan):
    mutated = copy.deepcopy(plan)
    sg = next(r for r in mutated.resources if r["name"] == "cluster-instances")
    mutated.resources.append({
        "urn": "urn:pulumi:prod::odyssey::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::ssh",
        "type": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "name": "ssh", "parent": None,
        "custom": True, "provider": None, "dependencies": [sg["urn"]],
        "propertyDependencies": {"securityGroupId": [sg["urn"]]},
        "inputs": {"ipProtocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrIpv4": "0.0.0.0/0"},
    })
    return mutated


# Mutations the config refuses (it validates AZs, images and has no such knobs) are applied to the
# plan's records, as a program change that bypassed the config would produce them: the gate is the
# second line of defence.
@pytest.mark.parametrize(
    "mutate, policy",
    [
        (lambda p: _mutate(p, "awsx:ec2:Vpc", lambda r, _: r["inputs"].update(
            availabilityZoneNames=["us-east-1a", "us-east-1b"])), "min-availability-zones"),
        (lambda p: _mutate(p, "aws:ecs/capacityProvider:CapacityProvider", lambda r, _: r["inputs"][
            "autoScalingGroupProvider"].update(managedTerminationProtection="ENABLED")), "daily-cycling"),
        (lambda p: _add_task(p, {"name": "web", "image": "nginx:1.27.2"}), "logging-enabled"),
        (lambda p: _add_task(p, volumes=[{"name": "data", "hostPath": "/data"}]), "stateless-nodes"),
        (lambda p: _add_task(p, {"name": "web", "image": "nginx", "logConfiguration": {"logDriver": "awslogs"}}),
         "versioned-images"),
        (_open_ssh, "no-ssh-rdp-ingress"),
        (_open_ssh, "no-world-ingress"),
    ],
)
def test_mutated_plans_fail_the_gate_with_the_right_policy(prod_plan, mutate, policy):
    assert policy in mandatory_policies(gate(mutate(prod_plan)))


def test_cli_prints_verdicts_and_exits_zero_for_prod():
    result = runner.invoke(app, ["plan", "prod", "--project-dir", str(ROOT), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "Policy gate: odyssey-machine-layer@0.1.0 (43 policies): no mandatory violations" in result.output


def test_cli_exits_non_zero_naming_the_policy_and_writes_the_violations(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    # Below the organisation's minimum, on nodes twice as big so the tenants' quotas still fit the cluster.
    (tmp_path / "Pulumi.prod.yaml").write_text((ROOT / "Pulumi.prod.yaml").read_text()
                                               .replace("minSize: 6", "minSize: 3").replace("m7i.large", "m7i.xlarge"))
    target = tmp_path / "plan.json"
    result = runner.invoke(app, ["plan", "prod", "--project-dir", str(tmp_path), "--policy-pack", str(PACK),
                                 "--policy-pack-config", str(PACK / "prod.json"), "--json", str(target)])
    assert result.exit_code == EXIT_POLICY
    assert "mandatory odyssey-machine-layer/min-instances" in result.output
    document = json.loads(target.read_text())
    violations = document["policies"]["violations"]
    assert document["policies"]["packs"][0]["name"] == "odyssey-machine-layer"
    found = next(v for v in violations if v["policy"] == "min-instances")
    assert set(found) == {"pack", "policy", "enforcementLevel", "urn", "message"}
    assert found["enforcementLevel"] == "mandatory" and found["urn"].endswith("::cluster-nodes")


@pytest.mark.parametrize(
    "document, fragment",
    [
        ({"min-instancs": "mandatory"}, "min-instancs: no policy of that name"),
        ({"all": "strict"}, 'enforcement level "strict" is not one of'),
        ({"min-instances": {"minimumInstances": "four"}}, "min-instances.minimumInstances: must be an integer"),
        ({"min-instances": {"minimumInstances": 0}}, "below the minimum 1"),
        ({"min-instances": {"minimum": 4}}, "min-instances.minimum: not a setting of this policy"),
        ({"stateless-nodes": {"allowedHostPaths": [1]}}, "allowedHostPaths[0]: must be a string"),
        ({"min-instances": 4}, "must be an enforcement level or an object"),
        ({"min-instances": "remediate"}, "does not run remediations"),
    ],
)
def test_bad_policy_config_is_one_clear_problem_each(prod_plan, tmp_path, document, fragment):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    with pytest.raises(GateError) as error:
        gate(prod_plan, packs=[(PACK, path)])
    lines = str(error.value).splitlines()
    assert lines[0] == "invalid policy configuration:" and len(lines) == 2
    assert fragment in lines[1]


def test_bad_policy_config_from_the_cli(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text("{not json")
    result = runner.invoke(app, ["plan", "prod", "--project-dir", str(ROOT), "-q", "--policy-pack-config", str(path)])
    assert result.exit_code == EXIT_CONFIG
    assert "not valid JSON" in result.output


def test_a_pack_that_cannot_run_stops_the_plan_and_is_what_the_cli_reports(tmp_path):
    # The pack starts in the background while the program imports: its error stops the plan at the first
    # resource and is what the CLI reports, exit 2, no plan printed.
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"no-such-policy": "mandatory"}))
    result = runner.invoke(app, ["plan", "prod", "--project-dir", str(ROOT), "--policy-pack-config", str(path)])
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "no-such-policy: no policy of that name" in result.output
    assert "Traceback" not in result.output and "the program failed" not in result.output
    assert "resources planned" not in result.output


def test_bad_gate_arguments(tmp_path):
    assert runner.invoke(app, ["plan", "prod", "--project-dir", str(ROOT), "--policy-pack", str(tmp_path)]).exit_code == 2
    result = runner.invoke(app, ["plan", "prod", "--project-dir", str(ROOT), "--skip-policies",
                                 "--policy-pack", str(PACK)])
    assert result.exit_code == 2 and "cannot be combined" in result.output


def pack_dir(path, source, settings="runtime: python\n"):
    """A policy pack directory as a third party writes one."""
    (path / "PulumiPolicy.yaml").write_text(settings)
    (path / "__main__.py").write_text(textwrap.dedent(source))
    return path


THIRD_PARTY_PACK = '''
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def no_big_groups(args, report):
    if args.resource_type == "aws:autoscaling/group:Group" and args.props["maxSize"] > 10:
        report("maxSize above 10")

PolicyPack("cost-guard", [ResourceValidationPolicy(
    name="small-groups", description="Groups stay small.", validate=no_big_groups,
    enforcement_level=EnforcementLevel.MANDATORY)])
'''


def test_any_policy_pack_directory_runs_alongside(prod_plan, tmp_path):
    pack_dir(tmp_path, THIRD_PARTY_PACK, settings="runtime: python\nversion: 2.0.0\n")
    result = gate(prod_plan, packs=[(PACK, PACK / "prod.json"), (tmp_path, None)])
    assert [p["name"] for p in result.packs] == ["odyssey-machine-layer", "cost-guard"]
    assert [(v.pack, v.policy) for v in result.mandatory] == [("cost-guard", "small-groups")]


CONFIG_READING_PACK = '''
import pulumi
from pulumi_policy import EnforcementLevel, PolicyPack, StackValidationPolicy

def region_is_known(args, report):
    region = pulumi.Config("aws").get("region")
    if region != "us-east-1":
        report(f"stack config not visible to the pack: aws:region is {region!r}")
    for _ in range(20000):
        print("a chatty pack writes a lot of output", flush=True)

PolicyPack("config-reader", [StackValidationPolicy(
    name="reads-stack-config", description="Reads the stack's config.", validate=region_is_known,
    enforcement_level=EnforcementLevel.MANDATORY)])
'''


def test_the_pack_sees_the_stack_config_and_may_print_freely(prod_plan, tmp_path):
    pack_dir(tmp_path, CONFIG_READING_PACK)
    result = gate(prod_plan, packs=[(tmp_path, None)])
    assert result.violations == []


def test_a_pack_that_cannot_start_is_a_clear_error(prod_plan, tmp_path):
    pack_dir(tmp_path, "raise SystemExit('missing dependency: acme_rules')\n")
    with pytest.raises(GateError, match="did not print its port: missing dependency: acme_rules"):
        gate(prod_plan, packs=[(tmp_path, None)])


CRASHING_PACK = '''
import os
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def crash(args, report):
    if args.resource_type == "aws:ecs/cluster:Cluster":
        os._exit(3)

PolicyPack("crasher", [ResourceValidationPolicy(
    name="crashes", description="Stops the pack mid-preview.", validate=crash,
    enforcement_level=EnforcementLevel.MANDATORY)])
'''


def test_a_pack_that_dies_while_analyzing_is_a_clear_error(prod_plan, tmp_path):
    pack_dir(tmp_path, CRASHING_PACK)
    with pytest.raises(GateError, match=rf"policy pack {tmp_path} failed: UNAVAILABLE"):
        gate(prod_plan, packs=[(tmp_path, None)])


def test_a_relay_that_stops_is_a_clear_error(prod_plan, tmp_path, monkeypatch):
    broken = tmp_path / "relay.py"
    broken.write_text("import sys\nsys.exit('relay: cannot reach the pack')\n")
    monkeypatch.setattr(gate_module, "RELAY", broken)
    with pytest.raises(GateError, match=r"the relay making its Analyze calls stopped \(exit 1, 0 of \d+ answers\): "
                                        r"relay: cannot reach the pack"):
        gate(prod_plan)


def test_relay_frames_round_trip_and_a_cut_frame_is_an_error():
    stream = io.BytesIO()
    frames = [(ANSWER, b""), (ANSWER, b"\x00" * 70_000), (ERROR, "UNAVAILABLE: gone".encode())]
    for kind, payload in frames:
        write_frame(stream, kind, payload)
    assert list(read_frames(io.BytesIO(stream.getvalue()))) == frames
    for cut in (3, len(stream.getvalue()) - 1):
        with pytest.raises(EOFError):
            list(read_frames(io.BytesIO(stream.getvalue()[:cut])))


@pytest.mark.parametrize(("allowed", "helpers"), [
    ({0}, None), ({0, 1}, {1}), ({3, 1}, {3}), ({2, 5, 7}, {5, 7}), (set(range(64)), set(range(1, 64))),
])
def test_helpers_are_kept_off_one_cpu_when_there_are_two(allowed, helpers):
    assert helper_cpus(allowed) == helpers


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs Linux and two CPUs this process may use")
def test_the_pack_and_its_relay_run_off_the_cpu_the_program_keeps():
    before = os.sched_getaffinity(0)
    with GateSession([(PACK, None)], "odyssey", "prod", "organization") as session:
        session.ready()
        (run,) = session.runs
        assert os.sched_getaffinity(run.process.process.pid) == helper_cpus(before)
        assert os.sched_getaffinity(run.relay.pid) == helper_cpus(before)
    assert os.sched_getaffinity(0) == before  # the calling process is left as it was
